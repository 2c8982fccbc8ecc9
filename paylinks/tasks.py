"""Thin tasks of pay links: ids in, a call of their work in paylinks.mailing (posbackoffice.jobs)."""

from celery import shared_task
from django.utils import timezone

from paylinks.mailing import pay_link_email_run, pay_link_emails_due, pay_links_to_remind
from paylinks.reminders import pay_link_remind
from posbackoffice import jobs


@jobs.job_task()
def send_pay_link_email(self, *email_ids: int) -> None:
    """Render a pay link's e-mail (with its PDF invoice) and queue it in the outbox, each claimed on its own."""
    jobs.run_rows(self, email_ids, lambda pk: pay_link_email_run(email_id=pk))


@shared_task
def sweep_pay_link_emails() -> int:
    """Beat: enqueue the pay link e-mails not rendered yet (their task was lost)."""
    return jobs.sweep(send_pay_link_email, pay_link_emails_due(timezone.now()))


@shared_task
def remind_pay_links() -> int:
    """Beat: remind customers of unpaid links where the shop asks for it (paylinks.services.pay_link_remind,
    which decides under the link's lock and queues the e-mail)."""
    now = timezone.now()
    sent = 0
    for pk in pay_links_to_remind(now):
        email = pay_link_remind(link_id=pk, now=now)
        if email is not None:
            jobs.enqueue(send_pay_link_email, email.pk)
            sent += 1
    return sent
