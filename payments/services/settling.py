"""Recording the processor's answer about a charge (step 3 of the money flow, payments.services): the
payment moves once, under its row lock, and the handler of its purpose (payments.settlement) settles what
it pays for in the same transaction, then the card it saved."""

import logging

from django.db import transaction
from django.utils import timezone

from accounts.services import audit_row
from payments import card_saving, settlement
from payments.gateway.base import PaymentStatus, ProcessorPayment
from payments.gateway.errors import CardError, GatewayError, ProcessorUnavailable
from payments.models import Payment, PaymentAttempt
from payments.services.attempts import _lock_payment, _payment_state
from posbackoffice.errors import DomainError

logger = logging.getLogger(__name__)


@transaction.atomic
def payment_settle(*, payment_id: int, result: ProcessorPayment | None = None, error: GatewayError | None = None,
                   source: str = "api", actor=None) -> Payment:
    """Record what the processor says about a charge. Only a pending payment moves; a second answer
    (the webhook after the API response, or the other way round) changes nothing. Once it has succeeded
    or failed, the handler of its purpose settles what it pays for (payments.settlement), in this
    transaction; a purpose without a handler raises NotRegistered before anything changes."""
    payment = _lock_payment(payment_id)
    attempt = PaymentAttempt.objects.select_for_update().get(payment=payment, kind=PaymentAttempt.Kind.CHARGE)
    if payment.status != Payment.Status.PENDING:
        return payment
    settlement.handler_for(payment.purpose)
    before = _payment_state(payment)
    if not _record_answer(payment, attempt, result=result, error=error, now=timezone.now()):
        attempt.save(update_fields=["error_code"])
        return payment  # unknown outcome: stays pending until known
    payment.save(update_fields=SETTLED_PAYMENT_FIELDS)  # what _record_answer may change, nothing else
    attempt.save(update_fields=SETTLED_ATTEMPT_FIELDS)
    audit = _settled_audit(payment, before, actor=actor, source=source)
    if audit is not None:
        audit.save(force_insert=True)
    _after_settled([payment], {payment.pk: result})
    return payment


SETTLED_PAYMENT_FIELDS = ["status", "requires_action", "settled_at", "payout_status", "failure_code",
                          "processor_payment_id", "processor_customer_id", "payment_method_id", "card_brand",
                          "card_last4", "card_exp_month", "card_exp_year"]
SETTLED_ATTEMPT_FIELDS = ["outcome", "response", "error_code", "finished_at"]


def _record_answer(payment: Payment, attempt: PaymentAttempt, *, result: ProcessorPayment | None,
                   error: GatewayError | None, now) -> bool:
    """Move the pending payment and its attempt (not saved) by the processor's answer. False: an unknown
    outcome (the processor did not answer): only the attempt's error code changes, the payment stays
    pending until known."""
    if error is not None:
        if isinstance(error, ProcessorUnavailable):
            attempt.error_code = error.code
            return False
        code = error.decline_code if isinstance(error, CardError) else error.code
        payment.processor_payment_id = error.payment_id or payment.processor_payment_id
        _fail(payment, attempt, code=code, now=now)
    elif result.status == PaymentStatus.SUCCEEDED:
        _copy_processor_fields(payment, result)
        payment.status, payment.requires_action, payment.settled_at = Payment.Status.SUCCEEDED, False, now
        payment.payout_status = Payment.Payout.PENDING
        attempt.outcome = PaymentAttempt.Outcome.SUCCEEDED
    elif result.status == PaymentStatus.REQUIRES_ACTION:
        _copy_processor_fields(payment, result)
        payment.requires_action = True
        attempt.outcome = PaymentAttempt.Outcome.REQUIRES_ACTION
    elif (result.status == PaymentStatus.REQUIRES_PAYMENT_METHOD and not result.failure_code
          and payment.method == Payment.Method.CARD_PRESENT):
        _copy_processor_fields(payment, result)  # waiting for a card on the reader: still pending
    elif result.status in (PaymentStatus.REQUIRES_PAYMENT_METHOD, PaymentStatus.CANCELED):
        _copy_processor_fields(payment, result)
        default = "canceled" if result.status == PaymentStatus.CANCELED else "card_declined"
        _fail(payment, attempt, code=result.failure_code or default, now=now)
    else:  # processing: the answer will come by webhook or reconciliation
        _copy_processor_fields(payment, result)
    if result is not None:
        attempt.response = {"id": result.id, "status": result.status, "failure_code": result.failure_code}
    attempt.finished_at = now if attempt.outcome != PaymentAttempt.Outcome.PENDING else None
    return True


def _copy_processor_fields(payment: Payment, result: ProcessorPayment) -> None:
    payment.processor_payment_id = result.id or payment.processor_payment_id
    payment.processor_customer_id = result.customer_id or payment.processor_customer_id
    payment.payment_method_id = result.payment_method_id or payment.payment_method_id
    card = result.card
    if card.last4:
        payment.card_brand, payment.card_last4 = card.brand, card.last4
        payment.card_exp_month, payment.card_exp_year = card.exp_month, card.exp_year


def _fail(payment: Payment, attempt: PaymentAttempt, *, code: str, now) -> None:
    """Only the processor's code is kept: its text may echo what was sent (an id, a typed value), and
    people read our own message for the code (payments.messages)."""
    payment.status, payment.requires_action, payment.settled_at = Payment.Status.FAILED, False, now
    payment.failure_code = code[:60]
    attempt.outcome, attempt.error_code = PaymentAttempt.Outcome.FAILED, code[:60]


def _settled_audit(payment: Payment, before: dict, *, actor, source: str):
    """The audit row of a payment whose state moved (None when it did not)."""
    if payment.status == before["status"] and payment.requires_action == before["requires_action"]:
        return None
    return audit_row(account=payment.account, actor=actor or payment.created_by, action=f"payment.{payment.status}",
                     target=payment, before=before, after=_payment_state(payment) | {"source": source})


def _after_settled(payments: list[Payment], results: dict) -> None:
    """What the settled payments pay for, by purpose (payments.settlement), then the cards they saved."""
    by_purpose: dict[str, dict[str, list[Payment]]] = {}
    for payment in payments:
        if payment.status in (Payment.Status.SUCCEEDED, Payment.Status.FAILED):
            by_purpose.setdefault(payment.purpose, {}).setdefault(payment.status, []).append(payment)
    for purpose, by_status in by_purpose.items():
        handler = settlement.handler_for(purpose)
        settlement.run(handler, succeeded=by_status.get(Payment.Status.SUCCEEDED, []),
                       failed=by_status.get(Payment.Status.FAILED, []))
    for payment in payments:
        if payment.status == Payment.Status.SUCCEEDED and payment.save_card:
            _record_saved_card(payment, results[payment.pk])  # after the sale: locks go payment, sale, customer


def _record_saved_card(payment: Payment, result: ProcessorPayment) -> None:
    """The processor saved the card with the payment: let the app that keeps saved cards record it. Its
    refusal (the customer reached the limit meanwhile, the feature was turned off) never undoes the
    payment."""
    saver = card_saving.current()
    if saver is None:
        logger.warning("payment %s saved a card but no card saver is registered", payment.pk)
        return
    try:
        with transaction.atomic():
            saver.record(payment=payment, card=result.card)
    except DomainError as refused:
        logger.warning("payment %s: the saved card was not recorded (%s)", payment.pk, refused.code)
