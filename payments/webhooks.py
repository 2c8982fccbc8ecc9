"""Processor webhooks: verify, store once, handle in the worker.

One endpoint per processor (`/webhooks/stripe/`, `/webhooks/sandbox/`). Both use Stripe's signature
scheme (header `t=<unix>,v1=<hmac-sha256 of "t.payload">`, 300 s tolerance), so the sandbox's events
travel the same path as Stripe's. An event is stored under a unique (processor, event id) before
anything else: a replay or a duplicate is recognised and changes nothing. Handlers treat an event as a
hint and read the current state from the processor (or the event's object for refunds), so events
arriving out of order cannot move a payment backwards; the settling services ignore a second answer.

A validly signed event whose body we cannot read (its object not an object, an amount that is not a
number, ...) is recorded as failed with the reason's code (`payments.messages.WEBHOOK_FAILURES`), shown
to the owner in Setup › Payments and on the payment's page when it names one; its task ends normally.
"""

import json
import logging
import re

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account
from payments.gateway import get_gateway
from payments.gateway.base import ProcessorRefund
from payments.gateway.errors import GatewayError
from payments.models import Payment, Refund, WebhookEvent
from payments.services import payment_settle, refund_settle

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300
PAYMENT_EVENTS = {
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.requires_action",
    "payment_intent.canceled", "payment_intent.processing",
}
REFUND_EVENTS = {"refund.created", "refund.updated", "charge.refund.updated"}
HANDLED = PAYMENT_EVENTS | REFUND_EVENTS


class BadSignature(Exception):
    pass


class MalformedEvent(Exception):
    """A signed event whose body we cannot read; `code` says why (payments.messages.WEBHOOK_FAILURES)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _secret(processor: str) -> str:
    return settings.STRIPE_WEBHOOK_SECRET if processor == "stripe" else settings.SANDBOX_WEBHOOK_SECRET


def verify(processor: str, payload: bytes, signature: str) -> dict:
    """The event, if the signature is right and fresh; BadSignature otherwise."""
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature or "", _secret(processor),
                                              tolerance=TOLERANCE_SECONDS)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise BadSignature(str(error)) from None
    if not isinstance(event, dict) or not _is_text(event.get("id")) or not _is_text(event.get("type")):
        raise BadSignature("not an event")
    return event


def webhook_receive(*, processor: str, payload: bytes, signature: str) -> WebhookEvent:
    """Verify and store; queue the handling once the row is committed. Returns the stored event
    (the existing one for a duplicate)."""
    from payments.tasks import process_webhook_event

    event = verify(processor, payload, signature)
    try:
        with transaction.atomic():
            stored = WebhookEvent.objects.create(processor=processor, event_id=event["id"][:100],
                                                 type=event["type"][:100], payload=event)
    except IntegrityError:
        return WebhookEvent.objects.get(processor=processor, event_id=event["id"][:100])
    if stored.type in HANDLED:
        transaction.on_commit(lambda: process_webhook_event.delay(stored.pk))
    else:
        WebhookEvent.objects.filter(pk=stored.pk).update(processed_at=timezone.now(), outcome="ignored")
    return stored


def deliver_sandbox_event(payload: bytes, signature: str) -> WebhookEvent:
    """How the sandbox processor delivers its events (no HTTP hop; the same checks)."""
    return webhook_receive(processor="sandbox", payload=payload, signature=signature)


def _is_text(value) -> bool:
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
    if not _is_text(obj.get("id")):
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


def _our_payment(processor: str, obj: dict) -> Payment | None:
    payment = None
    if _is_text(obj.get("id")):
        payment = Payment.objects.filter(processor=processor, processor_payment_id=obj["id"]).first()
    payment_pk = _pk((obj.get("metadata") or {}).get("payment"))
    if payment is None and payment_pk is not None:
        payment = Payment.objects.filter(processor=processor, pk=payment_pk).first()
    return payment


def _our_refund(processor: str, obj: dict) -> Refund | None:
    refund = None
    if _is_text(obj.get("id")):
        refund = Refund.objects.filter(payment__processor=processor, processor_refund_id=obj["id"]).first()
    refund_pk = _pk((obj.get("metadata") or {}).get("refund"))
    if refund is None and refund_pk is not None:
        refund = Refund.objects.filter(payment__processor=processor, pk=refund_pk).first()
    return refund


def _owner_of_unreadable(event: WebhookEvent) -> tuple[Payment | None, int | None]:
    """Whose event it was, as far as its unreadable body still says: (our payment, account id)."""
    data = event.payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        return None, None
    if not isinstance(obj.get("metadata") or {}, dict):
        obj = {**obj, "metadata": {}}
    refund = _our_refund(event.processor, obj) if event.type in REFUND_EVENTS else None
    payment = refund.payment if refund is not None else _our_payment(event.processor, obj)
    if payment is not None:
        return payment, payment.account_id
    account_pk = _pk((obj.get("metadata") or {}).get("account"))
    known = Account.objects.filter(pk=account_pk).values_list("pk", flat=True).first() if account_pk else None
    return None, known


def _handle(event: WebhookEvent) -> tuple[str, Payment | None]:
    """Settle what the event is about; (outcome, our payment). MalformedEvent when unreadable."""
    obj = _object(event)
    if event.type in PAYMENT_EVENTS:
        payment = _our_payment(event.processor, obj)
        if payment is None:
            return "unknown payment", None
        if payment.processor_payment_id and payment.processor_payment_id != obj["id"]:
            return "other processor payment", payment
        current = get_gateway().retrieve_payment(obj["id"])
        settled = payment_settle(payment_id=payment.pk, result=current, source="webhook")
        return f"payment {settled.status}", payment
    if event.type in REFUND_EVENTS:
        refund = _our_refund(event.processor, obj)
        if refund is None:
            return "unknown refund", None
        settled = refund_settle(refund_id=refund.pk, result=_refund_answer(obj, refund), source="webhook")
        return f"refund {settled.status}", refund.payment
    return "ignored", None


def webhook_event_process(*, event_id: int) -> str:
    """Handle a stored event once. Returns what was done (kept on the row)."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_id)
        if event.processed_at:
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
    WebhookEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), outcome=outcome[:100], failure_code=failure_code, payment=payment,
        account_id=account_id)
    return outcome
