"""Reminder e-mails of unpaid links (beyond the seed): off by default; after N days, at most 3; never after
payment or deactivation."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from paylinks.models import PayLink, PayLinkEmail
from paylinks.services import pay_link_deactivate, paylink_settings_update
from paylinks.tasks import remind_pay_links
from tests.paylinks.builders import on_account_sale, online_shop, sent_link

pytestmark = pytest.mark.django_db


def _reminders(link):
    return PayLinkEmail.objects.filter(link=link, kind=PayLinkEmail.Kind.REMINDER).count()


def test_no_reminders_by_default(account):
    shop = online_shop(account)
    link = sent_link(shop, on_account_sale(shop))
    with time_machine.travel(timezone.now() + datetime.timedelta(days=30)):
        remind_pay_links()
    assert _reminders(link) == 0


def test_after_n_days_at_most_three_never_after_deactivation(account):
    shop = online_shop(account)
    paylink_settings_update(actor=shop.actor, account=account, online_payments_enabled=True, reminder_days=3)
    link = sent_link(shop, on_account_sale(shop))
    other = sent_link(shop, on_account_sale(shop))
    start = timezone.now()
    with time_machine.travel(start + datetime.timedelta(days=2)):
        remind_pay_links()
    assert _reminders(link) == 0
    with time_machine.travel(start + datetime.timedelta(days=3, hours=1)):
        remind_pay_links()
        remind_pay_links()  # a second sweep at once sends nothing more
    assert _reminders(link) == 1 and _reminders(other) == 1
    pay_link_deactivate(actor=shop.actor, account=account, link_id=other.pk)
    for days in (7, 11, 15, 19):
        with time_machine.travel(start + datetime.timedelta(days=days)):
            remind_pay_links()
    assert _reminders(link) == 3 and _reminders(other) == 1
    assert PayLink.objects.get(pk=link.pk).reminders_sent == 3
