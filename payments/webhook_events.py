"""Processor webhooks, handling a stored event (payments.tasks.process_webhook_event, queued by
payments.webhooks once the event is stored).

Handlers treat an event as a hint and read the current state from the processor (or the event's object
for refunds), so events arriving out of order cannot move a payment backwards; the settling services
ignore a second answer.

A validly signed event whose body we cannot read (its object not an object, an amount that is not a
number, ...) is recorded as failed with the reason's code (`payments.messages.WEBHOOK_FAILURES`), shown
to the owner in Setup › Payments and on the payment's page when it names one; its task ends normally.
"""

import datetime
import logging
import re

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Account
from payments import event_handlers
from payments.gateway import get_gateway
from payments.gateway.base import ProcessorRefund
from payments.gateway.errors import GatewayError
from payments.models import Payment, Refund, WebhookEvent
from payments.services.refunds import refund_settle
from payments.services.settling import payment_settle
from posbackoffice import jobs

logger = logging.getLogger(__name__)

PAYMENT_EVENTS = {
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.requires_action",
    "payment_intent.canceled", "payment_intent.processing",
}
REFUND_EVENTS = {"refund.created", "refund.updated", "charge.refund.updated"}
HANDLED = PAYMENT_EVENTS | REFUND_EVENTS


def handled_types() -> set[str]:
    """Ours, and those the apps above us registered (payments.event_handlers)."""
    return HANDLED | {key for key, _handler in event_handlers.HANDLERS.items()}

# A worker holds an event this long (a processor read and the settling); transient processor trouble is
# retried after 5 s doubling up to 10 minutes, jittered, WebhookEvent.MAX_TRIES times in all.
EVENT_LEASE_SECONDS = 120
EVENT_RETRY_BASE_SECONDS, EVENT_RETRY_CAP_SECONDS = 5, 600
# The sweep leaves a just-stored event to its own task for this long.
EVENT_SWEEP_GRACE = datetime.timedelta(seconds=30)


def _sent_about(event: WebhookEvent, prefix: str = "") -> dict:
    """The filter of the payments an event can be about: its processor's and, when it came from one
    payee's processor account, that payee's (the sandbox is one processor for both)."""
    scope = {f"{prefix}processor": event.processor}
    if event.payee:
        scope[f"{prefix}payee"] = event.payee
    return scope


class MalformedEvent(Exception):
    """A signed event whose body we cannot read; `code` says why (payments.messages.WEBHOOK_FAILURES)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def is_text(value) -> bool:
    return isinstance(value, str) and value != ""


def _pk(value) -> int | None:
    """Our row's id as we wrote it in the processor's metadata (ASCII digits), or None."""
    return int(value) if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value) else None


def _object(event: WebhookEvent) -> dict:
    """The event's object, with readable metadata; MalformedEvent otherwise."""
    data = event.payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise MalformedEvent("object_unreadable")
    if not isinstance(obj.get("metadata") or {}, dict):
        raise MalformedEvent("metadata_unreadable")
    if not is_text(obj.get("id")):
        raise MalformedEvent("id_missing")
    return obj


def _expandable_id(obj: dict, key: str) -> str:
    value = obj.get(key)
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedEvent("field_unreadable")
    return value


def _refund_answer(obj: dict, refund: Refund) -> ProcessorRefund:
    amount = obj.get("amount")
    if amount is None:
        amount = refund.amount
    elif isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise MalformedEvent("amount_not_a_number")
    status = obj.get("status") or "pending"
    if not isinstance(status, str):
        raise MalformedEvent("field_unreadable")
    return ProcessorRefund(id=obj["id"], payment_id=_expandable_id(obj, "payment_intent"), amount=amount,
                           status=status)


def _our_payment(event: WebhookEvent, obj: dict) -> Payment | None:
    payments = Payment.objects.filter(**_sent_about(event))
    payment = None
    if is_text(obj.get("id")):
        payment = payments.filter(processor_payment_id=obj["id"]).first()
    payment_pk = _pk((obj.get("metadata") or {}).get("payment"))
    if payment is None and payment_pk is not None:
        payment = payments.filter(pk=payment_pk).first()
    return payment


def _our_refund(event: WebhookEvent, obj: dict) -> Refund | None:
    refunds = Refund.objects.filter(**_sent_about(event, "payment__"))
    refund = None
    if is_text(obj.get("id")):
        refund = refunds.filter(processor_refund_id=obj["id"]).first()
    refund_pk = _pk((obj.get("metadata") or {}).get("refund"))
    if refund is None and refund_pk is not None:
        refund = refunds.filter(pk=refund_pk).first()
    return refund


def _owner_of_unreadable(event: WebhookEvent) -> tuple[Payment | None, int | None]:
    """Whose event it was, as far as its unreadable body still says: (our payment, account id)."""
    data = event.payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        return None, None
    if not isinstance(obj.get("metadata") or {}, dict):
        obj = {**obj, "metadata": {}}
    refund = _our_refund(event, obj) if event.type in REFUND_EVENTS else None
    payment = refund.payment if refund is not None else _our_payment(event, obj)
    if payment is not None:
        return payment, payment.account_id
    account_pk = _pk((obj.get("metadata") or {}).get("account"))
    known = Account.objects.filter(pk=account_pk).values_list("pk", flat=True).first() if account_pk else None
    return None, known


def _handle(event: WebhookEvent) -> tuple[str, Payment | None]:
    """Settle what the event is about; (outcome, our payment). MalformedEvent when unreadable."""
    obj = _object(event)
    if event.type in PAYMENT_EVENTS:
        payment = _our_payment(event, obj)
        if payment is None:
            return "unknown payment", None
        if payment.processor_payment_id and payment.processor_payment_id != obj["id"]:
            return "other processor payment", payment
        if payment.status == Payment.Status.PENDING:
            current = get_gateway(payment.payee).retrieve_payment(obj["id"])
            settled = payment_settle(payment_id=payment.pk, result=current, source="webhook")
        else:
            settled = payment  # a settled payment never moves again: no processor read for a late event
        for follower in event_handlers.PAYMENT_FOLLOWERS:
            follower(settled)
        return f"payment {settled.status}", payment
    if event.type in REFUND_EVENTS:
        refund = _our_refund(event, obj)
        if refund is None:
            return "unknown refund", None
        settled = refund_settle(refund_id=refund.pk, result=_refund_answer(obj, refund), source="webhook")
        return f"refund {settled.status}", refund.payment
    if event.type in event_handlers.HANDLERS:
        outcome, payment_id = event_handlers.HANDLERS.get(event.type)(obj, processor=event.processor,
                                                                       payee=event.payee)
        return outcome, Payment.objects.filter(pk=payment_id).first() if payment_id else None
    return "ignored", None


def webhook_events_due(now) -> list[int]:
    """Stored events still to handle that nobody holds (index webhook_event_unprocessed)."""
    return list(WebhookEvent.objects.filter(jobs.unclaimed(now), processed_at__isnull=True, type__in=handled_types(),
                                            tries__lt=WebhookEvent.MAX_TRIES,
                                            received_at__lt=now - EVENT_SWEEP_GRACE)
                .order_by("received_at").values_list("pk", flat=True)[:jobs.SWEEP_LIMIT])


def webhook_event_handle(*, event_id: int) -> str | None:
    """The worker's side: claim the stored event and process it. None when another worker holds it, its
    retry is not due, or it is done. Transient processor trouble releases it held back for a retry with
    backoff (jobs.TryLater); after MAX_TRIES it stays unprocessed, visible in the admin, and is no longer
    swept (reconciliation settles its payment anyway)."""
    claim = jobs.claim(WebhookEvent, event_id, seconds=EVENT_LEASE_SECONDS, tries=F("tries") + 1, fetch=True,
                       due=Q(processed_at__isnull=True, tries__lt=WebhookEvent.MAX_TRIES))
    if claim is None:
        return None
    try:
        return webhook_event_process(event_id=event_id, claim=claim)
    except GatewayError:
        tries = WebhookEvent.objects.values_list("tries", flat=True).get(pk=event_id)
        countdown = jobs.backoff(tries, base=EVENT_RETRY_BASE_SECONDS, cap=EVENT_RETRY_CAP_SECONDS)
        claim.release(hold=countdown)
        raise jobs.TryLater(countdown) from None


def webhook_event_process(*, event_id: int, claim: jobs.Claim | None = None) -> str:
    """Handle a stored event once. Returns what was done (kept on the row). With the worker's `claim` the
    row is already ours: it is read without a lock, and the claim is given back by the same UPDATE that
    marks it processed (this runs for every payment a card reader takes: two statements fewer); a claim
    that fetched the row (jobs.claim(fetch=True)) is not read again either."""
    if claim is None:
        with transaction.atomic():
            event = WebhookEvent.objects.select_for_update().get(pk=event_id)
    else:
        event = claim.row if claim.row is not None else WebhookEvent.objects.get(pk=event_id)
    if event.processed_at:
        if claim is not None:
            claim.release()
        return event.outcome
    failure_code = ""
    try:
        outcome, payment = _handle(event)
    except MalformedEvent as malformed:
        # Nothing to retry: the same body would fail the same way. Kept as failed, for the owner to see.
        outcome, failure_code = WebhookEvent.FAILED, malformed.code
        payment, account_id = _owner_of_unreadable(event)
        logger.warning("webhook %s could not be read: %s", event.event_id, failure_code)
    except GatewayError as error:
        # Leave it unprocessed: the task retries, and reconciliation covers the payment anyway.
        logger.warning("webhook %s not handled yet: %s", event.event_id, error.code)
        raise
    else:
        account_id = payment.account_id if payment else None
    done = {"processed_at": timezone.now(), "outcome": outcome[:100], "failure_code": failure_code,
            "payment": payment, "account_id": account_id}
    if claim is None or not claim.release(**done):  # without it (or once it ran out): marked only if not yet
        WebhookEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(**done)
    return outcome
