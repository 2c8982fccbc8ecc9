"""The demo shop's saved cards: the feature on, three customers with a card saved through the sandbox
(one expiring this month), the first one with an older card that has since expired, and nothing added
when the demo loads again."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Account
from retail.models import Customer
from saved_cards import selectors
from saved_cards.models import SavedCard, SavedCardSettings
from tests.saved_cards.builders import sandbox_cards

pytestmark = pytest.mark.django_db


def test_the_demo_shop_has_saved_cards(monkeypatch):
    monkeypatch.setattr("subscriptions.demo.load", lambda account: None)  # tests/subscriptions/test_demo.py
    call_command("demo_data", "--small", stdout=io.StringIO())
    shop = Account.objects.get(name="Boutique Léa")

    settings = SavedCardSettings.objects.get(account=shop)
    assert settings.enabled and settings.terms_accepted_by.email == "owner@demo.test"
    cards = list(SavedCard.objects.filter(account=shop).order_by("pk"))
    assert [card.last4 for card in cards] == ["4242", "4444", "0341", "8210"]
    *valid, expired = cards
    assert all(card.is_default and card.payment_method_id in sandbox_cards(card.processor_customer_id)
               for card in valid)
    expiring = selectors.with_expiring_default_card(Customer.objects.filter(account=shop), shop)
    assert list(expiring) == [cards[1].customer]
    assert not SavedCard.objects.exclude(account=shop).exists()

    # Saved long ago by the first customer, expired since: marked, never the default, listed last.
    today = selectors.shop_today(shop)
    assert (expired.customer, expired.is_default, expired.is_expired) == (cards[0].customer, False, True)
    assert expired.created_at < timezone.now() - datetime.timedelta(days=365) and expired.expires_on < today
    listed = selectors.customer_cards(shop, expired.customer, today)
    assert [card.last4 for card in listed] == ["4242", "8210"]
    assert set(sandbox_cards(expired.processor_customer_id)) == {cards[0].payment_method_id,
                                                                  expired.payment_method_id}

    call_command("demo_data", "--small", stdout=io.StringIO())
    assert SavedCard.objects.count() == 4 and SavedCardSettings.objects.count() == 1
