"""Subscriptions taking part in the account's hold (accounts.hold_hooks.ON_REACTIVATED) and in their
add-on being removed and coming back (accounts.addons.CHANGE_LISTENERS): nothing charged meanwhile,
nothing back-charged afterwards, month ends still anchored, fixed durations not counting the held periods."""

import datetime

import pytest
from django.db import transaction

from accounts import hold_hooks
from accounts.addons import SUBSCRIPTIONS
from accounts.models import Account, AuditEvent
from accounts.services import account_addon_disable, account_addon_enable
from subscriptions import selectors
from subscriptions.models import Subscription
from tests.factories import suspend
from tests.subscriptions.builders import (
    monthly_box,
    paris,
    payments_of,
    refreshed,
    run_due,
    subscribe,
    subscriber,
    travel,
)

pytestmark = pytest.mark.django_db
D = datetime.date


def reactivate(account, *, held_since, now):
    """What billing's reactivation does for the apps taking part: active again, then told, in one
    transaction."""
    with transaction.atomic():
        Account.objects.filter(pk=account.pk).update(status=Account.Status.ACTIVE)
        account.refresh_from_db()
        hold_hooks.reactivated(account, held_since=held_since, now=now)


def billing_dates(sub):
    return [payment.created_at.astimezone(paris(2028, 1, 1).tzinfo).date() for payment in payments_of(sub)]


def test_cycles_due_during_the_hold_are_skipped_and_month_ends_stay_anchored(shop):
    customer = subscriber(shop)
    with travel(paris(2028, 1, 31, 9)):
        sub = subscribe(shop, customer, monthly_box(shop, ships=False))
        run_due()
    with travel(paris(2028, 2, 29, 9)):
        run_due()
    assert refreshed(sub).next_billing_date == D(2028, 3, 31)
    held_since = paris(2028, 3, 15, 11)
    with travel(held_since):
        suspend(shop.account)
    for day in (paris(2028, 3, 31, 9), paris(2028, 4, 30, 9), paris(2028, 5, 31, 9)):
        with travel(day):
            run_due()
    assert len(payments_of(sub)) == 2  # nothing charged during the hold
    assert refreshed(sub).next_billing_date == D(2028, 3, 31)

    now = paris(2028, 6, 10, 14)
    with travel(now):
        reactivate(shop.account, held_since=held_since, now=now)
        run_due()

    sub = refreshed(sub)
    assert sub.status == Subscription.Status.ACTIVE
    assert sub.next_billing_date == D(2028, 6, 30) and sub.next_period == 5  # 31 Jan + 5 months, anchored
    assert len(payments_of(sub)) == 2  # no back-charge for March, April, May
    event = AuditEvent.objects.get(account=shop.account, action="subscription.hold_skipped")
    assert event.before["next_billing_date"] == "2028-03-31" and event.after["next_billing_date"] == "2028-06-30"
    assert event.after["held_since"].startswith("2028-03-15")
    with travel(paris(2028, 6, 30, 9)):
        run_due()
    with travel(paris(2028, 7, 31, 9)):
        run_due()
    assert billing_dates(sub) == [D(2028, 1, 31), D(2028, 2, 29), D(2028, 6, 30), D(2028, 7, 31)]


def test_a_fixed_duration_does_not_count_the_held_periods(shop):
    customer = subscriber(shop)
    plan = monthly_box(shop, interval="weekly", duration_intervals=4, ships=False)
    with travel(paris(2028, 6, 5, 9)):  # a Monday
        sub = subscribe(shop, customer, plan)
        run_due()
    with travel(paris(2028, 6, 12, 9)):
        run_due()
    assert selectors.planned_end(refreshed(sub)) == D(2028, 7, 3)
    held_since = paris(2028, 6, 14, 9)
    with travel(held_since):
        suspend(shop.account)
    for day in (19, 26):
        with travel(paris(2028, 6, day, 9)):
            run_due()
    now = paris(2028, 7, 4, 9)
    with travel(now):
        reactivate(shop.account, held_since=held_since, now=now)
        run_due()

    sub = refreshed(sub)
    assert sub.next_billing_date == D(2028, 7, 10)
    assert selectors.planned_end(sub) == D(2028, 7, 24)  # moved out by the three skipped weeks
    for day in (10, 17, 24):
        with travel(paris(2028, 7, day, 9)):
            run_due()
    sub = refreshed(sub)
    assert sub.status == Subscription.Status.EXPIRED
    assert billing_dates(sub) == [D(2028, 6, 5), D(2028, 6, 12), D(2028, 7, 10), D(2028, 7, 17)]


def test_a_subscription_not_yet_due_is_left_as_it_is(shop):
    customer = subscriber(shop)
    with travel(paris(2028, 1, 10, 9)):
        sub = subscribe(shop, customer, monthly_box(shop, ships=False))
        run_due()
        suspend(shop.account)
    now = paris(2028, 1, 20, 9)
    with travel(now):
        reactivate(shop.account, held_since=paris(2028, 1, 10, 10), now=now)
    assert refreshed(sub).next_billing_date == D(2028, 2, 10)
    assert not AuditEvent.objects.filter(action="subscription.hold_skipped").exists()


def test_removing_the_add_on_pauses_them_with_the_reason_and_its_return_resumes_them(shop):
    customer = subscriber(shop)
    with travel(paris(2028, 1, 31, 9)):
        sub = subscribe(shop, customer, monthly_box(shop, ships=False))
        run_due()
    with travel(paris(2028, 2, 10, 9)):
        account_addon_disable(actor=shop.actor, account=shop.account, code=SUBSCRIPTIONS)
    sub = refreshed(sub)
    assert (sub.status, sub.pause_reason, sub.due_at) == (Subscription.Status.PAUSED, "addon_off", None)
    for day in (paris(2028, 2, 29, 9), paris(2028, 3, 31, 9)):
        with travel(day):
            run_due()
    assert len(payments_of(sub)) == 1

    with travel(paris(2028, 4, 12, 9)):
        account_addon_enable(actor=shop.actor, account=shop.account, code=SUBSCRIPTIONS)
        run_due()

    sub = refreshed(sub)
    assert (sub.status, sub.pause_reason, sub.next_billing_date) == (Subscription.Status.ACTIVE, "", D(2028, 4, 30))
    assert len(payments_of(sub)) == 1  # no back-charges for February and March
    with travel(paris(2028, 4, 30, 9)):
        run_due()
    assert billing_dates(sub) == [D(2028, 1, 31), D(2028, 4, 30)]
    actions = list(AuditEvent.objects.filter(account=shop.account, action__in=[
        "subscription.paused_addon_off", "subscription.resumed_addon_on"]).values_list("action", flat=True)
        .order_by("pk"))
    assert actions == ["subscription.paused_addon_off", "subscription.resumed_addon_on"]


def test_a_subscription_paused_by_staff_stays_paused_when_the_add_on_returns(shop):
    from subscriptions.services import subscription_pause

    customer = subscriber(shop)
    with travel(paris(2028, 1, 31, 9)):
        sub = subscribe(shop, customer, monthly_box(shop, ships=False))
        run_due()
        subscription_pause(actor=shop.actor, account=shop.account, subscription_id=sub.pk)
        account_addon_disable(actor=shop.actor, account=shop.account, code=SUBSCRIPTIONS)
        account_addon_enable(actor=shop.actor, account=shop.account, code=SUBSCRIPTIONS)
    sub = refreshed(sub)
    assert (sub.status, sub.pause_reason) == (Subscription.Status.PAUSED, "")


def test_the_status_says_why_it_is_paused(shop):
    """The status badge (list, detail) and the Activity log say the add-on's removal paused it."""
    from django.template.loader import render_to_string

    customer = subscriber(shop)
    with travel(paris(2028, 1, 31, 9)):
        sub = subscribe(shop, customer, monthly_box(shop, ships=False))
        run_due()
        account_addon_disable(actor=shop.actor, account=shop.account, code=SUBSCRIPTIONS)
    badge = render_to_string("subscriptions/status.html", {"sub": refreshed(sub)})
    assert 'data-status="paused"' in badge and "Subscriptions add-on removed" in badge
    from accounts.audit import action_label
    assert action_label("subscription.paused_addon_off") == "Subscription paused: Subscriptions add-on removed"


def test_the_subscriptions_page_lists_the_skipped_periods(shop, client):
    from django.urls import reverse

    from tests.retail.builders import in_english
    from tests.retail.builders import page_text as text

    customer = subscriber(shop)
    with travel(paris(2028, 1, 31, 9)):
        sub = subscribe(shop, customer, monthly_box(shop, ships=False))
        run_due()
    with travel(paris(2028, 2, 10, 9)):
        suspend(shop.account)
    now = paris(2028, 4, 5, 9)
    with travel(now):
        reactivate(shop.account, held_since=paris(2028, 2, 10, 9), now=now)
        client.force_login(in_english(shop.actor))
        page = text(client.get(reverse("subscriptions:detail", args=[sub.pk])))
    assert "Billing paused or moved" in page
    assert "Subscription billing moved past the account&#x27;s hold" in page or "account's hold" in page
    assert "2/29/2028 → 4/30/2028" in page or "02/29/2028 → 04/30/2028" in page
