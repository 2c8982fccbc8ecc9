"""Samples for subscriptions: rows written straight (a plan, a subscription, a cycle and its payment)."""

import datetime

from subscriptions.models import Plan, Subscription, SubscriptionCycle
from tests.factories import RegisterFactory, owner_of
from tests.payments.builders import payment
from tests.retail.factories import CustomerFactory


def _plan(account):
    return Plan.objects.create(account=account, name="Sample plan", interval="monthly")


def _subscription(account) -> Subscription:
    register = RegisterFactory(outlet__account=account)
    return Subscription.objects.create(
        account=account, customer=CustomerFactory(account=account), plan=_plan(account), outlet=register.outlet,
        register=register, status=Subscription.Status.OVERDUE, start_date=datetime.date(2026, 1, 1),
        created_by=owner_of(account))


def _payment(account):
    sub = _subscription(account)
    cycle = SubscriptionCycle.objects.create(
        account=account, subscription=sub, period=0, period_start=sub.start_date,
        period_end=datetime.date(2026, 2, 1), amount=1250, currency=account.currency,
        status=SubscriptionCycle.Status.FAILED)
    paid = payment(account, purpose="subscription_cycle", purpose_ref=cycle.pk, status="failed")
    SubscriptionCycle.objects.filter(pk=cycle.pk).update(payment=paid)
    return {"subscription_id": sub.pk, "payment_id": paid.pk}


SAMPLES = {
    "subscriptions:plan_edit": lambda account: {"plan_id": _plan(account).pk},
    "subscriptions:plan_archive": lambda account: {"plan_id": _plan(account).pk},
    **{f"subscriptions:{name}": lambda account: {"subscription_id": _subscription(account).pk}
       for name in ("detail", "pause", "resume", "cancel", "notes", "change_card")},
    **{f"subscriptions:{name}": _payment for name in ("payment", "retry", "refund")},
}
