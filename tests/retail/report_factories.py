"""Builds shops and sales for the report tests through the real services (registers, sales,
catalogue, customers), so the rows look exactly as the sell screen leaves them."""

from dataclasses import dataclass

from accounts.models import Outlet, Register, User
from retail.models import Customer, GiftCard, PaymentType, Product, Sale, TaxRate
from retail.services.catalogue import product_create
from retail.services.customers import customer_create
from retail.services.registers import register_close, register_open
from retail.services.sale_reversals import sale_return, sale_void
from retail.services.sales import (
    sale_add_payment,
    sale_add_product,
    sale_complete,
    sale_park,
    sale_set_customer,
    sale_start,
)
from retail.services.shop import payment_type_create
from tests.factories import RegisterFactory, owner_of


@dataclass
class Shop:
    account: object
    actor: User
    outlet: Outlet
    register: Register
    cash: PaymentType
    cheque: PaymentType


def make_shop(account, *, cheque: bool = True) -> Shop:
    """A new outlet with one register; the account's cash type and (once per account) a custom "Chèque"."""
    actor = owner_of(account)
    register = RegisterFactory(outlet__account=account)
    cash = PaymentType.objects.get(account=account, kind=PaymentType.Kind.CASH)
    cheque_type = PaymentType.objects.filter(account=account, name="Chèque").first()
    if cheque and cheque_type is None:
        cheque_type = payment_type_create(actor=actor, account=account, name="Chèque")
    return Shop(account=account, actor=actor, outlet=register.outlet, register=register, cash=cash,
                cheque=cheque_type)


def product(shop: Shop, *, sku: str, name: str, price: int, rate_bp: int) -> Product:
    tax_rate = TaxRate.objects.get(account=shop.account, rate_bp=rate_bp)
    return product_create(actor=shop.actor, account=shop.account, sku=sku, name=name, price=price,
                          tax_rate_id=tax_rate.pk, track_inventory=False)


def customer(shop: Shop, *, first_name: str = "Camille", last_name: str = "Martin", **fields) -> Customer:
    return customer_create(actor=shop.actor, account=shop.account, first_name=first_name, last_name=last_name,
                           **fields)


def open_register(shop: Shop, opening_float: int = 0):
    return register_open(actor=shop.actor, account=shop.account, register_id=shop.register.pk,
                         opening_float=opening_float)


def close_register(shop: Shop, session, counted: dict[int, int], note: str = ""):
    return register_close(actor=shop.actor, account=shop.account, session_id=session.pk, counted=counted, note=note)


def _cart(shop: Shop, items) -> Sale:
    sale = sale_start(actor=shop.actor, account=shop.account, register_id=shop.register.pk)
    for item, quantity in items:
        sale_add_product(actor=shop.actor, account=shop.account, sale_id=sale.pk, product_id=item.pk,
                         quantity=quantity)
    return sale


def sell(shop: Shop, items, *, payments=None, buyer: Customer | None = None, on_account: bool = False) -> Sale:
    """Sell [(product, quantity), ...]. `payments` is [(payment type, amount), ...]; by default the
    whole amount in cash. With on_account, what is left unpaid goes on `buyer`'s account."""
    sale = _cart(shop, items)
    if buyer is not None:
        sale_set_customer(actor=shop.actor, account=shop.account, sale_id=sale.pk, customer_id=buyer.pk)
    sale.refresh_from_db()
    for payment_type, amount in payments if payments is not None else [(shop.cash, sale.total)]:
        sale_add_payment(actor=shop.actor, account=shop.account, sale_id=sale.pk, payment_type_id=payment_type.pk,
                         amount=amount)
    return sale_complete(actor=shop.actor, account=shop.account, sale_id=sale.pk, on_account=on_account)


def park(shop: Shop, items) -> Sale:
    sale = _cart(shop, items)
    return sale_park(actor=shop.actor, account=shop.account, sale_id=sale.pk)


def leave_in_progress(shop: Shop, items, *, cash_taken: int = 0) -> Sale:
    """A cart left on the register's screen (status open), with some cash already taken if asked."""
    sale = _cart(shop, items)
    if cash_taken:
        sale_add_payment(actor=shop.actor, account=shop.account, sale_id=sale.pk, payment_type_id=shop.cash.pk,
                         amount=cash_taken)
    return sale


def void(shop: Shop, sale: Sale) -> Sale:
    return sale_void(actor=shop.actor, account=shop.account, sale_id=sale.pk, reason="test")


def give_back(shop: Shop, sale: Sale, quantities: dict[Product, int], refund_type: PaymentType | None = None):
    """Return `quantities` of the sale's products; money given back by `refund_type` when any is due."""
    lines = {line.product_id: line.pk for line in sale.lines.all()}
    return sale_return(actor=shop.actor, account=shop.account, sale_id=sale.pk,
                       quantities={lines[item.pk]: qty for item, qty in quantities.items()},
                       refund_payment_type_id=refund_type.pk if refund_type else None)


def gift_card(account, *, code: str, balance: int, holder: Customer | None = None, expires_on=None) -> GiftCard:
    # No service issues gift cards yet (the reports only list them): a plain row is what exists.
    return GiftCard.objects.create(account=account, code=code, balance=balance, customer=holder,
                                   expires_on=expires_on)


def set_store_credit(holder: Customer, amount: int) -> Customer:
    # No service grants store credit yet (the reports only list it).
    Customer.objects.filter(pk=holder.pk).update(store_credit=amount)
    holder.refresh_from_db()
    return holder
