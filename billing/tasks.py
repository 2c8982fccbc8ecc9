"""Thin tasks of billing: ids in, their work in billing.runs (posbackoffice.jobs)."""

from celery import shared_task
from django.utils import timezone

from billing import runs
from posbackoffice import jobs


@jobs.job_task()
def bill_accounts(self, *merchant_plan_ids: int) -> None:
    """Bill due accounts (the period, the hold fee, retries), each claimed on its own (billing.runs.bill)."""
    jobs.run_rows(self, merchant_plan_ids, lambda pk: runs.bill(pk))


@shared_task
def sweep_billing(batch: int = 1) -> int:
    """Beat, every 5 minutes: enqueue the accounts whose bill (period, hold fee, retry) has come."""
    return jobs.sweep(bill_accounts, runs.due_ids(timezone.now()), batch=batch)


@shared_task
def send_hold_reminders() -> int:
    """Beat, daily: the reminder 7 days before an estimated reactivation date (beyond the seed)."""
    return runs.send_hold_reminders(timezone.now())
