"""Thin tasks: ids in, a service call (posbackoffice.jobs: beat's sweeps enqueue one task per due row)."""

from celery import shared_task
from django.utils import timezone

from posbackoffice import jobs


@jobs.job_task()
def process_webhook_event(self, *event_ids: int) -> None:
    """Handle stored processor events, each claimed on its own; transient processor trouble is retried
    with backoff (payments.webhook_events.webhook_event_handle)."""
    from payments.webhook_events import webhook_event_handle

    jobs.run_rows(self, event_ids, lambda pk: webhook_event_handle(event_id=pk))


@shared_task
def sweep_webhook_events() -> int:
    """Beat: enqueue the stored events not processed yet (their task was lost, or their retry was)."""
    from payments.webhook_events import webhook_events_due

    return jobs.sweep(process_webhook_event, webhook_events_due(timezone.now()))


@jobs.job_task()
def reconcile_payment(self, *payment_ids: int) -> None:
    """Settle pending charges by asking the processor (payments.services.reconciling.payment_reconcile), one claim
    and one processor call each; what cannot be settled now stays due for the next sweep."""
    from payments.services.reconciling import payment_reconcile

    jobs.run_rows(self, payment_ids, lambda pk: payment_reconcile(payment_id=pk))


@jobs.job_task()
def reconcile_refund(self, *refund_ids: int) -> None:
    from payments.services.refunds import refund_reconcile

    jobs.run_rows(self, refund_ids, lambda pk: refund_reconcile(refund_id=pk))


@shared_task
def reconcile_payments() -> int:
    """Beat, every 2 minutes: the sweep of charges and refunds left pending (a crash, a timeout, a lost
    answer). One task per payment and per refund; within the processor's idempotency window, what never
    arrived is sent again with its own key."""
    from payments.services.reconciling import stale_pending_payment_ids, stale_pending_refund_ids

    now = timezone.now()
    return (jobs.sweep(reconcile_payment, stale_pending_payment_ids(now))
            + jobs.sweep(reconcile_refund, stale_pending_refund_ids(now)))
