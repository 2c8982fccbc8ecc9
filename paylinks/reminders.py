"""Reminders of unpaid pay links (beyond the seed): after the shop's number of days, at most MAX_REMINDERS
times, never once a link is paid or deactivated. Run by the beat task paylinks.tasks.remind_pay_links."""

from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from paylinks.availability import email_row, online_payments_on, settings_of
from paylinks.models import MAX_REMINDERS, PayLink, PayLinkEmail


@transaction.atomic
def pay_link_remind(*, link_id: int, now=None) -> PayLinkEmail | None:
    """A reminder of an unpaid link, when the shop asks for reminders and one is due: `reminder_days` after
    the link was sent or last reminded, at most MAX_REMINDERS times, never once it is paid or deactivated.
    Answers the reminder's e-mail row, which the caller enqueues once committed; None when nothing is due
    (a second sweep finds the count already moved on)."""
    now = now or timezone.now()
    link = PayLink.objects.select_for_update(of=("self",)).select_related("account").filter(pk=link_id).first()
    if link is None or link.status != PayLink.Status.ACTIVE or link.reminders_sent >= MAX_REMINDERS:
        return None
    days = settings_of(link.account).reminder_days
    if not days or not online_payments_on(link.account):
        return None
    since = link.last_reminded_at or link.created_at
    if (now - since).total_seconds() < days * 86400:
        return None
    link.reminders_sent += 1
    link.last_reminded_at = now
    link.save(update_fields=["reminders_sent", "last_reminded_at"])
    audit_record(account=link.account, actor=None, action="pay_link.reminded", target=link,
                 after={"reminders_sent": link.reminders_sent}, at=now)
    return email_row(link, PayLinkEmail.Kind.REMINDER, now)
