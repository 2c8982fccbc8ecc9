"""The account guard as people meet it: a cashier at work when the account is suspended is taken to the
page saying the account is not active at their next click (an htmx request), and the owner finds the
way to Setup › Billing there."""

import pytest
from playwright.sync_api import expect

from accounts import permissions as perms
from tests.browser.steps import sign_in
from tests.factories import AccountFactory, UserFactory, member, suspend
from tests.retail.report_factories import make_shop, open_register, product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def boutique(transactional_db):
    account = AccountFactory(name="Boutique Guard", language="en",
                             owner=UserFactory(email="owner@guard.test", language="en"))
    shop = make_shop(account, cheque=False)
    open_register(shop)
    product(shop, sku="BOU-1", name="Bougie figue", price=2450, rate_bp=2000)
    member(account, perms.CASHIER, email="cashier@guard.test", language="en")
    return shop


def test_a_cashier_is_taken_to_the_not_active_page_and_the_owner_to_billing(boutique, page, live_server):
    sign_in(page, live_server.url, "cashier@guard.test")
    page.goto(f"{live_server.url}/sell/")
    page.locator("form.register-choice").first.get_by_role("button", name="Use this register").click()
    page.wait_for_load_state()  # htmx binds the search box once the page has loaded

    suspend(boutique.account)
    page.locator("#product-search").fill("Bougie")  # the search is an htmx request

    expect(page).to_have_url(f"{live_server.url}/me/account/inactive/")
    expect(page.get_by_role("heading", level=1)).to_have_text("This account is not active")
    expect(page.get_by_text("Ask the owner of the shop to make the account active again.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main menu").get_by_role("link")).to_have_count(0)

    sign_in(page, live_server.url, "owner@guard.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("This account is not active")
    page.get_by_role("link", name="Go to Setup › Billing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Billing")
    menu = page.get_by_role("navigation", name="Main menu").get_by_role("link")
    expect(menu).to_have_text(["Billing", "Integrations"])  # the card, and removing integrations
