"""What features above retail need for recurring sales (subscriptions): a sale recorded whole, already
paid by card (no register's cart, no open session: the money came from a charge of a saved card), and
the customer type a subscription gives its customer or takes back (`customers.customer_type_ensure` and
`customer_type_assign`)."""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Register
from accounts.services import audit_record_many, audit_row
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
from retail.services.catalogue import apply_stock_moves_many
from retail.services.sales import _next_receipt_number, _sale_after


@dataclass(frozen=True)
class PaidSale:
    """One sale for `sales_record_paid`: `lines` ((product id, quantity, unit price), the prices as
    charged) at the register's outlet, for the customer, paid in full by the card payment
    `processor_payment_id` (our payments.Payment row) of `amount`."""

    actor: object
    register_id: int
    customer_id: int
    lines: list
    processor_payment_id: int
    amount: int
    source: str
    now: datetime.datetime


@transaction.atomic
def sale_record_paid(*, actor, account, register_id: int, customer_id: int, lines: list[tuple[int, int, int]],
                     processor_payment_id: int, amount: int, source: str, now=None) -> Sale:
    """A completed sale of `lines` ((product id, quantity, unit price), the prices as charged) at the
    register's outlet, for the customer, paid in full by the card payment `processor_payment_id` (our
    payments.Payment row) of `amount`. Refused when the lines do not add up to what was charged."""
    return sales_record_paid(account=account, sales=[PaidSale(
        actor=actor, register_id=register_id, customer_id=customer_id, lines=lines,
        processor_payment_id=processor_payment_id, amount=amount, source=source, now=now or timezone.now())])[0]


@transaction.atomic
def sales_record_paid(*, account, sales: list[PaidSale]) -> list[Sale]:
    """`sale_record_paid` for many sales of one account at once (a batched billing run): the same checks
    and rows, each kind written with one INSERT (sales, lines, card payments, stock moves, audit rows), the
    receipt numbers taken with one statement per outlet. Refused whole when one sale is refused."""
    if any(not paid.lines for paid in sales):
        raise DomainError(_("The sale is empty."))
    registers = {register.pk: register for register in
                 scoped(Register, account).filter(pk__in={paid.register_id for paid in sales})}
    customers = {customer.pk: customer for customer in scoped(Customer, account).select_related("customer_type")
                 .filter(pk__in={paid.customer_id for paid in sales})}
    card_type = scoped(PaymentType, account).filter(kind=PaymentType.Kind.CARD).order_by("pk").first()
    if card_type is None:
        raise DomainError(_("The shop has no card payment type."))
    include_tax = scoped(ShopSettings, account).values_list("prices_include_tax", flat=True).get()
    products = {p.pk: p for p in scoped(Product, account).select_related("tax_rate")
                .filter(pk__in={product_id for paid in sales for product_id, _q, _p in paid.lines})}
    built = [_paid_sale(account, paid, registers[paid.register_id], customers[paid.customer_id], products,
                        include_tax) for paid in sales]
    by_outlet: dict[int, list[Sale]] = {}
    for sale, _rows in built:
        by_outlet.setdefault(sale.outlet_id, []).append(sale)
    for outlet_id, outlet_sales in by_outlet.items():
        first = _next_receipt_number(account, outlet_id, count=len(outlet_sales))
        for number, sale in enumerate(outlet_sales, start=first):
            sale.receipt_number = number
    records = Sale.objects.bulk_create([sale for sale, _rows in built])
    SaleLine.objects.bulk_create([row for _sale, rows in built for row in rows])
    SalePayment.objects.bulk_create([
        SalePayment(account=account, sale=sale, payment_type=card_type, amount=paid.amount, created_by=paid.actor,
                    processor_payment_id=paid.processor_payment_id, created_at=paid.now)
        for (sale, _rows), paid in zip(built, sales, strict=True)])
    for outlet_id in by_outlet:
        apply_stock_moves_many(account=account, outlet_id=outlet_id, reason=StockMove.Reason.SALE, at=sales[0].now,
                               moves=[(row.product_id, -row.quantity, sale, paid.actor)
                                      for (sale, rows), paid in zip(built, sales, strict=True)
                                      if sale.outlet_id == outlet_id for row in rows])
    audit_record_many([audit_row(account=account, actor=paid.actor, action="sale.completed", target=sale,
                                 after=_sale_after(sale) | {"source": paid.source}, at=paid.now)
                       for sale, paid in zip(records, sales, strict=True)])
    return records


def _paid_sale(account, paid: PaidSale, register, customer, products, include_tax: bool) -> tuple[Sale, list]:
    """The completed sale (not saved) and its lines; refused when the lines do not add up to the amount."""
    # The sale records the customer's type, so the sales report groups it there; its discount is not taken:
    # the plan's recurring prices are what was charged. Completed from its first write: an open row would
    # collide with the cart a cashier has in progress on the same register (one open sale per register).
    sale = Sale(account=account, outlet_id=register.outlet_id, register=register, customer=customer,
                customer_type_id=customer.customer_type_id,
                customer_type_name=customer.customer_type.name if customer.customer_type_id else "",
                currency=account.currency, prices_include_tax=include_tax, created_by=paid.actor,
                created_at=paid.now, note=paid.source[:500], status=Sale.Status.COMPLETED, completed_at=paid.now)
    rows = []
    for position, (product_id, quantity, unit_price) in enumerate(paid.lines, start=1):
        product = products[product_id]
        priced = line_amounts(quantity=quantity, unit_price=unit_price, discount=0,
                              rate_bp=product.tax_rate.rate_bp, prices_include_tax=include_tax)
        rows.append(SaleLine(account=account, sale=sale, product=product, name=product.name, sku=product.sku,
                             quantity=quantity, unit_price=unit_price, tax_rate_bp=product.tax_rate.rate_bp,
                             discount=priced.discount, tax_amount=priced.tax, line_total=priced.total,
                             position=position))
    sale.discount_total = sum(row.discount for row in rows)
    sale.tax_total = sum(row.tax_amount for row in rows)
    sale.total = sum(row.line_total for row in rows)
    sale.subtotal = sale.total - (0 if include_tax else sale.tax_total)
    if sale.total != paid.amount:
        raise DomainError(_("The sale's total does not match the amount charged."))
    sale.paid_total = paid.amount
    return sale, rows
