"""The demo shop's subscriptions: the add-on on, two plans, subscriptions in every status made through
the services with their payment histories (one overdue after two failed retries), nothing added when
the demo loads again."""

import io

import pytest
from django.core.management import call_command

from accounts.addons import SUBSCRIPTIONS
from accounts.models import Account
from payments.models import Payment
from retail.models import Sale
from subscriptions.models import Plan, Subscription, SubscriptionCycle

pytestmark = pytest.mark.django_db


def test_the_demo_shop_has_subscriptions_in_every_status():
    call_command("demo_data", stdout=io.StringIO())
    shop = Account.objects.get(name="Boutique Léa")
    assert SUBSCRIPTIONS in shop.addons
    assert sorted(Plan.objects.filter(account=shop).values_list("name", flat=True)) == [
        "Adhésion annuelle", "Box du mois"]
    subs = Subscription.objects.filter(account=shop)
    assert subs.count() == 20
    assert set(subs.values_list("status", flat=True)) == set(Subscription.Status.values)
    assert subs.filter(cancel_at_period_end=True, status="active").count() == 1
    overdue = subs.get(status="overdue")
    cycle = SubscriptionCycle.objects.get(subscription=overdue)
    assert cycle.failures == 3 and cycle.next_retry_on is not None  # the first try and two retries failed
    paid = SubscriptionCycle.objects.filter(account=shop, status="paid")
    assert paid.count() >= 20
    assert Sale.objects.filter(account=shop, pk__in=paid.values("sale")).count() == paid.count()
    assert Payment.objects.filter(account=shop, purpose="subscription_cycle", status="failed").count() == 3

    call_command("demo_data", stdout=io.StringIO())
    assert Subscription.objects.filter(account=shop).count() == 20
