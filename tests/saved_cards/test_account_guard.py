"""The account guard on saved cards: while the shop's account is suspended the customer's /card/ pages
answer a closed page (GET) or a closed answer the page's script shows (POST) and save nothing, and a
sale cannot be charged to a saved card."""

import pytest
from django.test import Client

from accounts.guard import AccountInactive
from retail.models import Sale
from saved_cards import invites, services
from saved_cards.models import CardInvite
from tests.factories import owner_of, suspend
from tests.retail import report_factories as rf
from tests.retail.builders import page_text as text
from tests.retail.builders import pos_state
from tests.saved_cards.builders import cards_state, confirm_in_browser, save_card
from tests.test_pages_are_csp_clean import assert_csp_clean

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


@pytest.fixture
def customer(till_shop):
    """A customer of a shop that saves cards (its register open)."""
    return rf.customer(till_shop, first_name="Camille", last_name="Martin", email="camille@exemple.fr")


@pytest.fixture
def phone():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def invitation(customer) -> str:
    invite = invites.card_invite_create(actor=owner_of(customer.account), account=customer.account,
                                        customer_id=customer.pk, kind=CardInvite.Kind.QR)
    return invites.invite_path(invite)


def test_the_card_page_of_a_suspended_shop_is_closed(phone, customer):
    path = invitation(customer)
    suspend(customer.account)
    before = cards_state(customer.account)

    response = phone.get(path)

    page = text(response)
    assert response.status_code == 403
    assert "Boutique Test" in page and "Boutique Test is not taking payments online at the moment." in page
    assert "Add a payment method" not in page and "data-card-setup" not in page  # no card fields
    assert "no-store" in response["Cache-Control"]
    assert cards_state(customer.account) == before
    assert_csp_clean(response)


def test_adding_a_card_on_a_suspended_shop_is_refused_and_saves_nothing(phone, customer):
    path = invitation(customer)
    suspend(customer.account)
    before = cards_state(customer.account)

    response = phone.post(f"{path}setups/", {"consent": "1"}, headers=JSON)

    assert response.status_code == 403 and response.json() == {
        "status": "closed",
        "message": "Boutique Test is not taking payments online at the moment. Nothing was saved."}
    assert cards_state(customer.account) == before  # no attempt counted, no processor customer, no setup


def test_a_card_confirmed_as_the_shop_is_suspended_is_not_recorded(phone, customer):
    path = invitation(customer)
    started = phone.post(f"{path}setups/", {"consent": "1"}).json()
    confirm_in_browser(started["client_secret"])
    suspend(customer.account)
    before = cards_state(customer.account)

    response = phone.post(started["finish_url"], headers=JSON)

    assert response.status_code == 403 and response.json()["status"] == "closed"
    assert cards_state(customer.account) == before


def test_a_sale_cannot_be_charged_to_a_saved_card_while_suspended(till_shop, customer):
    card = save_card(customer)
    scarf = rf.product(till_shop, sku="ECH-1", name="Écharpe", price=2450, rate_bp=2000)
    sale = rf.leave_in_progress(till_shop, [(scarf, 1)])
    Sale.objects.filter(pk=sale.pk).update(customer=customer)
    suspend(till_shop.account)
    before = cards_state(till_shop.account), pos_state(till_shop.account)

    with pytest.raises(AccountInactive, match="No card payment or refund can be made"):
        services.saved_card_charge(actor=till_shop.actor, account=till_shop.account, sale_id=sale.pk,
                                   card_id=card.pk, amount=2450)

    assert (cards_state(till_shop.account), pos_state(till_shop.account)) == before


def test_the_card_page_opens_again_once_the_shop_is_active(phone, customer):
    from accounts.models import Account

    path = invitation(customer)
    suspend(customer.account)
    assert phone.get(path).status_code == 403
    Account.objects.filter(pk=customer.account.pk).update(status=Account.Status.ACTIVE)

    assert phone.get(path).status_code == 200
