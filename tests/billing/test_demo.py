"""The demo shop's billing: the legacy Advanced plan with Subscriptions, a card on file, a balance and
invoices billed by the billing run, so the reactivation path recommends Pro with Subscriptions."""

import io

import pytest
from django.core.management import call_command

from accounts.models import Account
from billing import pricing
from billing.ledger import balance
from billing.models import Invoice, LedgerEntry, MerchantPlan

pytestmark = pytest.mark.django_db


def test_the_demo_shop_is_on_a_legacy_plan_with_a_real_recommendation():
    call_command("demo_data", "--small", stdout=io.StringIO())
    shop = Account.objects.get(name="Boutique Léa")
    mp = MerchantPlan.objects.select_related("plan").get(account=shop)
    assert mp.plan.legacy and mp.plan.code == "advanced" and mp.has_card and mp.discount_percent == 10
    invoices = Invoice.objects.filter(account=shop, kind=Invoice.Kind.PLAN)
    assert invoices.count() >= 3 and set(invoices.values_list("status", flat=True)) == {"paid"}
    assert LedgerEntry.objects.filter(account=shop).count() >= 2 and balance(shop) == 0
    assert pricing.closest_current_plan(mp.plan, shop.addons)[0].code == "pro"
    assert pricing.closest_current_plan(mp.plan, shop.addons)[1] == ["subscriptions"]

    call_command("demo_data", "--small", stdout=io.StringIO())
    assert Invoice.objects.filter(account=shop).count() == invoices.count()
