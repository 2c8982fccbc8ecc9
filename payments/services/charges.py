"""A charge from our row to the processor's answer (steps 1 and 2 of the money flow, payments.services):
`payment_create` writes the pending Payment and its charge attempt, `payment_charge` sends it with the
attempt's key; then the cardholder's confirmation (`payment_finish_action`) or giving it up
(`payment_cancel`)."""

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.guard import require_customer_money_allowed
from accounts.services import audit_row
from accounts.tenancy import scoped
from payments import settlement
from payments.gateway.base import PaymentStatus, ProcessorPayment
from payments.gateway.errors import GatewayError, InvalidRequest, ProcessorUnavailable
from payments.ids import payment_method_id_clean
from payments.messages import failure_message
from payments.models import Payment, PaymentAttempt
from payments.services.attempts import _gateway, _holding, _payment_state, _with_retries
from payments.services.settling import payment_settle
from posbackoffice.errors import DomainError
from posbackoffice.money import format_money


def charge_key(payment: Payment) -> str:
    return f"payment-{payment.pk}-charge"


def _metadata(payment: Payment) -> dict:
    """Sent with every processor object, so a webhook finds our row even if our copy of the
    processor's id was lost in a crash."""
    return {"payment": str(payment.pk), "account": str(payment.account_id)}


def _purpose_and_payee(*, purpose: str | None, purpose_ref: int | None, sale_id: int | None) -> tuple[str, str]:
    """The purpose a new payment records, and its payee; ValueError for a combination no caller may ask
    for, NotRegistered for a purpose no app settles (the money could never be accounted for)."""
    if sale_id is not None:
        if purpose not in (None, Payment.Purpose.SALE):
            raise ValueError(f"a payment for a sale cannot have the purpose {purpose!r}")
        purpose = Payment.Purpose.SALE
    elif purpose is None:
        purpose = Payment.Purpose.NONE
    elif purpose == Payment.Purpose.SALE:
        raise ValueError("a sale's payment names its sale (sale_id)")
    if purpose not in Payment.Purpose.values:
        raise ValueError(f"unknown payment purpose {purpose!r}")
    if (purpose_ref is not None) != (purpose in Payment.REFERENCED_PURPOSES):
        raise ValueError(f"purpose_ref goes with {', '.join(Payment.REFERENCED_PURPOSES)} only, and they need it")
    settlement.handler_for(purpose)
    payee = Payment.Payee.PLATFORM if purpose == Payment.Purpose.MERCHANT_INVOICE else Payment.Payee.MERCHANT
    return purpose, payee


@transaction.atomic
def payment_create(*, actor, account, amount: int, currency: str, method: str, mode: str,
                   payment_method_id: str = "", processor_customer_id: str = "", sale_id: int | None = None,
                   customer_id: int | None = None, outlet_id: int | None = None, register_id: int | None = None,
                   description: str = "", receipt_email: str = "", save_card: bool = False,
                   purpose: str | None = None, purpose_ref: int | None = None) -> Payment:
    """Our row first: a pending Payment and its charge attempt, committed before any processor call.
    What it pays for: a sale (`sale_id`), the row `purpose_ref` of an app above payments (`purpose`
    "subscription_cycle" or "merchant_invoice", the latter paid to the platform), or nothing (neither).
    `save_card` (a card-not-present payment with the processor customer it is saved to) keeps the card
    for later once the payment succeeds (payments.card_saving). Refused while the account is not active
    (accounts.guard); a payment created before that still goes through charge and settlement."""
    from retail.models import Sale

    purpose, payee = _purpose_and_payee(purpose=purpose, purpose_ref=purpose_ref, sale_id=sale_id)
    if payee == Payment.Payee.MERCHANT:  # the platform's billing of the merchant is never stopped
        require_customer_money_allowed(account)
    payment = _payment_new(
        actor=actor, account=account, amount=amount, currency=currency, method=method, mode=mode,
        purpose=purpose, purpose_ref=purpose_ref, payee=payee, customer_id=customer_id, outlet_id=outlet_id,
        register_id=register_id, description=description, receipt_email=receipt_email,
        payment_method_id=payment_method_id, processor_customer_id=processor_customer_id, save_card=save_card)
    if sale_id is not None:
        sale = scoped(Sale, account).select_for_update().filter(pk=sale_id).first()
        if sale is None or sale.status not in (Sale.Status.OPEN, Sale.Status.ON_ACCOUNT):
            raise DomainError(_("This sale cannot take a payment now."))
        pending = Payment.objects.filter(sale=sale, status=Payment.Status.PENDING).exists()
        if pending:
            raise DomainError(_("A card payment for this sale is still pending; wait for its result."))
        if amount > sale.balance_due:
            raise DomainError(_("The amount is more than what is left to pay (%(due)s).")
                              % {"due": format_money(max(sale.balance_due, 0), sale.currency)})
        payment.sale, payment.customer_id = sale, customer_id or sale.customer_id
        payment.outlet_id, payment.register_id = sale.outlet_id, sale.register_id
    payment.save(force_insert=True)
    _charge_attempt(payment).save(force_insert=True)
    _created_audit(payment, actor).save(force_insert=True)
    return payment


def _payment_new(*, actor, account, amount: int, currency: str, method: str, mode: str, purpose: str, payee: str,
                 purpose_ref: int | None = None, payment_method_id: str = "",
                 processor_customer_id: str = "", customer_id: int | None = None, outlet_id: int | None = None,
                 register_id: int | None = None, description: str = "", receipt_email: str = "",
                 save_card: bool = False) -> Payment:
    """One new payment's checks and its row, not saved yet (payment_create, payments_create_many)."""
    from retail.services.customers import clean_single_email

    if amount <= 0:
        raise DomainError(_("The amount must be more than zero."))
    if currency != account.currency:
        raise DomainError(_("Payments are taken in %(currency)s.") % {"currency": account.currency})
    if method in (Payment.Method.CARD_NOT_PRESENT, Payment.Method.SAVED_CARD):
        payment_method_id = payment_method_id_clean(payment_method_id)
    if save_card and (method != Payment.Method.CARD_NOT_PRESENT or not processor_customer_id):
        raise DomainError(_("This card cannot be saved for the customer."))
    payment = Payment(
        account=account, amount=amount, currency=currency, method=method, mode=mode,
        purpose=purpose, purpose_ref=purpose_ref, payee=payee,
        customer_id=customer_id, outlet_id=outlet_id, register_id=register_id, description=description[:200],
        receipt_email=clean_single_email(receipt_email),
        payment_method_id=payment_method_id, processor_customer_id=processor_customer_id, save_card=save_card,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    payment.processor = _gateway(payment).name
    return payment


def _charge_attempt(payment: Payment) -> PaymentAttempt:
    return PaymentAttempt(
        account=payment.account, payment=payment, kind=PaymentAttempt.Kind.CHARGE,
        idempotency_key=charge_key(payment),
        request={"amount": payment.amount, "currency": payment.currency, "method": payment.method,
                 "payment_method": payment.payment_method_id, "customer": payment.processor_customer_id,
                 "save_card": payment.save_card})


def _created_audit(payment: Payment, actor):
    return audit_row(account=payment.account, actor=actor, action="payment.created", target=payment,
                     after=_payment_state(payment) | {"method": payment.method, "mode": payment.mode,
                                                      "sale": payment.sale_id, "purpose": payment.purpose,
                                                      "purpose_ref": payment.purpose_ref, "payee": payment.payee,
                                                      "save_card": payment.save_card})


def _send_charge(payment: Payment, key: str) -> ProcessorPayment:
    gateway = _gateway(payment)
    if payment.method == Payment.Method.CARD_PRESENT:
        # A reader takes the card: the processor's payment waits for it (the terminal app hands it over).
        return gateway.create_terminal_payment(amount=payment.amount, currency=payment.currency, idempotency_key=key,
                                               description=payment.description, metadata=_metadata(payment))
    if payment.method in (Payment.Method.SAVED_CARD,) or payment.mode == Payment.Mode.RECURRING:
        return gateway.charge_saved_card(
            customer_id=payment.processor_customer_id, payment_method_id=payment.payment_method_id,
            amount=payment.amount, currency=payment.currency, idempotency_key=key,
            description=payment.description, metadata=_metadata(payment))
    saving = {"customer_id": payment.processor_customer_id, "save_card": True} if payment.save_card else {}
    return gateway.create_card_payment(
        amount=payment.amount, currency=payment.currency, payment_method_id=payment.payment_method_id,
        idempotency_key=key, description=payment.description, metadata=_metadata(payment), **saving)


def payment_charge(*, payment_id: int) -> Payment:
    """Send the pending charge to the processor and settle with its answer. Must run outside a
    transaction: our row is committed before the call, whatever happens next. Sends nothing while
    the reconciliation holds the attempt (it is asking the processor about it)."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != Payment.Status.PENDING or payment.requires_action:
        return payment
    attempt = payment.attempts.get(kind=PaymentAttempt.Kind.CHARGE)
    return _holding(attempt, payment, lambda: _charge_claimed(payment, attempt, inline=True))


def _charge_claimed(payment: Payment, attempt: PaymentAttempt, *, inline: bool) -> Payment:
    PaymentAttempt.objects.filter(pk=attempt.pk).update(tries=F("tries") + 1)
    try:
        result = _with_retries(lambda: _send_charge(payment, attempt.idempotency_key), inline=inline)
    except GatewayError as error:
        return payment_settle(payment_id=payment.pk, error=error)
    return payment_settle(payment_id=payment.pk, result=result)


def payment_finish_action(*, account, payment_id: int) -> Payment:
    """The browser says the cardholder answered the bank's question: ask the processor how it ended."""
    payment = scoped(Payment, account).get(pk=payment_id)
    if payment.status != Payment.Status.PENDING or not payment.processor_payment_id:
        return payment
    try:
        result = _with_retries(lambda: _gateway(payment).retrieve_payment(payment.processor_payment_id))
    except GatewayError as error:
        return payment_settle(payment_id=payment.pk, error=error)
    if result.status == PaymentStatus.REQUIRES_ACTION:
        return payment  # not answered yet
    # After a refused confirmation the intent waits for another card: for us this attempt failed.
    return payment_settle(payment_id=payment.pk, result=result, source="browser")


def payment_cancel(*, actor, account, payment_id: int, source: str = "staff") -> Payment:
    """Give up a card payment that waits for the cardholder's confirmation (they left, or the cashier
    takes another way of paying): cancelled at the processor, so it can never be taken later, and
    failed here. If the cardholder confirmed in the meantime, the payment settles as succeeded."""
    payment = scoped(Payment, account).filter(pk=payment_id).first()
    if payment is None:
        raise DomainError(_("This payment does not exist."))
    if payment.status != Payment.Status.PENDING or not payment.requires_action:
        raise DomainError(_("Only a card payment waiting for the cardholder can be cancelled."))
    try:
        return _cancel(payment, actor=actor, source=source, inline=True)
    except ProcessorUnavailable:
        raise DomainError(failure_message("processor_unavailable")) from None


def _cancel(payment: Payment, *, actor, source: str, inline: bool) -> Payment:
    gateway = _gateway(payment)
    try:
        result = _with_retries(lambda: gateway.cancel_payment(payment.processor_payment_id), inline=inline)
    except InvalidRequest:  # no longer cancellable: it succeeded or failed meanwhile; record how it ended
        result = _with_retries(lambda: gateway.retrieve_payment(payment.processor_payment_id), inline=inline)
    return payment_settle(payment_id=payment.pk, result=result, source=source, actor=actor)
