"""Pricing a sale in progress: each line's amounts (retail.pricing), the sale's totals, and the discount
of the customer's type.

A sale keeps the customer type it was made for and that type's discount (`Sale.customer_type`,
`customer_type_name`, `customer_discount_bp`), set when a customer is attached or taken off and again
when the customer's type, or that type's discount, changes while the sale is still open or parked. Every
line then carries its share (`SaleLine.customer_discount`), including lines added afterwards; once the
sale is completed nothing moves it any more. A sale with payments taken keeps the discount it was paid
with: the customer's discount can only change on it once the payments are removed.

This module sits below both the sale and the customer services (each imports it, neither of the other),
and is called inside their transactions with the sale already locked."""

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.services import audit_record
from accounts.tenancy import scoped
from posbackoffice.errors import DomainError
from retail.models import Customer, CustomerType, Sale, SaleLine
from retail.pricing import line_amounts

PRICED_FIELDS = ["discount", "customer_discount", "tax_amount", "line_total"]
# Sales whose customer discount still follows the customer: the cart and the carts put aside.
REPRICED_STATUSES = (Sale.Status.OPEN, Sale.Status.PARKED)


def priced(sale: Sale, line: SaleLine) -> SaleLine:
    """Set the line's discounts, tax and total from its quantity, price, rate and the sale's customer
    discount (retail.pricing)."""
    amounts = line_amounts(quantity=line.quantity, unit_price=line.unit_price, discount=line.discount,
                           rate_bp=line.tax_rate_bp, prices_include_tax=sale.prices_include_tax,
                           customer_discount_bp=sale.customer_discount_bp)
    line.discount, line.customer_discount = amounts.discount, amounts.customer_discount
    line.tax_amount, line.line_total = amounts.tax, amounts.total
    return line


def save_totals(sale: Sale, lines: list[SaleLine]) -> None:
    """The sale's totals as the sum of its lines (the cart as it now is). A caller prices and saves only the
    lines it changed: the others' amounts depend on nothing but themselves and the sale."""
    sale.discount_total = sum(line.discount + line.customer_discount for line in lines)
    sale.tax_total = sum(line.tax_amount for line in lines)
    sale.total = sum(line.line_total for line in lines)
    sale.subtotal = sale.total - (0 if sale.prices_include_tax else sale.tax_total)
    sale.save(update_fields=["discount_total", "tax_total", "total", "subtotal"])


def _discount_state(sale: Sale) -> dict:
    return {"customer_type": sale.customer_type_id, "customer_type_name": sale.customer_type_name,
            "discount_bp": sale.customer_discount_bp, "customer_discount": sale.discount_total}


def cart_customer_type_apply(*, actor, account, sale: Sale, customer_type: CustomerType | None, now=None) -> bool:
    """Make the locked open or parked `sale` follow `customer_type` (its customer's, or None): the type
    and its name are recorded, and when the discount differs every line is priced again and the change
    is audited (`sale.customer_discount_changed`: type, percentage and the discount's amount, before and
    after). Refused, changing nothing, when payments were taken and the discount would change. Answers
    whether anything changed."""
    discount_bp = customer_type.discount_bp if customer_type else 0
    wanted = (customer_type.pk if customer_type else None, customer_type.name if customer_type else "", discount_bp)
    if (sale.customer_type_id, sale.customer_type_name, sale.customer_discount_bp) == wanted:
        return False
    repricing = discount_bp != sale.customer_discount_bp
    if repricing and sale.payments.exists():
        raise DomainError(_("Payments were taken: remove them before changing the customer’s discount."))
    lines = list(sale.lines.all()) if repricing else []
    before = {**_discount_state(sale), "customer_discount": sum(line.customer_discount for line in lines)}
    sale.customer_type_id, sale.customer_type_name, sale.customer_discount_bp = wanted
    sale.save(update_fields=["customer_type", "customer_type_name", "customer_discount_bp"])
    if not repricing:
        return True
    for line in lines:
        priced(sale, line)
    SaleLine.objects.bulk_update(lines, PRICED_FIELDS)
    save_totals(sale, lines)
    audit_record(account=account, actor=actor, action="sale.customer_discount_changed", target=sale,
                 before=before, after={**_discount_state(sale),
                                       "customer_discount": sum(line.customer_discount for line in lines)}, at=now)
    return True


def lock_carts(account, *, customer_id: int | None = None, customer_type_id: int | None = None) -> list[Sale]:
    """The open and parked sales of a customer, or of every customer of a type (or that recorded the type),
    locked in primary-key order: what a change of type or discount prices again. Called before the customer
    row is locked, to keep the lock order of the sale services (sale, then customer)."""
    condition = Q()
    if customer_id is not None:
        condition |= Q(customer_id=customer_id)
    if customer_type_id is not None:
        condition |= Q(customer__customer_type_id=customer_type_id) | Q(customer_type_id=customer_type_id)
    carts = scoped(Sale, account).filter(status__in=REPRICED_STATUSES)
    # Found first, then locked by id: PostgreSQL locks no row reached through the outer join to the customer.
    ids = list(carts.filter(condition).values_list("pk", flat=True))
    return list(carts.filter(pk__in=ids).select_for_update().order_by("pk")) if ids else []


def carts_follow_customers(*, actor, account, carts: list[Sale], now=None) -> list[Sale]:
    """After a customer's type or a type's discount changed: each locked cart (lock_carts) follows its
    customer's type as it now is, except a cart with payments taken, which keeps the discount it was paid
    with. Answers the carts that changed."""
    customers = {customer.pk: customer for customer in scoped(Customer, account).select_related("customer_type")
                 .filter(pk__in={cart.customer_id for cart in carts if cart.customer_id})}
    changed = []
    for cart in carts:
        customer = customers.get(cart.customer_id)
        customer_type = customer.customer_type if customer else None
        if (customer_type.discount_bp if customer_type else 0) != cart.customer_discount_bp \
                and cart.payments.exists():
            continue
        if cart_customer_type_apply(actor=actor, account=account, sale=cart, customer_type=customer_type, now=now):
            changed.append(cart)
    return changed
