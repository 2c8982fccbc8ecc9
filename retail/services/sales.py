"""The life of a sale: the cart on a register (open), parked, completed or left on account, then
voided, returned or paid later. Lock order everywhere: sale, receipt sequence, stock rows (product
order), customer — so concurrent services never deadlock."""


from django.db import connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Register
from accounts.services import audit_record
from accounts.tenancy import scoped
from posbackoffice.errors import DomainError
from posbackoffice.money import format_money
from retail import sale_extensions
from retail.models import (
    Customer,
    PaymentType,
    Product,
    ReceiptSequence,
    RegisterSession,
    Sale,
    SaleLine,
    SalePayment,
    StockMove,
)
from retail.selectors.sell import empty_cart
from retail.services.cart_pricing import PRICED_FIELDS, cart_customer_type_apply, priced, save_totals
from retail.services.catalogue import apply_stock_moves
from retail.services.customers import clean_single_email, customer_create

MAX_QUANTITY = 9999


def _sale_after(sale: Sale) -> dict:
    return {"status": sale.status, "receipt": sale.receipt_number, "total": sale.total, "paid": sale.paid_total,
            "returned": sale.returned_total, "customer": sale.customer_id}


def _lock_sale(account, sale_id: int, *statuses) -> Sale:
    try:
        sale = scoped(Sale, account).select_for_update().get(pk=sale_id)
    except Sale.DoesNotExist:
        raise DomainError(_("This sale does not exist.")) from None
    if statuses and sale.status not in statuses:
        raise DomainError(_("This sale is %(status)s; it cannot be changed this way.")
                          % {"status": sale.get_status_display().lower()})
    return sale


def _open_session(register) -> RegisterSession | None:
    return RegisterSession.objects.filter(register=register, status=RegisterSession.Status.OPEN).first()


def _customer_discount_of(line: SaleLine) -> dict:
    """The customer type's discount of a line, for its audit row, when it has one."""
    return {"customer_discount": line.customer_discount} if line.customer_discount else {}


def _line_of(lines: list[SaleLine], line_id: int) -> SaleLine:
    line = next((line for line in lines if line.pk == line_id), None)
    if line is None:
        raise SaleLine.DoesNotExist("This line is not part of the sale.")
    return line


# ---- the cart ------------------------------------------------------------------------------------

def _start(*, actor, account, register_id: int, now) -> Sale:
    """The register's sale in progress, created empty if there is none (inside the caller's transaction).
    The register's open session is locked first and the cart looked for after, in a statement of its own:
    two first actions at once (two tabs, two cashiers) queue on the lock and the second finds the sale the
    first made, instead of both inserting and one failing on the one-open-sale-per-register constraint."""
    session = (scoped(RegisterSession, account).select_for_update(of=("self",)).select_related("register")
               .filter(register_id=register_id, status=RegisterSession.Status.OPEN).first())
    if session is None:
        scoped(Register, account).get(pk=register_id)  # another shop's register is not found
        raise DomainError(_("Open the register before selling."))
    sale = scoped(Sale, account).filter(register_id=register_id, status=Sale.Status.OPEN).first()
    if sale is not None:
        if sale.session_id != session.pk:  # the empty cart left when the register last closed
            sale.session = session
            sale.save(update_fields=["session"])
        return sale
    sale = empty_cart(account, session.register)
    sale.session, sale.created_by, sale.created_at = session, actor, now
    sale.save(force_insert=True)
    audit_record(account=account, actor=actor, action="sale.started", target=sale, after=_sale_after(sale), at=now)
    return sale


@transaction.atomic
def sale_start(*, actor, account, register_id: int, now=None) -> Sale:
    """The sale in progress on a register, created empty if there is none. The register must be open."""
    return _start(actor=actor, account=account, register_id=register_id, now=now or timezone.now())


def _lock_cart(*, actor, account, sale_id: int | None, register_id: int | None, now=None) -> Sale:
    """The open sale an action changes, locked: `sale_id`'s or, without one, the register's sale in
    progress, started in the action's own transaction (an action refused starts nothing)."""
    if sale_id is None:
        sale_id = _start(actor=actor, account=account, register_id=register_id, now=now or timezone.now()).pk
    return _lock_sale(account, sale_id, Sale.Status.OPEN)


def _check_quantity(quantity: int) -> None:
    if quantity <= 0:
        raise DomainError(_("The quantity must be at least 1."))
    if quantity > MAX_QUANTITY:
        raise DomainError(_("The quantity cannot be above %(max)s.") % {"max": MAX_QUANTITY})


def _check_cart_editable(sale: Sale) -> None:
    if sale.payments.exists():
        raise DomainError(_("Payments were taken: remove them before changing the cart."))


@transaction.atomic
def sale_add_product(*, actor, account, product_id: int, quantity: int = 1, sale_id: int | None = None,
                     register_id: int | None = None, now=None) -> SaleLine:
    """Add to the cart (to the product's line when it has one at the same price and no discount): the sale
    `sale_id`, or the sale in progress of `register_id`, started if there is none. Returns the line; its
    `sale` is the sale with its new totals."""
    sale = _lock_cart(actor=actor, account=account, sale_id=sale_id, register_id=register_id, now=now)
    _check_quantity(quantity)
    _check_cart_editable(sale)
    try:
        product = scoped(Product, account).select_related("tax_rate").get(pk=product_id, is_active=True)
    except Product.DoesNotExist:
        raise DomainError(_("This product does not exist or is no longer sold.")) from None
    # The cart's lines, read once: the line to add to (same product and price, no discount), the next
    # position and the new totals all come from them.
    lines = list(sale.lines.all())
    line = next((line for line in lines if line.product_id == product.pk and line.discount == 0
                 and line.unit_price == product.price), None)
    if line is not None:
        _check_quantity(line.quantity + quantity)
        line.quantity += quantity
        priced(sale, line).save(update_fields=["quantity", *PRICED_FIELDS])
    else:
        position = max((line.position for line in lines), default=0) + 1
        line = priced(sale, SaleLine(account=account, sale=sale, product=product, name=product.name, sku=product.sku,
                                      quantity=quantity, unit_price=product.price,
                                      tax_rate_bp=product.tax_rate.rate_bp, position=position))
        line.save(force_insert=True)
        lines.append(line)
    save_totals(sale, lines)
    audit_record(account=account, actor=actor, action="sale.line_added", target=sale,
                 after={"product": product.pk, "quantity": line.quantity, **_customer_discount_of(line)}, at=now)
    return line


@transaction.atomic
def sale_update_line(*, actor, account, sale_id: int, line_id: int, quantity: int, discount: int,
                     now=None) -> SaleLine:
    sale = _lock_sale(account, sale_id, Sale.Status.OPEN)
    _check_quantity(quantity)
    _check_cart_editable(sale)
    lines = list(sale.lines.all())
    line = _line_of(lines, line_id)
    if discount < 0:
        raise DomainError(_("A discount cannot be negative."))
    if discount > quantity * line.unit_price:
        raise DomainError(_("The discount cannot be more than the line’s amount."))
    before = {"quantity": line.quantity, "discount": line.discount, **_customer_discount_of(line)}
    line.quantity, line.discount = quantity, discount
    priced(sale, line).save(update_fields=["quantity", *PRICED_FIELDS])
    save_totals(sale, lines)
    audit_record(account=account, actor=actor, action="sale.line_changed", target=sale, before=before,
                 after={"line": line.pk, "quantity": quantity, "discount": discount, **_customer_discount_of(line)},
                 at=now)
    return line


@transaction.atomic
def sale_remove_line(*, actor, account, sale_id: int, line_id: int) -> None:
    sale = _lock_sale(account, sale_id, Sale.Status.OPEN)
    _check_cart_editable(sale)
    lines = list(sale.lines.all())
    line = _line_of(lines, line_id)
    before = {"product": line.product_id, "quantity": line.quantity}
    line.delete()
    save_totals(sale, [other for other in lines if other is not line])
    audit_record(account=account, actor=actor, action="sale.line_removed", target=sale, before=before)


@transaction.atomic
def sale_set_customer(*, actor, account, customer_id: int | None, sale_id: int | None = None,
                      register_id: int | None = None, now=None) -> Sale:
    """Attach the customer to (or, with None, take them off) the sale `sale_id`, or the sale in progress of
    `register_id`, started if there is none. The sale follows the customer's type: its discount is applied to
    every line, or taken off with the customer (cart_pricing)."""
    sale = _lock_cart(actor=actor, account=account, sale_id=sale_id, register_id=register_id, now=now)
    customer = (scoped(Customer, account).select_related("customer_type").get(pk=customer_id)
                if customer_id else None)
    before = {"customer": sale.customer_id}
    sale.customer = customer
    sale.save(update_fields=["customer"])
    audit_record(account=account, actor=actor, action="sale.customer_set", target=sale, before=before,
                 after={"customer": customer_id}, at=now)
    cart_customer_type_apply(actor=actor, account=account, sale=sale,
                             customer_type=customer.customer_type if customer else None, now=now)
    return sale


@transaction.atomic
def sale_set_new_customer(*, actor, account, sale_id: int | None = None, register_id: int | None = None,
                          **customer_data) -> Sale:
    """Quick-create a customer from the sell screen and attach them (to the sale `sale_id`, or the sale in
    progress of `register_id`), both or neither."""
    # A sale that cannot take a customer creates none.
    sale = _lock_cart(actor=actor, account=account, sale_id=sale_id, register_id=register_id)
    customer = customer_create(actor=actor, account=account, **customer_data)
    return sale_set_customer(actor=actor, account=account, sale_id=sale.pk, customer_id=customer.pk)


@transaction.atomic
def sale_add_payment(*, actor, account, sale_id: int, payment_type_id: int, amount: int,
                     processor_payment_id: int | None = None, now=None) -> SalePayment:
    """Record money taken at the register. Cash may exceed what is due: the difference is change.
    A card payment is recorded only by the payments app, once the processor has taken the money
    (`processor_payment_id` is our payments.Payment row; `sale_add_card_payment`). The payment's `sale`
    has the new paid total."""
    sale = _lock_sale(account, sale_id, Sale.Status.OPEN)
    try:
        payment_type = scoped(PaymentType, account).get(pk=payment_type_id, is_active=True)
    except PaymentType.DoesNotExist:
        raise DomainError(_("Choose a payment type.")) from None
    return _record_payment(actor=actor, account=account, sale=sale, payment_type=payment_type, amount=amount,
                           processor_payment_id=processor_payment_id, now=now or timezone.now())


# No savepoint: its one caller is a settlement's transaction (payments.settlement.pay_sale), which rolls
# back whole when this refuses (two statements fewer for every card payment).
@transaction.atomic(savepoint=False)
def sale_add_card_payment(*, actor, account, sale_id: int, amount: int, processor_payment_id: int,
                          online: bool = False, now=None) -> SalePayment:
    """The processor has taken a card payment (our payments.Payment row `processor_payment_id`): record it
    on its sale under the account's card payment type. A sale in progress stays open, paid, for the cashier
    to complete ("Complete sale", as after every way of paying); an on-account sale (paid online: a pay
    link) is settled (`sale_take_payment`). Every card settlement runs this: the sale is read once, locked."""
    card_type = scoped(PaymentType, account).filter(kind=PaymentType.Kind.CARD).order_by("pk").first()
    if card_type is None or not card_type.is_active:
        raise DomainError(_("Choose a payment type."))
    sale = _lock_sale(account, sale_id, Sale.Status.OPEN, Sale.Status.ON_ACCOUNT)
    if sale.status == Sale.Status.ON_ACCOUNT:
        return sale_take_payment(actor=actor, account=account, sale_id=sale.pk, payment_type_id=card_type.pk,
                                 amount=amount, processor_payment_id=processor_payment_id, online=online, now=now)
    return _record_payment(actor=actor, account=account, sale=sale, payment_type=card_type, amount=amount,
                           processor_payment_id=processor_payment_id, now=now or timezone.now())


def _record_payment(*, actor, account, sale: Sale, payment_type: PaymentType, amount: int,
                    processor_payment_id: int | None, now) -> SalePayment:
    """A payment on the open sale `sale`, locked by the caller."""
    # A card payment was started on a sale with lines; were they all removed since, the sale's total is
    # zero and "Nothing is left to pay" refuses it below: no statement spent on the lines.
    if processor_payment_id is None and not sale.lines.exists():
        raise DomainError(_("Add products before taking payment."))
    if payment_type.kind == PaymentType.Kind.ON_ACCOUNT:
        raise DomainError(_("Use “On account” to leave the rest owed by the customer."))
    if (payment_type.kind == PaymentType.Kind.CARD) != (processor_payment_id is not None):
        raise DomainError(_("Card payments go through the card processor."))
    due = sale.balance_due
    if amount <= 0:
        raise DomainError(_("The amount must be more than zero."))
    if due <= 0:
        raise DomainError(_("Nothing is left to pay."))
    tendered = None
    if amount > due:
        if not payment_type.is_cash:
            raise DomainError(_("The amount is more than what is left to pay (%(due)s).")
                              % {"due": format_money(due, sale.currency)})
        tendered, amount = amount, due
    payment = SalePayment.objects.create(account=account, sale=sale, payment_type=payment_type,
                                         session_id=sale.session_id, amount=amount, tendered=tendered, created_by=actor,
                                         processor_payment_id=processor_payment_id, created_at=now)
    sale.paid_total += amount
    sale.save(update_fields=["paid_total"])
    audit_record(account=account, actor=actor, action="sale.payment_added", target=sale,
                 after={"payment_type": payment_type.pk, "amount": amount, "tendered": tendered,
                        "processor_payment": processor_payment_id}, at=now)
    return payment


@transaction.atomic
def sale_remove_payment(*, actor, account, sale_id: int, payment_id: int) -> None:
    sale = _lock_sale(account, sale_id, Sale.Status.OPEN)
    payment = sale.payments.get(pk=payment_id)
    if payment.processor_payment_id:
        raise DomainError(_("A card payment cannot be removed; refund it instead."))
    sale.paid_total -= payment.amount
    sale.save(update_fields=["paid_total"])
    before = {"payment_type": payment.payment_type_id, "amount": payment.amount}
    payment.delete()
    audit_record(account=account, actor=actor, action="sale.payment_removed", target=sale, before=before)


# ---- completing ----------------------------------------------------------------------------------

def _next_receipt_number(account, outlet_id: int, count: int = 1) -> int:
    """The outlet's next receipt number, in one statement: the sequence row (made by the outlet's first
    sale) moves on by one and stays locked until the sale's transaction ends, so a second cashier's
    sale waits and takes the following number — numbers follow each other and never repeat. `count`:
    that many numbers taken at once (the first is returned), for sales recorded together."""
    table = connection.ops.quote_name(ReceiptSequence._meta.db_table)
    # Only our own quoted table in the SQL (nosec B608 below); every value is a parameter.
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (account_id, outlet_id, next_number) VALUES (%s, %s, %s) "  # nosec B608
                       f"ON CONFLICT (outlet_id) DO UPDATE SET next_number = {table}.next_number + %s "
                       "RETURNING next_number - %s", [account.pk, outlet_id, count + 1, count, count])
        return cursor.fetchone()[0]


@transaction.atomic
def sale_complete(*, actor, account, sale_id: int, on_account: bool = False, receipt_email: str = "",
                  options: dict[str, dict[str, str]] | None = None, now=None) -> Sale:
    """Finish the sale in one transaction: receipt number, stock moves, and — with on_account — the
    unpaid remainder added to the customer's balance. `options`: the values of the on-account completion
    options apps above retail registered (retail.sale_extensions), told of the completed sale in this
    transaction (a pay link e-mailed with the receipt); what they refuse completes nothing."""
    sale = _lock_sale(account, sale_id, Sale.Status.OPEN)
    lines = list(sale.lines.values_list("product_id", "quantity"))
    if not lines:
        raise DomainError(_("The sale is empty."))
    receipt_email = clean_single_email(receipt_email)
    due = sale.balance_due
    if on_account:
        if sale.customer_id is None:
            raise DomainError(_("Add a customer to the sale to put it on account."))
        if due <= 0:
            raise DomainError(_("Nothing is left to pay; complete the sale normally."))
    elif due > 0:
        raise DomainError(_("%(due)s is still to pay. Take a payment or put the rest on account.")
                          % {"due": format_money(due, sale.currency)})
    now = now or timezone.now()
    sale.receipt_number = _next_receipt_number(account, sale.outlet_id)
    apply_stock_moves(account=account, outlet_id=sale.outlet_id, reason=StockMove.Reason.SALE, sale=sale,
                      actor=actor, at=now, moves=[(product_id, -quantity) for product_id, quantity in lines])
    if on_account:
        customer = Customer.objects.select_for_update().get(pk=sale.customer_id)
        customer.balance += due
        customer.save(update_fields=["balance"])
        sale.status = Sale.Status.ON_ACCOUNT
    else:
        sale.status = Sale.Status.COMPLETED
    sale.completed_at = now
    sale.save(update_fields=["receipt_number", "status", "completed_at"])
    audit_record(account=account, actor=actor, action="sale.completed", target=sale, after=_sale_after(sale),
                 at=now)
    if receipt_email:
        from retail.services.receipts import queue_receipt_email

        queue_receipt_email(sale=sale, to=receipt_email)
    if options:
        sale_extensions.sale_completed(actor=actor, account=account, sale=sale, options=options)
    return sale


# ---- parking -------------------------------------------------------------------------------------

@transaction.atomic
def sale_park(*, actor, account, sale_id: int, note: str = "", now=None) -> Sale:
    now = now or timezone.now()
    sale = _lock_sale(account, sale_id, Sale.Status.OPEN)
    if not sale.lines.exists():
        raise DomainError(_("There is nothing to park."))
    if sale.payments.exists():
        raise DomainError(_("Payments were taken: complete the sale or remove them before parking."))
    _refuse_while_a_card_payment_is_pending(sale)
    sale.status, sale.parked_at, sale.note = Sale.Status.PARKED, now, note.strip()[:500]
    sale.save(update_fields=["status", "parked_at", "note"])
    audit_record(account=account, actor=actor, action="sale.parked", target=sale, after=_sale_after(sale), at=now)
    return sale


@transaction.atomic
def sale_resume(*, actor, account, sale_id: int, register_id: int) -> Sale:
    sale = _lock_sale(account, sale_id, Sale.Status.PARKED)
    register = scoped(Register, account).select_related("outlet").get(pk=register_id)
    if register.outlet_id != sale.outlet_id:
        raise DomainError(_("This sale was parked at another outlet."))
    # The open session locked, as sale_start does, so a cart started meanwhile is seen (and not doubled).
    session = RegisterSession.objects.select_for_update().filter(register=register,
                                                                 status=RegisterSession.Status.OPEN).first()
    if session is None:
        raise DomainError(_("Open the register before selling."))
    current = scoped(Sale, account).select_for_update().filter(register=register,
                                                      status=Sale.Status.OPEN).first()
    if current is not None:
        if current.lines.exists():
            raise DomainError(_("Finish or park the sale in progress first."))
        current.delete()
    sale.status, sale.register, sale.session, sale.parked_at = Sale.Status.OPEN, register, session, None
    sale.save(update_fields=["status", "register", "session", "parked_at"])
    audit_record(account=account, actor=actor, action="sale.resumed", target=sale, after=_sale_after(sale))
    return sale


def _refuse_while_a_card_payment_is_pending(sale: Sale) -> None:
    """A card payment still waiting for its answer may yet pay this sale: it must stay the cart until that
    answer is known. (Retail does not import payments: it asks the other side of Payment.sale.)"""
    if sale.processor_payments.filter(status="pending").exists():
        raise DomainError(_("A card payment for this sale is still pending: wait for its result, or cancel it, "
                            "before putting the sale aside."))


@transaction.atomic
def sale_discard(*, actor, account, sale_id: int) -> None:
    """Throw the cart away. It is deleted, unless something else still refers to it — a card payment that
    was declined stays in Finance › Payments with the sale it was for — then it is kept, with its lines, as
    `discarded`: never completed, no receipt, out of the history and the reports."""
    sale = _lock_sale(account, sale_id, Sale.Status.OPEN, Sale.Status.PARKED)
    if sale.payments.exists():
        raise DomainError(_("Payments were taken: remove them before discarding the sale."))
    _refuse_while_a_card_payment_is_pending(sale)
    before = {**_sale_after(sale), "lines": list(sale.lines.values_list("product_id", "quantity"))}
    try:
        with transaction.atomic():
            audit_record(account=account, actor=actor, action="sale.discarded", target=sale, before=before)
            sale.delete()  # its lines go with it
    except ProtectedError:  # refused before anything was deleted; the savepoint took the audit row back
        sale.status = Sale.Status.DISCARDED
        sale.save(update_fields=["status"])
        audit_record(account=account, actor=actor, action="sale.discarded", target=sale, before=before,
                     after=_sale_after(sale))


@transaction.atomic
def sale_take_payment(*, actor, account, sale_id: int, payment_type_id: int, amount: int,
                      processor_payment_id: int | None = None, online: bool = False, now=None) -> SalePayment:
    """A later payment on an on-account sale; settles the customer's balance by the same amount. An
    `online` payment (a customer paying their pay link) is recorded on the sale's register, which it opens
    with a zero float when it is closed (registers.register_open_for_online_payment)."""
    now = now or timezone.now()
    sale = _lock_sale(account, sale_id, Sale.Status.ON_ACCOUNT)
    try:
        payment_type = scoped(PaymentType, account).get(pk=payment_type_id, is_active=True)
    except PaymentType.DoesNotExist:
        raise DomainError(_("Choose a payment type.")) from None
    if payment_type.kind == PaymentType.Kind.ON_ACCOUNT:
        raise DomainError(_("Choose how the customer pays."))
    if payment_type.kind == PaymentType.Kind.CARD and processor_payment_id is None:
        raise DomainError(_("Card payments go through the card processor."))
    if amount <= 0:
        raise DomainError(_("The amount must be more than zero."))
    if amount > sale.balance_due:
        raise DomainError(_("The amount is more than what is left to pay (%(due)s).")
                          % {"due": format_money(sale.balance_due, sale.currency)})
    session = _open_session(sale.register)
    if payment_type.is_cash and session is None:
        raise DomainError(_("Open the register to take cash."))
    if online and session is None:
        from retail.services.registers import register_open_for_online_payment

        session = register_open_for_online_payment(account=account, register_id=sale.register_id, now=now)
    before = _sale_after(sale)
    payment = SalePayment.objects.create(account=account, sale=sale, payment_type=payment_type, session=session,
                                         amount=amount, created_by=actor, processor_payment_id=processor_payment_id,
                                         created_at=now)
    customer = Customer.objects.select_for_update().get(pk=sale.customer_id)
    customer.balance -= amount
    customer.save(update_fields=["balance"])
    sale.paid_total += amount
    if sale.balance_due <= 0:
        sale.status = Sale.Status.COMPLETED
    sale.save(update_fields=["paid_total", "status"])
    audit_record(account=account, actor=actor, action="sale.payment_taken", target=sale, before=before,
                 after={**_sale_after(sale), "payment_type": payment_type.pk, "amount": amount}, at=now)
    sale_extensions.sale_changed(account=account, sale=sale, event="payment_taken", actor=actor,
                                 processor_payment_id=processor_payment_id, at=now)
    return payment
