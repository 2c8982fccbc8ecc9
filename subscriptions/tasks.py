"""Thin tasks of subscriptions: ids in, their work in subscriptions.billing (posbackoffice.jobs)."""

from celery import shared_task
from django.utils import timezone

from posbackoffice import jobs
from subscriptions import batch as billing_batch
from subscriptions import billing


@jobs.job_task()
def bill_subscriptions(self, *subscription_ids: int) -> None:
    """Bill due subscriptions, claimed together (subscriptions.batch.bill_many)."""
    billing_batch.bill_many(subscription_ids)


@shared_task
def sweep_due_subscriptions(batch: int = billing_batch.BATCH_SIZE) -> int:
    """Beat, every minute: enqueue the subscriptions whose billing date (or retry) has come, `batch` ids a
    message (up to SWEEP_LIMIT a minute; a row still queued from the last sweep is enqueued again and the
    claim turns the second message away)."""
    return jobs.sweep(bill_subscriptions, billing.due_ids(timezone.now(), limit=billing_batch.SWEEP_LIMIT),
                      batch=batch)


@shared_task
def send_renewal_reminders() -> int:
    """Beat, daily: the renewal reminder of plans that ask for one (beyond the seed)."""
    return billing.remind_renewals(timezone.now())
