"""The cashier's day on the sell screen and the owner's look back at it, as people click it."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from accounts import permissions as perms
from tests.browser.steps import console_errors, sign_in
from tests.factories import AccountFactory, UserFactory, member
from tests.retail.report_factories import customer, make_shop, product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def boutique(transactional_db):
    account = AccountFactory(name="Boutique Journey", language="en",
                             owner=UserFactory(email="owner@journey.test", language="en"))
    shop = make_shop(account, cheque=False)
    shop.register.name = "Front desk"
    shop.register.save()
    product(shop, sku="BOU-1", name="Bougie figue", price=2450, rate_bp=2000)
    product(shop, sku="SAV-1", name="Savon lavande", price=650, rate_bp=2000)
    customer(shop, first_name="Camille", last_name="Martin", email="camille@example.fr")
    member(account, perms.CASHIER, email="cashier@journey.test", language="en")
    return shop


def _add(page, query):
    page.locator("#product-search").fill(query)
    page.locator("#search-results [data-result]").first.click()
    expect(page.locator("#cart .cart-lines")).to_contain_text(query)


def test_cashier_sells_then_owner_exports_the_on_account_sales(boutique, page, live_server):
    errors = console_errors(page)
    sign_in(page, live_server.url, "cashier@journey.test")
    page.goto(f"{live_server.url}/sell/")
    page.locator("form.register-choice", has_text="Front desk").get_by_role("button", name="Use this register").click()
    page.get_by_label("Opening float (cash in the drawer)").fill("100")
    page.get_by_role("button", name="Open register").click()
    page.wait_for_load_state()  # htmx binds the search box once the page has loaded
    # The screen painted as on the cashier's screen: Chromium then marks the form fields it looked at with
    # an empty style attribute, which htmx used to copy into each new cart (a style the CSP refuses).
    page.screenshot()

    # A cash sale of two items: 24,50 € + 6,50 € = 31,00 €, paid with 50 €.
    _add(page, "Bougie")
    _add(page, "Savon")
    expect(page.locator("#sale-total")).to_have_text(re.compile(r"31[.,]00"))
    page.locator("#pay-amount").fill("50")
    page.locator(".pay-buttons").get_by_role("button", name="Cash").click()
    expect(page.locator("#change-due")).to_have_text(re.compile(r"19[.,]00"))
    page.get_by_role("button", name="Complete sale").click()
    expect(page.locator(".sale-done")).to_contain_text("completed")

    # One item on account for Camille Martin.
    _add(page, "Bougie")
    page.locator("details.customer-picker summary").click()
    page.locator("#customer-search").fill("Martin")
    page.locator("#customer-results").get_by_role("button", name=re.compile("Camille Martin")).click()
    expect(page.locator(".cart-customer")).to_contain_text("Camille Martin")
    page.locator(".on-account-form").get_by_role("button", name="On account").click()
    expect(page.locator(".sale-done")).to_contain_text("left on the customer’s account")

    # Close the register: the drawer holds the 100 € float and 31 € of sales, one euro is missing.
    page.get_by_role("link", name="Close register").click()
    page.get_by_label("Cash").fill("130")
    page.get_by_role("button", name="Close register").click()
    closure = page.locator("#closure-lines")
    cash_row = closure.locator("tr", has_text="Cash")
    expect(cash_row).to_contain_text(re.compile(r"131[.,]00.*130[.,]00.*-\D?1[.,]00", re.S))
    assert errors == []  # nothing refused by the CSP, no script error, all along the cashier's day

    # The owner filters the history to on-account sales and exports them.
    page.context.clear_cookies()
    sign_in(page, live_server.url, "owner@journey.test")
    page.goto(f"{live_server.url}/history/")
    page.get_by_label("Status").select_option("on_account")
    rows = page.locator("#history-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Camille Martin")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    content = download_info.value.path().read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(content), delimiter=","))
    assert len(lines) == 2 and "Camille Martin" in lines[1] and "24.50" in lines[1]
