"""Subscriptions as people click them (seed 001): the owner creates a plan with shipping and a customer
type, subscribes a customer whose card is added on a phone from the QR code ("Card added", Continue),
and finds the sale, the order to ship and the customer type; a failed cycle is retried by hand, then a
payment is refunded from the subscription's page with the seed's notice."""

import re

import pytest
from playwright.sync_api import expect

from accounts.addons import SUBSCRIPTIONS
from retail.models import Customer, Fulfilment, Sale
from subscriptions.models import Subscription
from tests.browser.steps import console_errors, sign_in, type_card
from tests.factories import AccountFactory, UserFactory, with_addons
from tests.readers import qr_codes
from tests.retail.report_factories import customer, make_shop, product
from tests.saved_cards.builders import DECLINES_WHEN_CHARGED, enable, save_card
from tests.subscriptions.builders import monthly_box, payments_of, run_due, subscribe, succeeds

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "en-GB"}


@pytest.fixture
def boutique(transactional_db):
    account = AccountFactory(name="Boutique Abonnements", language="en",
                             owner=UserFactory(email="owner@subs.test", language="en"))
    with_addons(account, SUBSCRIPTIONS)
    account.refresh_from_db()
    enable(account)
    shop = make_shop(account, cheque=False)
    shop.coffee = product(shop, sku="CAFE-1", name="Café du mois", price=1800, rate_bp=550)
    customer(shop, first_name="Camille", last_name="Martin", email="camille@example.fr",
             address_line1="3 rue des Lilas", postcode="75011", city="Paris")
    return shop


def test_plan_with_shipping_and_type_then_subscribe_through_the_qr_code(boutique, page, browser, live_server,
                                                                        settings, tmp_path):
    site_url = live_server.url.replace("//localhost:", "//127.0.0.1:")
    settings.SITE_URL = site_url
    sign_in(page, live_server.url, "owner@subs.test")

    # Subscriptions › Manage plans › Create
    page.get_by_role("link", name="Manage plans").click()
    page.get_by_role("link", name="Create").click()
    page.get_by_label("Name", exact=True).fill("Coffee box")
    page.get_by_label("Interval", exact=True).select_option("monthly")
    page.get_by_label("Add a product").fill("Café")
    page.locator("#product-results").get_by_role("button", name=re.compile("Café du mois")).click()
    line = page.locator("#plan-lines tr")
    expect(line).to_have_count(1)
    line.get_by_label("Recurring price", exact=True).fill("15.00")
    line.get_by_label("Quantity", exact=True).fill("2")
    page.get_by_label("Shipping", exact=True).check()
    page.get_by_label("Customer type", exact=True).check()
    page.get_by_label("Customer type name").fill("Coffee subscribers")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("Plan “Coffee box” created.")).to_be_visible()
    expect(page.locator("#plans")).to_contain_text("2 × Café du mois")

    # Subscriptions › Subscribe a customer: Add customer, search, pick.
    page.get_by_role("link", name="Subscribe a customer").first.click()
    page.get_by_label("Add a customer").fill("Martin")
    page.get_by_role("button", name="Search").click()
    page.locator("#customer-results").get_by_role("link", name="Camille Martin").click()
    expect(page.locator("[data-subscriber]")).to_have_text("Camille Martin")
    expect(page.locator("#no-card")).to_be_visible()
    page.get_by_label("Plan", exact=True).fill("Coffee box")

    # Add credit card › Invite: the QR code, the customer's phone, "Card added", Continue.
    page.locator("#add-card").get_by_role("button", name="Invite").click()
    qr = page.locator("[data-qr-code]")
    expect(qr).to_be_visible()
    picture = tmp_path / "qr.png"
    qr.screenshot(path=str(picture))
    [url] = qr_codes(picture)
    phone_context = browser.new_context(**PHONE)
    phone = phone_context.new_page()
    phone.goto(url)
    phone.get_by_role("button", name="+ Add a payment method").tap()
    type_card(phone.locator("[data-card-entry]"), "4242 4242 4242 4242", postcode="75011")
    phone.get_by_label(re.compile("I authorise Boutique Abonnements to save this card")).check()
    phone.get_by_role("button", name="Add", exact=True).tap()
    expect(phone.get_by_role("heading", name="Card added")).to_be_visible()
    phone_context.close()
    expect(page.locator("#invite-status").get_by_role("heading", name="Card added")).to_be_visible(timeout=10_000)
    page.get_by_role("link", name="Continue").click()

    # Back on the subscribe page, the plan still chosen, the new card selected: Subscribe.
    expect(page.locator("[data-subscriber]")).to_have_text("Camille Martin")
    expect(page.get_by_label(re.compile("Visa •••• 4242"))).to_be_checked()
    expect(page.get_by_label("Plan", exact=True)).to_have_value("Coffee box")
    page.get_by_role("button", name="Subscribe", exact=True).click()
    expect(page.get_by_text("Camille Martin is subscribed to Coffee box.")).to_be_visible()
    expect(page.locator("[data-status]").first).to_have_text("Active")
    expect(page.locator("#subscription-facts")).to_contain_text("Coffee subscribers")
    expect(page.locator("#payment-history")).to_contain_text("€30.00")

    # The sale, its order to ship and the customer type.
    camille = Customer.objects.get(account=boutique.account, last_name="Martin")
    assert camille.customer_type.name == "Coffee subscribers"
    sale = Sale.objects.get(account=boutique.account, customer=camille)
    assert sale.total == 3000 and sale.status == Sale.Status.COMPLETED
    page.locator("#payment-history").get_by_role("link", name="Sale").click()
    expect(page.locator("body")).to_contain_text("Café du mois")
    page.get_by_role("link", name="Fulfilments").click()
    expect(page.locator("#fulfilments")).to_contain_text("Camille Martin")
    assert Fulfilment.objects.get(sale=sale).source == "subscription"
    assert console_errors(page) == []


def test_a_failed_cycle_is_retried_then_refunded(boutique, page, live_server):
    camille = Customer.objects.get(account=boutique.account, last_name="Martin")
    card = save_card(camille, number=DECLINES_WHEN_CHARGED)
    sub = subscribe(boutique, camille, monthly_box(boutique), card=card)
    run_due()
    sign_in(page, live_server.url, "owner@subs.test")

    page.get_by_role("link", name="Manage subscriptions").first.click()
    overdue = page.locator("#subscriptions tr.overdue")
    expect(overdue).to_contain_text("Camille Martin")
    expect(overdue).to_contain_text("Overdue")
    page.get_by_label("Status").select_option("overdue")
    expect(page.locator("#subscriptions tbody tr")).to_have_count(1)
    overdue.get_by_role("link", name="Camille Martin").click()
    expect(page.locator("#overdue-notice")).to_contain_text("automatic retry")
    page.locator("#payment-history").get_by_role("link").first.click()
    expect(page.locator("#failure-reason")).to_contain_text("declined")

    succeeds(card)  # the customer called their bank
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_text("The payment went through")).to_be_visible()
    assert Subscription.objects.get(pk=sub.pk).status == Subscription.Status.ACTIVE
    assert Sale.objects.filter(account=boutique.account, customer=camille).count() == 1

    page.locator("#refund > summary").click()
    page.get_by_label("Amount", exact=True).fill("40.00")
    page.get_by_label("Reason for the refund").fill("Damaged parcel")
    page.locator("#refund").get_by_role("button", name="Refund").click()
    expect(page.locator(".field-error, .form-errors").first).to_contain_text("at most")
    page.get_by_label("Amount", exact=True).fill("10.00")
    page.get_by_label("Reason for the refund").fill("Damaged parcel")
    page.locator("#refund").get_by_role("button", name="Refund").click()
    expect(page.locator(".flash-success")).to_contain_text("within three business days")
    paid = payments_of(sub)[-1]
    assert paid.amount_refunded == 1000
    page.get_by_role("link", name="Back to the subscription").click()
    expect(page.locator("#payment-history")).to_contain_text("€10.00 refunded")
    assert console_errors(page) == []
