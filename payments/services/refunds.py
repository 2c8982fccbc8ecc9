"""Refunds follow the charges' steps: `refund_create` (our row and its attempt), `refund_send` (the
processor call with the attempt's key), `refund_settle`; `refund_reconcile` for one left pending."""

import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.guard import require_customer_money_allowed
from accounts.services import audit_record
from accounts.tenancy import scoped
from payments.gateway.base import ProcessorRefund
from payments.gateway.errors import GatewayError, ProcessorUnavailable
from payments.models import Payment, PaymentAttempt, Refund
from payments.services.attempts import (
    RESEND_WITHIN_SECONDS,
    _gateway,
    _holding,
    _lock_payment,
    _payment_state,
    _with_retries,
)
from posbackoffice.errors import DomainError
from posbackoffice.money import format_money


def refund_key(refund: Refund) -> str:
    return f"refund-{refund.pk}"


@transaction.atomic
def refund_create(*, actor, account, payment_id: int, amount: int, comment: str = "",
                  payee: str = Payment.Payee.MERCHANT) -> Refund:
    """Staff refund the shop's own payments (`payee`): what the shop paid the platform is not theirs to
    refund. Refused while the account is not active (accounts.guard); a refund created before that still
    settles."""
    require_customer_money_allowed(account)
    try:
        payment = scoped(Payment, account).filter(payee=payee).select_for_update().get(pk=payment_id)
    except Payment.DoesNotExist:
        raise DomainError(_("This payment does not exist.")) from None
    if payment.status not in (Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED):
        raise DomainError(_("Only a successful payment can be refunded."))
    if amount <= 0:
        raise DomainError(_("The amount must be more than zero."))
    pending = sum(payment.refunds.filter(status=Refund.Status.PENDING).values_list("amount", flat=True))
    remaining = payment.refundable - pending
    if amount > remaining:
        raise DomainError(_("You can refund at most %(amount)s.")
                          % {"amount": format_money(remaining, payment.currency)})
    refund = Refund.objects.create(account=account, payment=payment, amount=amount, comment=comment.strip()[:300],
                                   created_by=actor)
    PaymentAttempt.objects.create(account=account, payment=payment, refund=refund, kind=PaymentAttempt.Kind.REFUND,
                                  idempotency_key=refund_key(refund), request={"amount": amount})
    audit_record(account=account, actor=actor, action="payment.refund_requested", target=payment,
                 before=_payment_state(payment),
                 after={"refund": refund.pk, "amount": amount, "comment": refund.comment})
    return refund


def refund_send(*, refund_id: int) -> Refund:
    """Send the pending refund (a person's request, with inline retries); nothing while the
    reconciliation holds its attempt."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != Refund.Status.PENDING:
        return refund
    attempt = refund.attempts.get()
    return _holding(attempt, refund, lambda: _refund_claimed(refund, attempt, inline=True))


def _refund_claimed(refund: Refund, attempt: PaymentAttempt, *, inline: bool) -> Refund:
    PaymentAttempt.objects.filter(pk=attempt.pk).update(tries=F("tries") + 1)
    try:
        result = _with_retries(lambda: _gateway(refund.payment).refund(
            payment_id=refund.payment.processor_payment_id, amount=refund.amount,
            idempotency_key=attempt.idempotency_key, reason=refund.comment), inline=inline)
    except GatewayError as error:
        return refund_settle(refund_id=refund.pk, error=error)
    return refund_settle(refund_id=refund.pk, result=result)


def refund_reconcile(*, refund_id: int) -> Refund:
    """Settle a refund left pending: within the processor's idempotency window, send it again with its
    key; after it, never resend (it could refund twice) but compare what the processor has refunded on
    the payment with the refunds we know of. One call, under the attempt's claim."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != Refund.Status.PENDING:
        return refund
    attempt = refund.attempts.get()
    return _holding(attempt, refund, lambda: _refund_reconcile_claimed(refund, attempt))


def _refund_reconcile_claimed(refund: Refund, attempt: PaymentAttempt) -> Refund:
    if timezone.now() - refund.created_at < datetime.timedelta(seconds=RESEND_WITHIN_SECONDS):
        return _refund_claimed(refund, attempt, inline=False)
    payment = refund.payment
    try:
        found = _gateway(payment).retrieve_payment(payment.processor_payment_id)
    except ProcessorUnavailable:
        return refund
    unaccounted = found.amount_refunded - payment.amount_refunded
    if unaccounted >= refund.amount:
        result = ProcessorRefund(id=refund.processor_refund_id, payment_id=found.id, amount=refund.amount,
                                 status="succeeded")
        return refund_settle(refund_id=refund.pk, result=result, source="reconciliation")
    return refund_settle(refund_id=refund.pk, source="reconciliation", error=GatewayError(
        "the processor has not refunded this amount", code="never_arrived"))


@transaction.atomic
def refund_settle(*, refund_id: int, result: ProcessorRefund | None = None, error: GatewayError | None = None,
                  source: str = "api") -> Refund:
    payment_id = Refund.objects.values_list("payment_id", flat=True).get(pk=refund_id)
    payment = _lock_payment(payment_id)  # lock order: payment, then refund
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    attempt = PaymentAttempt.objects.select_for_update().get(refund=refund)
    if refund.status != Refund.Status.PENDING:
        return refund
    before = _payment_state(payment)
    now = timezone.now()
    if error is not None and isinstance(error, ProcessorUnavailable):
        attempt.error_code = error.code
        attempt.save(update_fields=["error_code"])
        return refund
    if error is not None or (result is not None and result.status == "failed"):
        code = error.code if error is not None else "refund_failed"
        refund.status, refund.failure_code, refund.settled_at = Refund.Status.FAILED, code, now
        attempt.outcome, attempt.error_code = PaymentAttempt.Outcome.FAILED, code
    elif result.status == "succeeded":
        refund.status, refund.processor_refund_id, refund.settled_at = Refund.Status.SUCCEEDED, result.id, now
        payment.amount_refunded += refund.amount
        payment.status = (Payment.Status.REFUNDED if payment.amount_refunded >= payment.amount
                          else Payment.Status.PARTIALLY_REFUNDED)
        payment.save(update_fields=["amount_refunded", "status"])
        attempt.outcome = PaymentAttempt.Outcome.SUCCEEDED
    else:  # pending at the processor: a webhook will tell
        refund.processor_refund_id = result.id
    refund.save()
    attempt.response = {"id": result.id, "status": result.status} if result is not None else None
    attempt.finished_at = now if attempt.outcome != PaymentAttempt.Outcome.PENDING else None
    attempt.save(update_fields=["outcome", "error_code", "response", "finished_at"])
    audit_record(account=payment.account, actor=refund.created_by, action=f"payment.refund_{refund.status}",
                 target=payment, before=before,
                 after=_payment_state(payment) | {"refund": refund.pk, "amount": refund.amount, "source": source})
    return refund


def payment_refund(*, actor, account, payment_id: int, amount: int, comment: str = "") -> Refund:
    """Ask for a refund and send it (what the Payments tab's refund form does)."""
    refund = refund_create(actor=actor, account=account, payment_id=payment_id, amount=amount, comment=comment)
    return refund_send(refund_id=refund.pk)
