"""Processor webhooks, receiving: verify, store once, queue the handling (payments.webhook_events) for
the worker.

One endpoint per processor account, each with its own secret: `/webhooks/stripe/` (the merchant's Stripe
account, STRIPE_WEBHOOK_SECRET), `/webhooks/platform/stripe/` (the platform's, PLATFORM_STRIPE_WEBHOOK_SECRET)
and `/webhooks/sandbox/` (the offline sandbox, which both payees use by default, SANDBOX_WEBHOOK_SECRET;
its events normally arrive without the HTTP hop, through `deliver_sandbox_event`). All use Stripe's
signature scheme (header `t=<unix>,v1=<hmac-sha256 of "t.payload">`, 300 s tolerance), so the sandbox's
events travel the same path as Stripe's. An event is stored under a unique (processor, payee, event id)
before anything else: a replay or a duplicate is recognised and changes nothing. An event without a text
id and type is not an event (400); one whose body cannot be read is stored and recorded as failed by its
handling (payments.webhook_events).
"""

import json
import logging

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.gateway import PAYEES, payee_setting
from payments.models import PaymentAttempt, WebhookEvent
from payments.tasks import process_webhook_event
from payments.webhook_events import PAYMENT_EVENTS, REFUND_EVENTS, _pk, handled_types, is_text
from posbackoffice import jobs

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300
SANDBOX_SENDER = ""  # the payee of the sandbox's events: one processor, for both payees


class BadSignature(Exception):
    pass


def _secret(processor: str, payee: str) -> str:
    if processor == "sandbox" and payee == SANDBOX_SENDER:
        return settings.SANDBOX_WEBHOOK_SECRET
    if processor == "stripe" and payee in PAYEES:
        return payee_setting(payee, "STRIPE_WEBHOOK_SECRET")
    raise ValueError(f"no webhook endpoint for processor {processor!r} and payee {payee!r}")


def verify(processor: str, payee: str, payload: bytes, signature: str) -> dict:
    """The event, if the signature is right and fresh for this processor account; BadSignature otherwise."""
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature or "", _secret(processor, payee),
                                              tolerance=TOLERANCE_SECONDS)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise BadSignature(str(error)) from None
    if not isinstance(event, dict) or not is_text(event.get("id")) or not is_text(event.get("type")):
        raise BadSignature("not an event")
    return event


def webhook_receive(*, processor: str, payee: str, payload: bytes, signature: str) -> WebhookEvent:
    """Verify and store the event a processor account sent (`payee`: whose account; SANDBOX_SENDER for
    the sandbox); queue the handling once the row is committed. Returns the stored event (the existing
    one for a duplicate)."""
    event = verify(processor, payee, payload, signature)
    try:
        with transaction.atomic():
            stored = WebhookEvent.objects.create(processor=processor, payee=payee, event_id=event["id"][:100],
                                                 type=event["type"][:100], payload=event)
    except IntegrityError:
        return WebhookEvent.objects.get(processor=processor, payee=payee, event_id=event["id"][:100])
    if stored.type in handled_types():
        if not _charge_in_flight(stored):
            jobs.enqueue(process_webhook_event, stored.pk, priority=_priority(stored))
    else:
        WebhookEvent.objects.filter(pk=stored.pk).update(processed_at=timezone.now(), outcome="ignored")
    return stored


def _priority(event: WebhookEvent) -> int:
    """Money first: a payment's or a refund's event goes before the others (a card reader's, a card
    setup's). When 50 readers take payments at once, each payment's event settles the payment and ends its
    reader's action (the cashier's screen moves on), and each reader then sends an event of its own that
    has nothing left to do: queued behind the payments, those no longer delay the next cashier."""
    return jobs.FIRST if event.type in PAYMENT_EVENTS or event.type in REFUND_EVENTS else jobs.AFTER


def _charge_in_flight(event: WebhookEvent) -> bool:
    """An event about a charge whose caller still holds its attempt (payments.services: it is talking to
    the processor about it): that caller settles with the answer in hand, so the event is not queued
    now; it stays stored and unprocessed, and the sweep handles it after its grace
    (payments.webhook_events.EVENT_SWEEP_GRACE) — a no-op by then, or the settlement itself should the
    caller have died. Saves a task and a processor read per charge of a busy billing run."""
    if event.type not in PAYMENT_EVENTS:
        return False
    data = event.payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    payment_pk = _pk(metadata.get("payment")) if isinstance(metadata, dict) else None
    return payment_pk is not None and PaymentAttempt.objects.filter(
        payment_id=payment_pk, kind=PaymentAttempt.Kind.CHARGE, lease_until__gt=timezone.now()).exists()


def deliver_sandbox_event(payload: bytes, signature: str) -> WebhookEvent:
    """The sandbox processor's events arrive here (no HTTP hop; the same checks): PaymentsConfig.ready
    registers it with the sandbox (payments.sandbox.events.RECEIVERS)."""
    return webhook_receive(processor="sandbox", payee=SANDBOX_SENDER, payload=payload, signature=signature)
