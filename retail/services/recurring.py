"""What features above retail need for recurring sales (subscriptions): a sale recorded whole, already
paid by card (no register's cart, no open session: the money came from a charge of a saved card), and
the customer type a subscription gives its customer or takes back (`customers.customer_type_ensure` and
`customer_type_assign`)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Register
from accounts.services import audit_record
from accounts.tenancy import scoped
from posbackoffice.errors import DomainError
from retail.models import (
    Customer,
    PaymentType,
    Product,
    Sale,
    SaleLine,
    SalePayment,
    ShopSettings,
    StockMove,
)
from retail.pricing import line_amounts
from retail.services.catalogue import apply_stock_moves
from retail.services.sales import _next_receipt_number, _sale_after


@transaction.atomic
def sale_record_paid(*, actor, account, register_id: int, customer_id: int, lines: list[tuple[int, int, int]],
                     processor_payment_id: int, amount: int, source: str, now=None) -> Sale:
    """A completed sale of `lines` ((product id, quantity, unit price), the prices as charged) at the
    register's outlet, for the customer, paid in full by the card payment `processor_payment_id` (our
    payments.Payment row) of `amount`. Refused when the lines do not add up to what was charged."""
    now = now or timezone.now()
    register = scoped(Register, account).get(pk=register_id)
    customer = scoped(Customer, account).select_related("customer_type").get(pk=customer_id)
    if not lines:
        raise DomainError(_("The sale is empty."))
    card_type = scoped(PaymentType, account).filter(kind=PaymentType.Kind.CARD).order_by("pk").first()
    if card_type is None:
        raise DomainError(_("The shop has no card payment type."))
    include_tax = scoped(ShopSettings, account).values_list("prices_include_tax", flat=True).get()
    products = {p.pk: p for p in scoped(Product, account).select_related("tax_rate")
                .filter(pk__in=[product_id for product_id, _q, _p in lines])}
    # The sale records the customer's type, so the sales report groups it there; its discount is not taken:
    # the plan's recurring prices are what was charged. Completed from its first write: an open row would
    # collide with the cart a cashier has in progress on the same register (one open sale per register).
    sale = Sale(account=account, outlet_id=register.outlet_id, register=register, customer=customer,
                status=Sale.Status.COMPLETED, completed_at=now,
                customer_type_id=customer.customer_type_id,
                customer_type_name=customer.customer_type.name if customer.customer_type_id else "",
                currency=account.currency, prices_include_tax=include_tax, created_by=actor, created_at=now,
                note=source[:500])
    sale.save(force_insert=True)
    rows = []
    for position, (product_id, quantity, unit_price) in enumerate(lines, start=1):
        product = products[product_id]
        priced = line_amounts(quantity=quantity, unit_price=unit_price, discount=0,
                              rate_bp=product.tax_rate.rate_bp, prices_include_tax=include_tax)
        rows.append(SaleLine(account=account, sale=sale, product=product, name=product.name, sku=product.sku,
                             quantity=quantity, unit_price=unit_price, tax_rate_bp=product.tax_rate.rate_bp,
                             discount=priced.discount, tax_amount=priced.tax, line_total=priced.total,
                             position=position))
    SaleLine.objects.bulk_create(rows)
    sale.discount_total = sum(row.discount for row in rows)
    sale.tax_total = sum(row.tax_amount for row in rows)
    sale.total = sum(row.line_total for row in rows)
    sale.subtotal = sale.total - (0 if include_tax else sale.tax_total)
    if sale.total != amount:
        raise DomainError(_("The sale's total does not match the amount charged."))
    SalePayment.objects.create(account=account, sale=sale, payment_type=card_type, amount=amount,
                               created_by=actor, processor_payment_id=processor_payment_id, created_at=now)
    sale.paid_total = amount
    sale.receipt_number = _next_receipt_number(account, sale.outlet_id)
    apply_stock_moves(account=account, outlet_id=sale.outlet_id, reason=StockMove.Reason.SALE, sale=sale,
                      actor=actor, at=now, moves=[(row.product_id, -row.quantity) for row in rows])
    sale.save()
    audit_record(account=account, actor=actor, action="sale.completed", target=sale,
                 after=_sale_after(sale) | {"source": source}, at=now)
    return sale

