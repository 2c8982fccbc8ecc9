"""Money through a processor, one pattern for every feature (design.md, "Money flow for a charge"):

1. `payment_create` writes our Payment (pending) and a PaymentAttempt whose idempotency key is
   derived from our row, and commits.
2. `payment_charge` claims the attempt (a lease: one caller talks to the processor about it at a
   time) and calls the gateway with that key, outside any transaction, retrying transient failures
   with the same key (the processor answers a repeat with the first result).
3. `payment_settle` moves the Payment to succeeded/failed under a row lock; whichever of the answer
   and the webhook comes second changes nothing.
4. What the payment pays for settles in the same transaction: the handler of its purpose
   (payments.settlement: recording the card payment on the sale, a subscription cycle, a merchant
   invoice), with the saved card, then side effects on commit. `payment_reconcile` settles attempts left
   pending by a crash or a timeout: beat's sweep (payments.tasks.reconcile_payments) enqueues one task per
   payment and per refund. In a task nothing sleeps: transient trouble leaves the attempt due for the next
   sweep.
Refunds follow the same steps (`refund_create`, `refund_send`, `refund_settle`).

Every processor call about a payment goes to its payee's gateway (`get_gateway(payment.payee)`): the
shop's processor account, or the platform's for what the merchant pays us.
"""

import datetime
import logging
import time

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.guard import require_customer_money_allowed
from accounts.services import audit_record, audit_record_many, audit_row
from accounts.tenancy import scoped
from payments import card_saving, settlement
from payments.gateway import get_gateway
from payments.gateway.base import PaymentStatus, ProcessorPayment, ProcessorRefund
from payments.gateway.errors import CardError, GatewayError, InvalidRequest, ProcessorUnavailable
from payments.ids import payment_method_id_clean
from payments.messages import failure_message
from payments.models import Payment, PaymentAttempt, Refund
from posbackoffice import jobs
from posbackoffice.errors import DomainError
from posbackoffice.money import format_money

logger = logging.getLogger(__name__)

# Inline retries of a call whose outcome is unknown (timeout, 5xx, 429), always with the same key;
# after these the payment stays pending and the reconciliation task takes over.
RETRY_DELAYS = (0.3, 1.0)
# An attempt still pending after this long is looked at by the reconciliation task.
RECONCILE_AFTER_SECONDS = 60
# Stripe keeps idempotency keys for 24 hours: a charge is sent again with its key only within that time.
RESEND_WITHIN_SECONDS = 23 * 3600
# A payment waiting for the cardholder's confirmation (3-D Secure) for longer is cancelled.
REQUIRES_ACTION_EXPIRY_SECONDS = 15 * 60
# Whoever talks to the processor about an attempt holds it this long: more than a call with its inline
# retries (the Stripe adapter gives a call 30 s). A holder that died is replaced once it expires.
ATTEMPT_LEASE_SECONDS = 120
OPEN_OUTCOMES = (PaymentAttempt.Outcome.PENDING, PaymentAttempt.Outcome.REQUIRES_ACTION)


def charge_key(payment: Payment) -> str:
    return f"payment-{payment.pk}-charge"


def refund_key(refund: Refund) -> str:
    return f"refund-{refund.pk}"


def _payment_state(payment: Payment) -> dict:
    return {"status": payment.status, "amount": payment.amount, "amount_refunded": payment.amount_refunded,
            "requires_action": payment.requires_action, "failure_code": payment.failure_code}


def _gateway(payment: Payment):
    return get_gateway(payment.payee)


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


def _metadata(payment: Payment) -> dict:
    """Sent with every processor object, so a webhook finds our row even if our copy of the
    processor's id was lost in a crash."""
    return {"payment": str(payment.pk), "account": str(payment.account_id)}


# ---- charges --------------------------------------------------------------------------------------

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
    return Payment(
        account=account, amount=amount, currency=currency, method=method, mode=mode,
        purpose=purpose, purpose_ref=purpose_ref, payee=payee,
        customer_id=customer_id, outlet_id=outlet_id, register_id=register_id, description=description[:200],
        receipt_email=clean_single_email(receipt_email), processor=get_gateway(payee).name,
        payment_method_id=payment_method_id, processor_customer_id=processor_customer_id, save_card=save_card,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


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


def _holding(attempt: PaymentAttempt, row, work):
    """Run `work()` holding the attempt (one conversation with the processor about it at a time);
    answer `row` unchanged while someone else holds it."""
    claim = jobs.claim(PaymentAttempt, attempt.pk, seconds=ATTEMPT_LEASE_SECONDS, due=Q(outcome__in=OPEN_OUTCOMES))
    if claim is None:
        return row
    try:
        return work()
    finally:
        claim.release()


def _with_retries(call, *, inline: bool = True):
    """Run a gateway call; on an unknown outcome try again with the same key, then give up (pending).
    Only in a person's request (`inline`): a task never sleeps, it leaves the attempt to the next sweep."""
    for delay in (*RETRY_DELAYS, None) if inline else (None,):
        try:
            return call()
        except ProcessorUnavailable:
            if delay is None:
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")


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


def _charge_claimed(payment: Payment, attempt: PaymentAttempt, *, inline: bool) -> Payment:
    PaymentAttempt.objects.filter(pk=attempt.pk).update(tries=F("tries") + 1)
    try:
        result = _with_retries(lambda: _send_charge(payment, attempt.idempotency_key), inline=inline)
    except GatewayError as error:
        return payment_settle(payment_id=payment.pk, error=error)
    return payment_settle(payment_id=payment.pk, result=result)


def _lock_payment(payment_id: int) -> Payment:
    """The payment's row only (`of=("self",)`): a FOR UPDATE over the join would lock the account's row
    too, which every settlement of the account shares — under many readers settling at once that row
    serialised them and, taken in the same statement as the payment's row, deadlocked two settlements of
    one payment (docs/architecture.md, "Lock order"). Its creator comes with it: the audit row and the
    sale's payment name them (one statement fewer per settlement)."""
    return Payment.objects.select_for_update(of=("self",)).select_related("account", "created_by").get(pk=payment_id)


def _copy_processor_fields(payment: Payment, result: ProcessorPayment) -> None:
    payment.processor_payment_id = result.id or payment.processor_payment_id
    payment.processor_customer_id = result.customer_id or payment.processor_customer_id
    payment.payment_method_id = result.payment_method_id or payment.payment_method_id
    card = result.card
    if card.last4:
        payment.card_brand, payment.card_last4 = card.brand, card.last4
        payment.card_exp_month, payment.card_exp_year = card.exp_month, card.exp_year


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
    payment.save()
    attempt.save(update_fields=SETTLED_ATTEMPT_FIELDS)
    audit = _settled_audit(payment, before, actor=actor, source=source)
    if audit is not None:
        audit.save(force_insert=True)
    _after_settled([payment], {payment.pk: result})
    return payment


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


def _fail(payment: Payment, attempt: PaymentAttempt, *, code: str, now) -> None:
    """Only the processor's code is kept: its text may echo what was sent (an id, a typed value), and
    people read our own message for the code (payments.messages)."""
    payment.status, payment.requires_action, payment.settled_at = Payment.Status.FAILED, False, now
    payment.failure_code = code[:60]
    attempt.outcome, attempt.error_code = PaymentAttempt.Outcome.FAILED, code[:60]


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


# ---- refunds --------------------------------------------------------------------------------------

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


# ---- a standalone payment becomes a sale's ---------------------------------------------------------

@transaction.atomic
def payment_attach_to_sale(*, actor, account, payment_id: int, sale_id: int) -> Payment:
    """Beyond seed 002: a standalone payment (taken on a card reader without a sale) becomes the card
    payment of an itemised sale in progress, recorded on it as the card payment it is; the sale then
    completes as every paid sale does (stock moves, receipt). The payment must not be more than what is
    left to pay (the difference is named: add items); less leaves the rest to pay another way. Locks: the
    payment, then the sale."""
    from retail.models import Sale

    payment = scoped(Payment, account).select_for_update().filter(pk=payment_id).first()
    if payment is None:
        raise DomainError(_("This payment does not exist."))
    if (payment.mode != Payment.Mode.STANDALONE or payment.purpose != Payment.Purpose.NONE
            or payment.status != Payment.Status.SUCCEEDED):
        raise DomainError(_("Only a standalone payment, not refunded and not in a sale yet, can become a sale's."))
    sale = scoped(Sale, account).select_for_update().filter(pk=sale_id, status=Sale.Status.OPEN).first()
    if sale is None:
        raise DomainError(_("This sale cannot take a payment now."))
    if payment.amount > sale.balance_due:
        raise DomainError(_("The payment (%(paid)s) is more than what is left to pay (%(due)s): add items for "
                            "%(difference)s more.") % {
            "paid": format_money(payment.amount, payment.currency),
            "due": format_money(max(sale.balance_due, 0), sale.currency),
            "difference": format_money(payment.amount - max(sale.balance_due, 0), sale.currency)})
    before = _payment_state(payment) | {"purpose": payment.purpose, "sale": None}
    payment.purpose, payment.sale = Payment.Purpose.SALE, sale
    payment.customer_id = payment.customer_id or sale.customer_id
    # The reader took it on its own: whoever attaches it records it on the sale.
    payment.created_by = payment.created_by or (actor if getattr(actor, "pk", None) else None)
    payment.save(update_fields=["purpose", "sale", "customer", "created_by"])
    settlement.pay_sale(payment)
    audit_record(account=account, actor=actor, action="payment.attached_to_sale", target=payment, before=before,
                 after=_payment_state(payment) | {"purpose": payment.purpose, "sale": sale.pk})
    return payment
