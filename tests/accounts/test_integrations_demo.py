"""The demo shop's integrations: Xero connected (sandbox) with the last days' register closures and
on-account sales waiting for "Post now", older ones posted; two third-party apps connected; nothing added
when the demo loads again."""

import io

import pytest
from django.core.management import call_command

from accounts.accounting.sources import unposted
from accounts.hold_hooks import integrations_in_use
from accounts.models import Account, AccountingConnection, AccountingPosting, AppConnection

pytestmark = pytest.mark.django_db


def test_the_demo_shop_has_xero_with_a_few_unposted_items_and_two_apps():
    call_command("demo_data", stdout=io.StringIO())
    shop = Account.objects.get(name="Boutique Léa")

    connection = AccountingConnection.objects.get(account=shop)
    assert connection.adapter == "sandbox"
    waiting = {kind["kind"]: kind["count"] for kind in unposted(shop)}
    assert 1 <= waiting["closure"] <= 12 and waiting["on_account_sale"] >= 1
    assert AccountingPosting.objects.filter(account=shop, kind="closure").count() > waiting["closure"]
    assert [i.key for i in integrations_in_use(shop)] == ["app:loyaltyloop", "app:shiftplanner", "xero"]

    call_command("demo_data", stdout=io.StringIO())
    assert AccountingConnection.objects.filter(account=shop).count() == 1
    assert AppConnection.objects.filter(account=shop).count() == 2
