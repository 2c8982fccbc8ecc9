"""Celery tasks of the accounts app: thin wrappers that take plain values and call Django."""

from celery import shared_task
from django.contrib.sessions.models import Session
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone


@shared_task(autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def send_email(*, subject: str, body: str, to: list[str], html_body: str | None = None) -> int:
    """Send one already-rendered e-mail. Rendering happens in the request (in the reader's
    language); the worker only delivers, retrying when the mail server is unreachable."""
    message = EmailMultiAlternatives(subject=subject, body=body, to=to)
    if html_body:
        message.attach_alternative(html_body, "text/html")
    return message.send()


@shared_task
def clear_expired_sessions() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
