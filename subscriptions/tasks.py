"""Thin tasks of subscriptions: ids in, their work in subscriptions.billing (posbackoffice.jobs)."""

from celery import shared_task
from django.utils import timezone

from posbackoffice import jobs
from subscriptions import billing


@jobs.job_task()
def bill_subscriptions(self, *subscription_ids: int) -> None:
    """Bill due subscriptions, each claimed on its own (subscriptions.billing.bill)."""
    jobs.run_rows(self, subscription_ids, lambda pk: billing.bill(pk))


@shared_task
def sweep_due_subscriptions(batch: int = 1) -> int:
    """Beat, every minute: enqueue the subscriptions whose billing date (or retry) has come."""
    return jobs.sweep(bill_subscriptions, billing.due_ids(timezone.now()), batch=batch)


@shared_task
def send_renewal_reminders() -> int:
    """Beat, daily: the renewal reminder of plans that ask for one (beyond the seed)."""
    return billing.remind_renewals(timezone.now())
