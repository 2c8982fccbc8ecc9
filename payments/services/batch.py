"""The batched jobs' forms of create, charge and settle (subscriptions' billing run): the same rules as
charges and settling, with one statement per kind of row instead of one per payment."""

import logging

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.guard import require_customer_money_allowed
from accounts.services import audit_record_many
from payments import settlement
from payments.gateway.errors import GatewayError
from payments.models import Payment, PaymentAttempt
from payments.services.attempts import ATTEMPT_LEASE_SECONDS, OPEN_OUTCOMES, _payment_state
from payments.services.charges import _charge_attempt, _created_audit, _payment_new, _purpose_and_payee, _send_charge
from payments.services.settling import (
    SETTLED_ATTEMPT_FIELDS,
    SETTLED_PAYMENT_FIELDS,
    _after_settled,
    _record_answer,
    _settled_audit,
    payment_settle,
)
from posbackoffice import jobs

logger = logging.getLogger(__name__)


@transaction.atomic
def payments_create_many(*, actor, account, purpose: str, charges: list[dict]) -> list[Payment]:
    """`payment_create` for many payments of one account that pay for rows of an app above payments (a
    batched job: `purpose` "subscription_cycle", each charge's `purpose_ref` its row): the same checks,
    then the payments, their charge attempts (each key from its own payment row) and their audit rows,
    each kind written with one INSERT. `charges`: payment_create's other keyword arguments, one dict each
    (no sale)."""
    payee = None
    for charge in charges:
        purpose, payee = _purpose_and_payee(purpose=purpose, purpose_ref=charge.get("purpose_ref"), sale_id=None)
    if payee == Payment.Payee.MERCHANT:
        require_customer_money_allowed(account)
    payments = Payment.objects.bulk_create(
        [_payment_new(actor=actor, account=account, purpose=purpose, payee=payee, **charge) for charge in charges])
    PaymentAttempt.objects.bulk_create([_charge_attempt(payment) for payment in payments])
    audit_record_many([_created_audit(payment, actor) for payment in payments])
    return payments


def payments_charge_many(*, payment_ids: list[int]) -> list[Payment]:
    """`payment_charge` for many pending payments (a batched job; outside any transaction): their charge
    attempts claimed with one UPDATE (those someone else holds are left alone, as payment_charge leaves
    them), one processor call per payment with its own key, no inline retries (a task never sleeps: an
    unknown outcome stays pending for the next run or the reconciliation), then all the answers settled
    together (`payments_settle_many`). Returns the payments charged, as they are now."""
    payments = {payment.pk: payment for payment in Payment.objects.select_related("account").filter(
        pk__in=payment_ids, status=Payment.Status.PENDING, requires_action=False)}
    attempts = {attempt.payment_id: attempt for attempt in PaymentAttempt.objects.filter(
        payment_id__in=list(payments), kind=PaymentAttempt.Kind.CHARGE).only("pk", "payment_id", "idempotency_key")}
    claim = jobs.claim_many(PaymentAttempt, [attempt.pk for attempt in attempts.values()],
                            seconds=ATTEMPT_LEASE_SECONDS, due=Q(outcome__in=OPEN_OUTCOMES))
    try:
        if not claim.pks:
            return []
        PaymentAttempt.objects.filter(pk__in=claim.pks).update(tries=F("tries") + 1)
        answers = {}
        for attempt in sorted(attempts.values(), key=lambda attempt: attempt.pk):
            if attempt.pk in claim.pks:
                try:
                    answers[attempt.payment_id] = _send_charge(payments[attempt.payment_id], attempt.idempotency_key)
                except GatewayError as error:
                    answers[attempt.payment_id] = error
        return _settle_each_if_refused(answers)
    finally:
        claim.release()


def _settle_each_if_refused(answers: dict) -> list[Payment]:
    """Settle the answers together; should that be refused (a purpose's handler raising for one payment),
    settle them one by one, so one payment's trouble holds back only itself (it stays pending for the
    reconciliation); the first such error is raised once the others are settled."""
    try:
        return payments_settle_many(answers=answers)
    except Exception:
        logger.exception("settling %s answers together failed; settling them one by one", len(answers))
    settled, failure = [], None
    for payment_id, answer in sorted(answers.items()):
        error, result = (answer, None) if isinstance(answer, GatewayError) else (None, answer)
        try:
            settled.append(payment_settle(payment_id=payment_id, result=result, error=error))
        except Exception as problem:
            logger.exception("payment %s could not be settled; it stays pending", payment_id)
            failure = failure or problem
    if failure is not None:
        raise failure
    return settled


@transaction.atomic
def payments_settle_many(*, answers: dict, source: str = "api") -> list[Payment]:
    """`payment_settle` for many charges at once (a batched job): `answers` maps a payment id to the
    processor's answer (a ProcessorPayment) or its GatewayError. The same rules, in one transaction: the
    payments and their attempts locked in pk order and written with one UPDATE each, the audit rows with
    one INSERT, then the handlers of their purposes (`succeeded_many` for a whole purpose when its app
    registered one). Returns the payments as they are now."""
    ids = sorted(answers)
    payments = list(Payment.objects.select_for_update(of=("self",)).select_related("account")
                    .filter(pk__in=ids).order_by("pk"))
    attempts = {attempt.payment_id: attempt for attempt in PaymentAttempt.objects.select_for_update()
                .filter(payment_id__in=ids, kind=PaymentAttempt.Kind.CHARGE).order_by("pk")}
    now = timezone.now()
    moved, unknown, audits, results = [], [], [], {}
    for payment in payments:
        if payment.status != Payment.Status.PENDING:
            continue
        settlement.handler_for(payment.purpose)
        answer = answers[payment.pk]
        error, result = (answer, None) if isinstance(answer, GatewayError) else (None, answer)
        before = _payment_state(payment)
        attempt = attempts[payment.pk]
        if not _record_answer(payment, attempt, result=result, error=error, now=now):
            unknown.append(attempt)
            continue
        moved.append(payment)
        results[payment.pk] = result
        audit = _settled_audit(payment, before, actor=None, source=source)
        if audit is not None:
            audits.append(audit)
    if unknown:
        jobs.update_rows(PaymentAttempt, unknown, ["error_code"])
    if moved:
        jobs.update_rows(Payment, moved, SETTLED_PAYMENT_FIELDS)
        jobs.update_rows(PaymentAttempt, [attempts[payment.pk] for payment in moved], SETTLED_ATTEMPT_FIELDS)
        audit_record_many(audits)
        _after_settled(moved, results)
    return payments
