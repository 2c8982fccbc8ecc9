"""Card payments as people click them: the cashier takes a card by Other payments › Credit/Debit ›
Manual entry (a decline first, then an accepted card) and completes the sale, and the owner refunds half
of it from Finance › Payments."""

import re

import pytest
from playwright.sync_api import expect

from accounts import permissions as perms
from payments.models import Payment
from retail.models import Sale
from tests.browser.steps import add_to_cart, console_errors, open_first_register, other_payments, sign_in, type_card
from tests.factories import AccountFactory, UserFactory, member
from tests.retail.report_factories import make_shop, open_register, product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def boutique(transactional_db):
    account = AccountFactory(name="Boutique Cartes", language="en",
                             owner=UserFactory(email="owner@cards.test", language="en"))
    shop = make_shop(account, cheque=False)
    open_register(shop, opening_float=5000)
    product(shop, sku="FOU-1", name="Foulard soie", price=4000, rate_bp=2000)
    member(account, perms.CASHIER, email="cashier@cards.test", language="en")
    return shop


def test_cashier_pays_by_manual_entry_and_owner_refunds_half(boutique, page, live_server):
    errors = console_errors(page)
    sign_in(page, live_server.url, "cashier@cards.test")
    open_first_register(page, live_server.url)
    add_to_cart(page, "Foulard")
    expect(page.locator("#sale-total")).to_have_text(re.compile(r"40[.,]00"))

    other_payments(page, "Credit/Debit", "Manual entry")
    expect(page.get_by_role("heading", name="Credit/Debit — manual entry")).to_be_visible()

    # Declined: the reason in the cashier's words; the sale stays open and unpaid.
    type_card(page.locator("[data-card-entry]"), "4000 0000 0000 0002")
    page.get_by_role("button", name="Start payment").click()
    expect(page.locator("[data-card-message]")).to_have_text(
        "The card was declined. Ask the customer for another card.")
    assert Sale.objects.get(status=Sale.Status.OPEN).balance_due == 4000

    # Accepted: back to the sell screen, the sale paid; "Complete sale" ends it, as after cash.
    type_card(page.locator("[data-card-entry]"), "4242 4242 4242 4242")
    page.get_by_role("button", name="Start payment").click()
    expect(page.get_by_text("Card payment of €40.00 accepted.")).to_be_visible()
    expect(page.locator("#to-pay")).to_have_text(re.compile(r"0[.,]00"))
    page.get_by_role("button", name="Complete sale").click()
    expect(page.locator(".sale-done")).to_contain_text("completed")
    payment = Payment.objects.get(status=Payment.Status.SUCCEEDED)
    assert payment.card_last4 == "4242" and payment.sale.status == Sale.Status.COMPLETED
    assert errors == []

    # The owner refunds half from Finance › Payments and sees the status change.
    page.context.clear_cookies()
    sign_in(page, live_server.url, "owner@cards.test")
    page.goto(f"{live_server.url}/finance/payments/")
    row = page.locator("tr", has_text="•••• 4242")
    expect(row).to_contain_text("Succeeded")
    row.get_by_role("link").first.click()
    page.get_by_label("Amount to refund").fill("20")
    page.get_by_label("Comment").fill("Foulard abîmé, geste commercial")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#refund-form").get_by_role("button", name="Refund").click()
    expect(page.get_by_text("Refund of €20.00 done.")).to_be_visible()
    expect(page.locator("h1 [data-payment-status]")).to_have_text("Partially refunded")
    page.goto(f"{live_server.url}/finance/payments/")
    expect(page.locator("tr", has_text="•••• 4242")).to_contain_text("Partially refunded")
