"""Card readers as people click them (seed 002): a cashier takes a card payment on the register's simulated
WisePOS E; the merchant turns standalone mode on, takes two standalone payments on the reader (one with an
e-mail receipt, one skipped), finds them with Filters › Mode › Standalone, refunds one partly with the
original card confirmed on the reader (its receipt e-mailed from the reader), turns the other into an
itemised sale on the sell screen, and puts the reader back in integrated mode."""

import re

import pytest
from playwright.sync_api import expect

from accounts import permissions as perms
from accounts.models import OutgoingEmail
from payments.models import Payment
from retail.models import Sale
from terminal.models import Reader
from tests.browser.steps import add_to_cart, console_errors, open_first_register, other_payments, sign_in
from tests.factories import AccountFactory, UserFactory, member
from tests.retail.report_factories import make_shop, open_register, product
from tests.terminal.builders import reader_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def boutique(transactional_db):
    account = AccountFactory(name="Boutique Terminal", language="en",
                             owner=UserFactory(email="owner@terminal.test", language="en"))
    shop = make_shop(account, cheque=False)
    open_register(shop, opening_float=5000)
    product(shop, sku="FOU-1", name="Foulard soie", price=4000, rate_bp=2000)
    product(shop, sku="CAR-1", name="Carte postale", price=300, rate_bp=2000)
    member(account, perms.CASHIER, email="cashier@terminal.test", language="en")
    reader_for(shop, label="Counter reader")
    return shop


@pytest.mark.parametrize("waiters", [0, 4], ids=["polling", "long-poll"])
def test_cashier_takes_a_card_payment_on_the_simulated_reader(boutique, page, live_server, settings, waiters):
    """Polling every 500 ms, or long-polling (terminal.live): the sell screen shows the result either way."""
    settings.TERMINAL_LIVE_WAITERS = waiters
    errors = console_errors(page)
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/sell/reader/" in request.url else None)
    reader = Reader.objects.get()
    sign_in(page, live_server.url, "cashier@terminal.test")
    open_first_register(page, live_server.url)
    add_to_cart(page, "Foulard")
    expect(page.locator("#sale-total")).to_have_text(re.compile(r"40[.,]00"))

    other_payments(page, "Credit/Debit", "Card reader")
    page.get_by_role("button", name="Send to the card reader").click()
    expect(page.locator("#reader-status")).to_contain_text("Waiting for card")

    device = page.context.new_page()
    device.goto(f"{live_server.url}/terminal/simulator/{reader.pk}/")
    expect(device.locator("#reader-amount")).to_have_text(re.compile(r"40[.,]00"))
    device.get_by_label("Test card").select_option("4242424242424242")
    device.get_by_role("button", name="Present the card").click()
    expect(device.locator("#reader-last")).to_contain_text("Approved")

    expect(page.locator("#reader-status")).to_contain_text("Approved")  # the sell screen's polling
    assert any("wait=1" in url for url in asked) == bool(waiters)
    page.get_by_role("link", name="Back to the sale").click()
    page.get_by_role("button", name="Complete sale").click()
    expect(page.locator(".sale-done")).to_contain_text("completed")
    payment = Payment.objects.get()
    assert (payment.method, payment.status, payment.sale.status) == ("card_present", "succeeded",
                                                                     Sale.Status.COMPLETED)
    assert errors == []


def test_merchant_takes_standalone_payments_refunds_one_and_goes_back_to_integrated(boutique, page, live_server):
    errors = console_errors(page)
    reader = Reader.objects.get()
    sign_in(page, live_server.url, "owner@terminal.test")
    page.goto(f"{live_server.url}/finance/payments/")
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_label("Standalone mode").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Payment settings saved.")).to_be_visible()

    page.goto(f"{live_server.url}/terminal/simulator/{reader.pk}/")
    page.locator("#menu-standalone").click()
    screen = page.locator("#reader-screen")
    expect(screen).to_contain_text("Total amount")

    for amount, receipt in (("12.50", "client@example.test"), ("3.00", None)):
        page.locator("#reader-input").fill(amount)
        page.locator("#reader-submit").click()
        expect(page.locator("#reader-amount")).to_have_text(re.compile(amount.replace(".", "[.,]")))
        page.get_by_label("Test card").select_option("4242424242424242")
        page.get_by_role("button", name="Present the card").click()
        expect(screen).to_contain_text("E-mail receipt")
        if receipt:
            page.locator("#reader-input").fill(receipt)
            page.locator("#reader-submit").click()
        else:
            page.get_by_role("button", name="Skip to complete sale").click()
        expect(screen).to_contain_text("Total amount")
    assert sorted(Payment.objects.filter(mode="standalone").values_list("amount", "receipt_email")) == [
        (300, ""), (1250, "client@example.test")]

    page.goto(f"{live_server.url}/finance/payments/")
    page.get_by_label("Mode").select_option("standalone")
    rows = page.locator("#payments-table tbody tr")
    expect(rows).to_have_count(2)
    rows.filter(has_text="12.50").get_by_role("link").first.click()
    page.get_by_label("Amount to refund").fill("5")
    page.get_by_label("Comment").fill("Retour partiel")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#refund-form").get_by_role("button", name="Refund").click()
    expect(page.get_by_text("Present the original card on Counter reader")).to_be_visible()

    page.goto(f"{live_server.url}/terminal/simulator/{reader.pk}/")
    page.get_by_role("button", name="Original card present").click()
    expect(page.locator("#reader-last")).to_contain_text("Refund done")
    assert Payment.objects.get(amount=1250).amount_refunded == 500
    expect(screen).to_contain_text("E-mail receipt")  # a receipt is issued for the refund too
    page.locator("#reader-input").fill("client@example.test")
    page.locator("#reader-submit").click()
    expect(screen).to_contain_text("Total amount")
    assert OutgoingEmail.objects.filter(subject__startswith="Your refund receipt",
                                        recipients=["client@example.test"]).count() == 1

    # The other standalone payment (3.00, receipt skipped) becomes an itemised sale.
    open_first_register(page, live_server.url)
    add_to_cart(page, "Carte postale")
    expect(page.locator("#sale-total")).to_have_text(re.compile(r"3[.,]00"))
    page.get_by_role("button", name="Attach to this sale").click()
    page.get_by_role("button", name="Complete sale").click()
    expect(page.locator(".sale-done")).to_contain_text("completed")
    converted = Payment.objects.get(amount=300)
    assert (converted.purpose, converted.sale.status) == ("sale", Sale.Status.COMPLETED)

    page.goto(f"{live_server.url}/terminal/simulator/{reader.pk}/")
    page.locator("#menu-integrated").click()
    expect(page.locator("#reader-screen")).to_contain_text("Waiting for the POS")
    assert Reader.objects.get().mode == "integrated"
    assert errors == []
