"""The demo shop's saved cards: the feature on, three customers with a card saved through the sandbox
(one expiring this month), and nothing added when the demo loads again."""

import io

import pytest
from django.core.management import call_command

from accounts.models import Account
from retail.models import Customer
from saved_cards import selectors
from saved_cards.models import SavedCard, SavedCardSettings
from tests.saved_cards.builders import sandbox_cards

pytestmark = pytest.mark.django_db


def test_the_demo_shop_has_saved_cards():
    call_command("demo_data", "--small", stdout=io.StringIO())
    shop = Account.objects.get(name="Boutique Léa")

    settings = SavedCardSettings.objects.get(account=shop)
    assert settings.enabled and settings.terms_accepted_by.email == "owner@demo.test"
    cards = list(SavedCard.objects.filter(account=shop).order_by("pk"))
    assert [card.last4 for card in cards] == ["4242", "4444", "0341"]
    assert all(card.is_default and sandbox_cards(card.processor_customer_id) == [card.payment_method_id]
               for card in cards)
    expiring = selectors.with_expiring_default_card(Customer.objects.filter(account=shop), shop)
    assert list(expiring) == [cards[1].customer]
    assert not SavedCard.objects.exclude(account=shop).exists()

    call_command("demo_data", "--small", stdout=io.StringIO())
    assert SavedCard.objects.count() == 3 and SavedCardSettings.objects.count() == 1
