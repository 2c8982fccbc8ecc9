"""Pay links as people click them (seed 003): a cashier completes an on-account sale with "Email a receipt
with pay link"; a phone-sized browser opens the link from the sent e-mail and pays with 4242…; the
cashier's bell shows the notification without reloading; the owner sees the link Completed in Finance ›
Payment links, deactivates another one, whose page then shows the error page; and a card that asks for 3-D
Secure (…3155) pays on the pay page once the cardholder confirms."""

import re

import pytest
from playwright.sync_api import expect

from accounts import permissions as perms
from accounts.models import OutgoingEmail
from paylinks.models import PayLink
from paylinks.services import pay_link_send, paylink_settings_update
from retail.models import Customer, Product, Sale
from tests.browser.steps import add_to_cart, console_errors, open_first_register, sign_in, type_card
from tests.factories import AccountFactory, UserFactory, member
from tests.retail.report_factories import customer, make_shop, open_register, product, sell

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "en-GB"}


@pytest.fixture
def boutique(transactional_db, live_server, settings):
    settings.SITE_URL = live_server.url
    account = AccountFactory(name="Boutique Liens", language="en",
                             owner=UserFactory(email="owner@links.test", language="en"))
    shop = make_shop(account, cheque=False)
    open_register(shop, opening_float=5000)
    product(shop, sku="FOU-1", name="Foulard soie", price=4000, rate_bp=2000)
    customer(shop, first_name="Camille", last_name="Martin", email="camille@example.fr")
    member(account, perms.CASHIER, email="cashier@links.test", language="en")
    paylink_settings_update(actor=shop.actor, account=account, online_payments_enabled=True, reminder_days=None)
    return shop


def _link_in_mail(address: str) -> str:
    mail = OutgoingEmail.objects.filter(recipients=[address]).order_by("-pk").first()
    return re.search(r"https?://\S+/pay/\S+/", mail.text).group(0)


def _phone(browser, url):
    context = browser.new_context(**PHONE)
    phone = context.new_page()
    phone.goto(url)
    return context, phone


def test_cashier_sends_a_pay_link_the_customer_pays_on_a_phone_and_the_cashier_is_told(boutique, page, browser,
                                                                                     live_server):
    errors = console_errors(page)
    sign_in(page, live_server.url, "cashier@links.test")
    open_first_register(page, live_server.url)
    add_to_cart(page, "Foulard")
    expect(page.locator("#sale-total")).to_have_text(re.compile(r"40[.,]00"))
    page.locator("details.customer-picker > summary").click()
    page.locator("#customer-search").fill("Martin")
    page.locator("#customer-results").get_by_role("button", name=re.compile("Camille Martin")).click()
    expect(page.locator(".cart-customer")).to_contain_text("Camille Martin")

    # Pay › On account: the option is on, then Complete sale.
    page.locator("details.on-account-panel > summary").click()
    option = page.get_by_label("Email a receipt with pay link to camille@example.fr")
    expect(option).to_be_checked()
    page.locator(".on-account-form").get_by_role("button", name="Complete sale").click()
    expect(page.locator(".sale-done")).to_contain_text("left on the customer’s account")
    sale = Sale.objects.get(account=boutique.account, status=Sale.Status.ON_ACCOUNT)
    assert PayLink.objects.get(sale=sale).status == PayLink.Status.ACTIVE

    # The customer opens the link from the e-mail on their phone and pays.
    url = _link_in_mail("camille@example.fr")
    context, phone = _phone(browser, url)
    expect(phone.get_by_text("Boutique Liens", exact=True)).to_be_visible()
    expect(phone.locator("#amount-due")).to_have_text(re.compile(r"40[.,]00"))
    type_card(phone.locator("[data-card-entry]"), "4242 4242 4242 4242")
    phone.get_by_role("button", name=re.compile(r"Pay .*40[.,]00")).tap()
    expect(phone.get_by_role("heading", name="Thank you for your payment")).to_be_visible()
    context.close()
    sale.refresh_from_db()
    assert sale.status == Sale.Status.COMPLETED and sale.balance_due == 0

    # The cashier's bell, polled, shows the notification without a reload.
    expect(page.locator("[data-bell-count]")).to_have_text("1", timeout=15_000)
    page.locator("details.notifications > summary").click()
    note = page.locator("[data-notification]").first
    expect(note).to_contain_text(f"Camille Martin paid €40.00 online for receipt {sale.receipt}.")
    note.get_by_role("button", name="Mark as read").click()
    expect(page.locator("[data-bell-count]")).to_have_count(0)
    assert errors == []

    # The owner: the link is Completed; another sale's link deactivated shows the error page.
    other = sell(boutique, [(sale.lines.first().product, 1)], payments=[], buyer=sale.customer, on_account=True)
    second = pay_link_send(actor=boutique.actor, account=boutique.account, sale_id=other.pk,
                           email="camille@example.fr")
    second_url = _link_in_mail("camille@example.fr")
    sign_in(page, live_server.url, "owner@links.test")
    page.goto(f"{live_server.url}/finance/payment-links/")
    page.get_by_role("link", name="Completed").click()
    expect(page.locator("#payment-links-table tbody tr")).to_have_count(1)
    expect(page.locator("#payment-links-table tbody tr").first).to_contain_text("Completed")
    page.get_by_role("link", name="Active").click()
    row = page.locator(f"tr[data-link='{second.pk}']")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_text("Payment link deactivated: it no longer works.")).to_be_visible()
    context, phone = _phone(browser, second_url)
    expect(phone.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    expect(phone.locator("#pay-link-problem")).to_contain_text("no longer active")
    context.close()


def test_a_card_that_asks_for_3d_secure_pays_once_confirmed(boutique, browser):
    scarf = Product.objects.get(account=boutique.account, sku="FOU-1")
    camille = Customer.objects.get(account=boutique.account)
    sale = sell(boutique, [(scarf, 1)], payments=[], buyer=camille, on_account=True)
    pay_link_send(actor=boutique.actor, account=boutique.account, sale_id=sale.pk, email="camille@example.fr",
                  language="en")
    context, phone = _phone(browser, _link_in_mail("camille@example.fr"))
    type_card(phone.locator("[data-card-entry]"), "4000 0025 0000 3155")
    phone.get_by_role("button", name=re.compile(r"Pay ")).tap()
    expect(phone.get_by_text("Your bank asks you to confirm this payment")).to_be_visible()
    phone.get_by_role("button", name="Confirm").tap()
    expect(phone.get_by_role("heading", name="Thank you for your payment")).to_be_visible()
    context.close()
    assert PayLink.objects.get(sale=sale).status == PayLink.Status.COMPLETED
