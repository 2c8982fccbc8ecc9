"""How subscriptions take part in the account's hold and in their add-on being switched off and on
(accounts.hold_hooks.ON_REACTIVATED, accounts.addons.CHANGE_LISTENERS, registered in SubscriptionsConfig.ready).

While the account is on hold, or the add-on is off, the billing run charges nothing
(`money_task_may_run`). Afterwards nothing is back-charged: a cycle that fell due meanwhile is skipped
and the next billing date moves to the first interval boundary on or after the day billing may run again,
counted from the start date as always (month ends stay anchored). A fixed duration counts billed cycles,
so the skipped periods do not count: its planned end moves out by as many periods."""

import datetime

from accounts.addons import SUBSCRIPTIONS
from accounts.audit import action_label
from accounts.models import AuditEvent
from accounts.tenancy import scoped
from subscriptions import lifecycle, periods
from subscriptions.models import Subscription, SubscriptionCycle

ADDON_OFF = "addon_off"  # Subscription.pause_reason (subscriptions/status.html says it)

# What the subscription's page lists under "Billing moved" (its history of skipped periods).
MOVES = ("subscription.hold_skipped", "subscription.paused_addon_off", "subscription.resumed_addon_on",
         "subscription.addon_skipped")

# Statuses whose next billing date moves on: an overdue one keeps retrying the cycle it owed before.
_MOVED = (Subscription.Status.ACTIVE, Subscription.Status.SCHEDULED)


def _locked(account, *statuses, **conditions):
    return list(scoped(Subscription, account).select_for_update(of=("self",)).select_related("plan")
                .filter(status__in=statuses, **conditions).order_by("pk"))


def _has_open_cycle(sub: Subscription) -> bool:
    """A cycle already made for the next period (a charge in flight or failed): left as it is."""
    return SubscriptionCycle.objects.filter(subscription=sub, period=sub.next_period).exists()


def _skip_missed(sub: Subscription, *, today, actor, now, action: str, **extra) -> bool:
    """Move a billable subscription whose billing date passed to the first boundary from today."""
    if sub.next_billing_date is None or sub.next_billing_date >= today or _has_open_cycle(sub):
        return False
    before = lifecycle.state(sub)
    sub.next_period = periods.first_period_from(sub.start_date, sub.plan.interval, today, at_least=sub.next_period)
    sub.next_billing_date = periods.period_start(sub.start_date, sub.plan.interval, sub.next_period)
    sub.due_at = periods.day_start(sub.account, sub.next_billing_date)
    sub.save(update_fields=["next_period", "next_billing_date", "due_at"])
    lifecycle.audit(sub, action, actor, before, now, **extra)
    return True


def subscriptions_reactivated(account, *, held_since, now) -> int:
    """ON_REACTIVATED: the cycles that fell due during the hold are skipped, not back-charged. Answers
    how many subscriptions moved."""
    today = periods.shop_today(account, now)
    moved = 0
    for sub in _locked(account, *_MOVED):
        sub.account = account
        moved += _skip_missed(sub, today=today, actor=None, now=now, action="subscription.hold_skipped",
                              held_since=held_since)
    return moved


def addon_changed(*, actor, account, code: str, on: bool, now) -> None:
    """CHANGE_LISTENERS: the Subscriptions add-on removed pauses the customers' live subscriptions (the
    reason shown); back, they resume at the next boundary with no back-charges."""
    if code != SUBSCRIPTIONS:
        return
    if on:
        _resume_all(account, actor=actor, now=now)
    else:
        _pause_all(account, actor=actor, now=now)


def _charging(sub: Subscription) -> bool:
    return SubscriptionCycle.objects.filter(subscription=sub, status=SubscriptionCycle.Status.PENDING,
                                            payment__status="pending").exists()


def _pause_all(account, *, actor, now) -> None:
    for sub in _locked(account, *Subscription.BILLABLE):
        if _charging(sub):  # left to settle; charged no more while the add-on is off (money_task_may_run)
            continue
        sub.account = account
        before = lifecycle.state(sub)
        lifecycle.abandon_open_cycle(sub)
        sub.status, sub.paused_at, sub.due_at, sub.pause_reason = Subscription.Status.PAUSED, now, None, ADDON_OFF
        sub.save(update_fields=["status", "paused_at", "due_at", "pause_reason"])
        lifecycle.audit(sub, "subscription.paused_addon_off", actor, before, now, reason=ADDON_OFF)


def _resume_all(account, *, actor, now) -> None:
    today = periods.shop_today(account, now)
    for sub in _locked(account, Subscription.Status.PAUSED, pause_reason=ADDON_OFF):
        sub.account = account
        before = lifecycle.state(sub)
        sub.next_period = periods.first_period_from(sub.start_date, sub.plan.interval, today,
                                                    at_least=sub.next_period)
        sub.next_billing_date = periods.period_start(sub.start_date, sub.plan.interval, sub.next_period)
        started = sub.cycles_billed or SubscriptionCycle.objects.filter(subscription=sub).exists()
        sub.status = Subscription.Status.ACTIVE if started else Subscription.Status.SCHEDULED
        sub.paused_at, sub.pause_reason = None, ""
        sub.due_at = periods.day_start(account, sub.next_billing_date)
        sub.save(update_fields=["status", "paused_at", "pause_reason", "next_period", "next_billing_date", "due_at"])
        lifecycle.audit(sub, "subscription.resumed_addon_on", actor, before, now)
    # Those the add-on's removal found charging were left to finish; their dates passed meanwhile.
    for sub in _locked(account, *_MOVED):
        sub.account = account
        _skip_missed(sub, today=today, actor=actor, now=now, action="subscription.addon_skipped")


def billing_moves(account, sub: Subscription) -> list[dict]:
    """The subscription's history of what the hold and the add-on did to it, newest first:
    [{"at", "label", "before", "after"}] with the billing dates before and after."""
    events = (scoped(AuditEvent, account).filter(object_type=sub._meta.label_lower, object_id=str(sub.pk),
                                                 action__in=MOVES).order_by("-created_at", "-id"))
    def day(state):
        value = (state or {}).get("next_billing_date")
        return datetime.date.fromisoformat(value) if value else None

    return [{"at": event.created_at, "label": action_label(event.action), "before": day(event.before),
             "after": day(event.after)} for event in events]
