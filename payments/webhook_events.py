"""Processor webhooks, handling a stored event (payments.tasks.process_webhook_event, queued by
payments.webhooks once the event is stored).

Handlers treat an event as a hint and read the current state from the processor (or the event's object
for refunds), so events arriving out of order cannot move a payment backwards; the settling services
ignore a second answer.
"""

import datetime
import logging

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from payments.gateway import get_gateway
from payments.gateway.base import ProcessorRefund
from payments.gateway.errors import GatewayError
from payments.models import Payment, Refund, WebhookEvent
from payments.services import payment_settle, refund_settle
from posbackoffice import jobs

logger = logging.getLogger(__name__)

PAYMENT_EVENTS = {
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.requires_action",
    "payment_intent.canceled", "payment_intent.processing",
}
REFUND_EVENTS = {"refund.created", "refund.updated", "charge.refund.updated"}
HANDLED = PAYMENT_EVENTS | REFUND_EVENTS
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


def _our_payment(event: WebhookEvent, obj: dict) -> Payment | None:
    payments = Payment.objects.filter(**_sent_about(event))
    metadata = obj.get("metadata") or {}
    payment = None
    if obj.get("id"):
        payment = payments.filter(processor_payment_id=obj["id"]).first()
    if payment is None and str(metadata.get("payment", "")).isdigit():
        payment = payments.filter(pk=int(metadata["payment"])).first()
    return payment


def webhook_events_due(now) -> list[int]:
    """Stored events still to handle that nobody holds (index webhook_event_unprocessed)."""
    return list(WebhookEvent.objects.filter(jobs.unclaimed(now), processed_at__isnull=True, type__in=HANDLED,
                                            tries__lt=WebhookEvent.MAX_TRIES,
                                            received_at__lt=now - EVENT_SWEEP_GRACE)
                .order_by("received_at").values_list("pk", flat=True)[:jobs.SWEEP_LIMIT])


def webhook_event_handle(*, event_id: int) -> str | None:
    """The worker's side: claim the stored event and process it. None when another worker holds it, its
    retry is not due, or it is done. Transient processor trouble releases it held back for a retry with
    backoff (jobs.TryLater); after MAX_TRIES it stays unprocessed, visible in the admin, and is no longer
    swept (reconciliation settles its payment anyway)."""
    claim = jobs.claim(WebhookEvent, event_id, seconds=EVENT_LEASE_SECONDS, tries=F("tries") + 1,
                       due=Q(processed_at__isnull=True, tries__lt=WebhookEvent.MAX_TRIES))
    if claim is None:
        return None
    try:
        outcome = webhook_event_process(event_id=event_id)
    except GatewayError:
        tries = WebhookEvent.objects.values_list("tries", flat=True).get(pk=event_id)
        countdown = jobs.backoff(tries, base=EVENT_RETRY_BASE_SECONDS, cap=EVENT_RETRY_CAP_SECONDS)
        claim.release(hold=countdown)
        raise jobs.TryLater(countdown) from None
    claim.release()
    return outcome


def webhook_event_process(*, event_id: int) -> str:
    """Handle a stored event once. Returns what was done (kept on the row)."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_id)
        if event.processed_at:
            return event.outcome
    obj = (event.payload.get("data") or {}).get("object") or {}
    outcome = "ignored"
    payment = None
    try:
        if event.type in PAYMENT_EVENTS:
            payment = _our_payment(event, obj)
            if payment is None:
                outcome = "unknown payment"
            else:
                if payment.processor_payment_id and payment.processor_payment_id != obj.get("id"):
                    outcome = "other processor payment"
                else:
                    current = get_gateway(payment.payee).retrieve_payment(obj["id"])
                    settled = payment_settle(payment_id=payment.pk, result=current, source="webhook")
                    outcome = f"payment {settled.status}"
        elif event.type in REFUND_EVENTS:
            refunds = Refund.objects.filter(**_sent_about(event, "payment__"))
            refund = refunds.filter(processor_refund_id=obj.get("id")).first()
            if refund is None and str((obj.get("metadata") or {}).get("refund", "")).isdigit():
                refund = refunds.filter(pk=int(obj["metadata"]["refund"])).first()
            if refund is None:
                outcome = "unknown refund"
            else:
                payment = refund.payment
                result = ProcessorRefund(id=obj.get("id", ""), payment_id=obj.get("payment_intent") or "",
                                         amount=int(obj.get("amount") or refund.amount),
                                         status=obj.get("status", "pending"))
                settled = refund_settle(refund_id=refund.pk, result=result, source="webhook")
                outcome = f"refund {settled.status}"
    except GatewayError as error:
        # Leave it unprocessed: the task retries, and reconciliation covers the payment anyway.
        logger.warning("webhook %s not handled yet: %s", event.event_id, error.code)
        raise
    WebhookEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), outcome=outcome[:100], payment=payment,
        account_id=payment.account_id if payment else None)
    return outcome
