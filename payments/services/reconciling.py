"""Charges whose answer was lost or never came: "Check again" (`payment_check`) and the reconciliation task
(`payment_reconcile`, one call, no inline retries), and the sweep's read of the attempts still open."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.tenancy import scoped
from payments.gateway.base import PaymentStatus
from payments.gateway.errors import GatewayError, ProcessorUnavailable
from payments.models import Payment, PaymentAttempt, Refund
from payments.services.attempts import OPEN_OUTCOMES, RESEND_WITHIN_SECONDS, _gateway, _holding
from payments.services.charges import _cancel, _charge_claimed, payment_finish_action
from payments.services.settling import payment_settle
from posbackoffice import jobs
from posbackoffice.errors import DomainError

# An attempt still pending after this long is looked at by the reconciliation task.
RECONCILE_AFTER_SECONDS = 60
# A payment waiting for the cardholder's confirmation (3-D Secure) for longer is cancelled.
REQUIRES_ACTION_EXPIRY_SECONDS = 15 * 60


def payment_check(*, account, payment_id: int) -> Payment:
    """Someone asks again how a pending card payment ended: the cardholder's answer to their bank, or
    the processor's answer that was lost (sent again with the same key, so never charged twice)."""
    payment = scoped(Payment, account).filter(pk=payment_id).first()
    if payment is None:
        raise DomainError(_("This payment does not exist."))
    if payment.status != Payment.Status.PENDING:
        return payment
    if payment.requires_action:
        return payment_finish_action(account=account, payment_id=payment.pk)
    return payment_reconcile(payment_id=payment.pk)


def payment_reconcile(*, payment_id: int) -> Payment:
    """Settle a charge whose answer was lost: ask the processor for the payment made with our key;
    if it never got there, send it again with the same key (which cannot charge twice). Run by the
    reconciliation task (and "Check again"): one call, no inline retries; while the processor does not
    answer, or someone else holds the attempt, the payment stays pending for the next sweep."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != Payment.Status.PENDING:
        return payment
    attempt = payment.attempts.get(kind=PaymentAttempt.Kind.CHARGE)
    return _holding(attempt, payment, lambda: _reconcile_claimed(payment, attempt))


def _reconcile_claimed(payment: Payment, attempt: PaymentAttempt) -> Payment:
    gateway = _gateway(payment)
    try:
        found = (gateway.retrieve_payment(payment.processor_payment_id) if payment.processor_payment_id
                 else gateway.find_payment(idempotency_key=attempt.idempotency_key))
    except ProcessorUnavailable:
        return payment
    except GatewayError as error:
        return payment_settle(payment_id=payment.pk, error=error, source="reconciliation")
    if found is not None:
        if found.status == PaymentStatus.REQUIRES_ACTION and payment.requires_action:
            if timezone.now() - payment.created_at < datetime.timedelta(seconds=REQUIRES_ACTION_EXPIRY_SECONDS):
                return payment  # still with the cardholder
            # Nobody answered the bank: free the sale rather than leave it blocked by a pending payment.
            try:
                return _cancel(payment, actor=None, source="reconciliation", inline=False)
            except ProcessorUnavailable:
                return payment
        return payment_settle(payment_id=payment.pk, result=found, source="reconciliation")
    if timezone.now() - payment.created_at >= datetime.timedelta(seconds=RESEND_WITHIN_SECONDS):
        # The processor forgets idempotency keys after a day: sending again now could charge a second
        # time if our first request did arrive. It has no payment made with our key, so nothing was taken.
        return payment_settle(payment_id=payment.pk, error=GatewayError(
            "the processor has no payment made with this key", code="never_arrived"), source="reconciliation")
    return _charge_claimed(payment, attempt, inline=False)


def _attempts_due(kind: str, now):
    """Attempts still open after RECONCILE_AFTER_SECONDS that nobody holds (index attempt_outcome_created)."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=RECONCILE_AFTER_SECONDS)
    return (PaymentAttempt.objects.filter(jobs.unclaimed(now), kind=kind,
                                          outcome__in=OPEN_OUTCOMES, created_at__lt=cutoff)
            .order_by("created_at", "pk"))


def stale_pending_payment_ids(now=None) -> list[int]:
    due = _attempts_due(PaymentAttempt.Kind.CHARGE, now).filter(payment__status=Payment.Status.PENDING)
    return list(due.values_list("payment_id", flat=True)[:jobs.SWEEP_LIMIT])


def stale_pending_refund_ids(now=None) -> list[int]:
    due = _attempts_due(PaymentAttempt.Kind.REFUND, now).filter(refund__status=Refund.Status.PENDING)
    return list(due.values_list("refund_id", flat=True)[:jobs.SWEEP_LIMIT])
