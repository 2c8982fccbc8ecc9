"""The account guard on staff pages: a suspended account's staff see a page saying so (and what to do)
on every page but the few that stay open, htmx actions are sent to that page, and nothing changes.
(Every URL is walked suspended in tests/test_url_walk.py; customer pages, services and tasks are tested
in tests/saved_cards/test_account_guard.py and tests/payments/test_account_guard.py.)"""

import pytest
from django.urls import reverse

from accounts import guard
from accounts import permissions as perms
from accounts.models import Account
from tests.factories import AccountFactory, member, owner_of, suspend
from tests.retail import report_factories as rf
from tests.retail.builders import choose_register, in_english, pos_state
from tests.retail.builders import page_text as text
from tests.test_pages_are_csp_clean import assert_csp_clean

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def shop(account):
    shop = rf.make_shop(account, cheque=False)
    rf.open_register(shop)
    return shop


def test_a_staff_page_of_a_suspended_account_says_so_and_shows_the_way_to_billing(client, shop):
    client.force_login(in_english(owner_of(shop.account)))
    suspend(shop.account)
    before = pos_state(shop.account)

    response = client.get(reverse("retail:sell"))

    assert response.status_code == 403
    page = text(response)
    assert "This account is not active" in page and "The account “Boutique Test” is suspended." in page
    assert "To make it active again, go to Setup › Billing." in page
    assert f'href="{reverse("billing:setup")}"' in page
    assert pos_state(shop.account) == before  # the sell screen never ran
    assert_csp_clean(response)


def test_staff_who_cannot_open_billing_are_told_to_ask_the_owner(client, shop):
    client.force_login(member(shop.account, perms.CASHIER, language="en"))
    suspend(shop.account)

    response = client.get(reverse("retail:history"))

    assert response.status_code == 403
    assert "Ask the owner of the shop to make the account active again." in text(response)
    assert reverse("billing:setup") not in text(response)


def test_an_htmx_action_of_a_suspended_account_goes_to_that_page_and_changes_nothing(client, shop):
    scarf = rf.product(shop, sku="ECH-1", name="Écharpe", price=2450, rate_bp=2000)
    client.force_login(member(shop.account, perms.CASHIER, language="en"))
    choose_register(client, shop.register)
    suspend(shop.account)
    before = pos_state(shop.account)

    response = client.post(reverse("retail:sell_add"), {"product": scarf.pk, "quantity": "1"}, headers=HX)

    assert response.status_code == 403 and response["HX-Redirect"] == reverse("account_inactive")
    assert pos_state(shop.account) == before
    landing = client.get(response["HX-Redirect"])
    assert landing.status_code == 200 and "This account is not active" in text(landing)
    assert_csp_clean(landing)


def test_billing_and_the_switches_stay_open_while_suspended(client, account):
    owner = in_english(owner_of(account))
    elsewhere = AccountFactory(name="Autre Boutique", owner=owner)
    client.force_login(owner)
    client.post(reverse("account_switch"), {"account": account.pk})
    suspend(account)

    assert client.get(reverse("billing:setup")).status_code == 200  # the merchant's own bill: the way back
    assert client.post(reverse("language_switch"), {"language": "fr"}).status_code == 302
    switched = client.post(reverse("account_switch"), {"account": elsewhere.pk})
    assert switched.status_code == 302 and client.get(reverse("retail:history")).status_code == 200  # active

    client.post(reverse("account_switch"), {"account": account.pk})
    assert client.get(reverse("retail:history")).status_code == 403
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("retail:history")).status_code == 302  # to the login page


def test_the_not_active_page_of_an_active_account_leads_home(owner_client):
    response = owner_client.get(reverse("account_inactive"))
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_the_guard_reads_only_what_each_status_allows(account):
    assert all(guard.account_allows(account, what) for what in guard.ACTIVITIES)
    suspend(account)
    assert not any(guard.account_allows(account, what) for what in guard.ACTIVITIES)
    assert guard.ALLOWED.keys() == set(Account.Status)  # every status says what it allows
    with pytest.raises(ValueError):
        guard.account_allows(account, "everything")
