"""Thin tasks: ids in, a service call, retries with backoff on transient processor trouble."""

from celery import shared_task

from payments.gateway.errors import GatewayError
from payments.webhook_events import webhook_event_process


@shared_task(autoretry_for=(GatewayError,), retry_backoff=5, retry_backoff_max=300, max_retries=8,
             acks_late=True)
def process_webhook_event(event_id: int) -> str:
    return webhook_event_process(event_id=event_id)


@shared_task
def reconcile_payments() -> int:
    """Beat: settle charges and refunds left pending (a crash, a timeout) by asking the processor;
    within the processor's idempotency window, what never arrived is sent again with its own key."""
    from payments.services import (
        payment_reconcile,
        refund_reconcile,
        stale_pending_payment_ids,
        stale_pending_refund_ids,
    )

    payment_ids, refund_ids = stale_pending_payment_ids(), stale_pending_refund_ids()
    for payment_id in payment_ids:
        payment_reconcile(payment_id=payment_id)
    for refund_id in refund_ids:
        refund_reconcile(refund_id=refund_id)
    return len(payment_ids) + len(refund_ids)
