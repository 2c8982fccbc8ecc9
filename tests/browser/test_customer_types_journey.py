"""Customer types as the owner clicks them (issue 9): a "VIP" type with 10 % off, given to a customer on
the customer form; at the sell screen the discount appears on the line once the customer is attached and
the sale completes at the discounted total; the sales report grouped by customer type shows it."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.steps import add_to_cart, console_errors, sign_in
from tests.factories import AccountFactory, UserFactory
from tests.retail.report_factories import customer, make_shop, product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def boutique(transactional_db):
    account = AccountFactory(name="Boutique Remise", language="en",
                             owner=UserFactory(email="owner@remise.test", language="en"))
    shop = make_shop(account, cheque=False)
    shop.register.name = "Front desk"
    shop.register.save()
    product(shop, sku="BOU-1", name="Bougie figue", price=2450, rate_bp=2000)
    product(shop, sku="SAV-1", name="Savon lavande", price=650, rate_bp=2000)
    shop.camille = customer(shop, first_name="Camille", last_name="Martin", email="camille@example.fr")
    return shop


def test_a_vip_discount_on_the_sell_screen_then_the_report_by_customer_type(boutique, page, live_server):
    errors = console_errors(page)
    base = live_server.url
    sign_in(page, base, "owner@remise.test")

    # Customers › Customer types: add "VIP" with 10 % off.
    page.goto(f"{base}/customers/")
    page.get_by_role("link", name="Customer types").first.click()
    page.locator("#new-type-name").fill("VIP")
    page.locator("#new-type-discount").fill("10")
    page.get_by_role("button", name="Add type").click()
    expect(page.locator("main")).to_contain_text("Customer type “VIP” added.")
    expect(page.locator("form[data-customer-type=VIP] input[name=discount]")).to_have_value("10")

    # Camille Martin becomes a VIP on her customer form.
    page.goto(f"{base}/customers/{boutique.camille.pk}/edit/")
    page.get_by_label("Customer type").select_option(label="VIP")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("main")).to_contain_text("VIP")

    # The sell screen: a sale without customer first, then Camille's.
    page.goto(f"{base}/sell/")
    page.locator("form.register-choice", has_text="Front desk").get_by_role("button", name="Use this register").click()
    page.get_by_label("Opening float (cash in the drawer)").fill("100")
    page.get_by_role("button", name="Open register").click()
    page.wait_for_load_state()
    add_to_cart(page, "Savon")
    expect(page.locator("#sale-total")).to_have_text(re.compile(r"6[.,]50"))
    page.locator(".pay-buttons").get_by_role("button", name="Cash").click()
    page.get_by_role("button", name="Complete sale").click()
    expect(page.locator(".sale-done")).to_contain_text("completed")

    add_to_cart(page, "Bougie")
    expect(page.locator("#sale-total")).to_have_text(re.compile(r"24[.,]50"))
    page.locator("details.customer-picker summary").click()
    page.locator("#customer-search").fill("Martin")
    page.locator("#customer-results").get_by_role("button", name=re.compile("Camille Martin")).click()
    line = page.locator("#cart .cart-lines tbody tr", has_text="Bougie figue")
    expect(line.locator("[data-customer-discount]")).to_have_text(re.compile(r"Customer discount VIP −10%\s+−€2[.,]45"))
    expect(page.locator("#sale-total")).to_have_text(re.compile(r"22[.,]05"))
    page.locator(".pay-buttons").get_by_role("button", name="Cash").click()
    page.get_by_role("button", name="Complete sale").click()
    expect(page.locator(".sale-done")).to_contain_text("completed")
    page.locator(".sale-done").get_by_role("link", name="View the sale").click()
    expect(page.locator("#sale-lines")).to_contain_text("Customer discount VIP −10%")

    # Reports › Sales, grouped by customer type.
    page.goto(f"{base}/reports/sales/")
    page.get_by_label("Group by").select_option("customer_type")
    table = page.locator("#sales-by-customer-type")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").nth(0)).to_contain_text(re.compile(r"VIP\s+1\s+€22[.,]05.*€2[.,]45", re.S))
    expect(table.locator("tbody tr").nth(1)).to_contain_text(re.compile(r"No customer type\s+1\s+€6[.,]50"))
    assert errors == []
