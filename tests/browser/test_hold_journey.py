"""Putting the demo shop on hold and bringing it back, as its owner clicks it (seed 000): the checklist,
Suspend my account in two steps, every menu page locked and a pay link page closed while on hold, the
card updated in Setup › Billing, then reactivation with a plan change."""

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from accounts.models import Account, User
from accounts.tenancy import scoped
from billing.models import MerchantPlan
from paylinks.links import link_path
from paylinks.models import PayLink
from posbackoffice.navigation import MENU
from tests.browser.steps import console_errors, type_card

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _data(account) -> dict:
    """The shop's data, checked equal after the hold."""
    from retail.models import Customer, Product, Sale
    from saved_cards.models import SavedCard
    from subscriptions.models import Subscription

    return {model.__name__: sorted(scoped(model, account).values_list("pk", flat=True))
            for model in (Sale, Product, Customer, SavedCard, Subscription, PayLink)}


def test_checklist_suspend_locked_pages_card_update_and_reactivation(shop, login, page, live_server):
    User.objects.filter(email="owner@demo.test").update(language="en")
    data_before = _data(shop)
    link = scoped(PayLink, shop).order_by("pk").first()
    login("owner@demo.test")

    page.goto(f"{live_server.url}/setup/billing/")
    expect(page.locator("[data-plan]")).to_have_text("Advanced (legacy) Legacy plan")
    page.get_by_role("link", name="Before putting your account on hold").click()
    expect(page.locator("#hold-exports tbody tr td:first-child")).to_have_text([
        "Sales history", "Products", "Customers", "Register closures", "Sales report", "Tax report",
        "Gift cards report", "Store credit report"])
    page.locator('[data-export="products"]').get_by_role("button", name="Export").click()
    expect(page.locator('[data-export="products"] progress')).to_be_visible()

    page.get_by_role("link", name="Suspend my account").click()
    expect(page.locator("[data-current-plan-warning]")).to_contain_text("one of our current plans")
    page.get_by_label("Estimated reactivation in (months)").fill("2")
    page.get_by_role("button", name="Put my data on hold").click()
    expect(page.locator("[data-what-stops]")).to_contain_text("Payment links")
    expect(page.locator("[data-what-stops]")).to_contain_text("Card terminals")
    page.get_by_role("button", name="Put my account on hold").click()
    expect(page.get_by_text("Your account is on hold. Your data is kept until you reactivate it.")).to_be_visible()
    assert Account.objects.get(pk=shop.pk).status == Account.Status.ON_HOLD
    menu = page.get_by_role("navigation", name="Main menu").get_by_role("link")
    expect(menu).to_have_text(["Billing", "Integrations"])

    for section in MENU:
        for item in section.items:
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            if item.url_name in ("billing:setup", "setup:integrations"):  # open on hold (card, removals)
                continue
            page.goto(f"{live_server.url}{url}")
            expect(page.get_by_role("heading", level=1)).to_have_text("This account is not active")
            expect(page.get_by_role("link", name="Reactivate my account")).to_be_visible()

    if link is not None:
        page.goto(f"{live_server.url}{link_path(link)}")
        expect(page.get_by_text("is not taking payments online at the moment")).to_be_visible()

    errors = console_errors(page)  # from here on (the locked pages above answer 403, which Chromium logs)
    page.goto(f"{live_server.url}/setup/billing/")
    page.get_by_role("link", name="Update card").click()
    type_card(page.locator("form[data-card-setup]"), "5555555555554444")
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_text("is now the card on file")).to_be_visible()
    expect(page.locator("[data-card-on-file]")).to_contain_text("4444")

    page.locator("main").get_by_role("link", name="Reactivate my account").click()
    expect(page.locator("[data-chosen-plan]")).to_contain_text("Pro")
    page.get_by_text("Show features I had").click()
    expect(page.locator("[data-features-had]")).to_contain_text("Advanced reports")
    page.get_by_role("link", name="Change plan").click()
    page.locator('[data-plan-row="plus"]').get_by_role("radio").check()
    page.get_by_role("button", name="Confirm plan change").click()
    expect(page.locator("[data-chosen-plan]")).to_contain_text("Plus")
    expect(page.locator("[data-features-lost]")).to_contain_text("Advanced reports")
    expect(page.locator("[data-licences]")).to_contain_text("outlet")
    page.get_by_role("button", name="Confirm payment details").click()
    expect(page.locator("[data-card-amount]")).to_be_visible()
    # Plus allows Xero but no third-party app: the demo shop's apps must go first (seed 000's FAQ). Setup ›
    # Integrations stays open on hold for that; back on the page, the same choice can be paid.
    blocked = page.locator("[data-blocked-integrations]")
    expect(blocked).to_contain_text("LoyaltyLoop")
    expect(page.get_by_role("button", name="Pay and activate")).to_be_disabled()
    reactivation = page.url
    blocked.get_by_role("link", name="Remove").first.click()
    apps = page.locator("#connected-apps [data-app]")
    for remaining in range(apps.count(), 0, -1):
        apps.first.get_by_role("button", name="Cancel").click()
        expect(apps).to_have_count(remaining - 1)
    page.goto(reactivation)
    expect(page.locator("[data-blocked-integrations]")).to_have_count(0)
    page.get_by_role("button", name="Pay and activate").click()
    expect(page.get_by_text("Your account is active again. Welcome back!")).to_be_visible()

    assert Account.objects.get(pk=shop.pk).status == Account.Status.ACTIVE
    assert MerchantPlan.objects.get(account=shop).plan.code == "plus"
    assert _data(shop) == data_before
    assert errors == []
    page.goto(f"{live_server.url}{reverse('retail:products')}")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("This account is not active")
