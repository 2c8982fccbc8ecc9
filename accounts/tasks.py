"""Celery tasks of the accounts app: thin wrappers that take ids and call a service."""

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone

from posbackoffice import jobs


@jobs.job_task()
def deliver_email(self, *email_ids: int) -> None:
    """Deliver queued e-mails (accounts.email_delivery.email_deliver), each claimed on its own."""
    from accounts.email_delivery import email_deliver

    jobs.run_rows(self, email_ids, lambda pk: email_deliver(email_id=pk))


@shared_task
def send_due_emails() -> int:
    """Beat: enqueue the e-mails still waiting for delivery (the outbox sweep)."""
    from accounts.selectors import emails_due

    return jobs.sweep(deliver_email, emails_due(timezone.now()))


@shared_task
def clear_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
