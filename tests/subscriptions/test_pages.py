"""The pages, as staff use them: the add-on switch in Setup › Billing, the menu, Manage plans,
Subscribe a customer, Manage subscriptions (filters, detail, pause, cancel, notes, card), a payment's
Retry and Refund, Settings; refusals leave everything unchanged."""

import datetime

import pytest
from django.urls import reverse

from accounts.addons import SUBSCRIPTIONS
from accounts.models import Account
from payments.models import Payment, PaymentSettings
from retail.models import Fulfilment, Sale
from subscriptions.models import Plan, Subscription, SubscriptionSettings
from tests.factories import AccountFactory, owner_of
from tests.retail.builders import page_text
from tests.subscriptions.builders import (
    DECLINES_WHEN_CHARGED,
    monthly_box,
    paris,
    payments_of,
    refreshed,
    run_due,
    state,
    subscribe,
    subscriber,
    succeeds,
    travel,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, shop):
    client.force_login(shop.actor)
    return client


def test_the_addon_switch_in_billing_and_the_menu(client, account):
    client.force_login(owner_of(account))
    page = client.get(reverse("billing:setup"))
    assert "Abonnements" in page_text(page) and "Manage subscriptions" not in page_text(page)
    response = client.post(reverse("billing:addon_switch"), {"addon": SUBSCRIPTIONS, "on": "1"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert SUBSCRIPTIONS in account.addons
    text = page_text(client.get(reverse("billing:setup")))
    for entry in ("Gérer les plans", "Abonner un client", "Gérer les abonnements"):
        assert entry in text


def test_the_addon_is_refused_under_tyro(client, account):
    PaymentSettings.objects.update_or_create(account=account, defaults={"processor": "tyro"})
    client.force_login(owner_of(account))
    response = client.post(reverse("billing:addon_switch"), {"addon": SUBSCRIPTIONS, "on": "1"}, follow=True)
    assert "Tyro" in page_text(response)
    assert SUBSCRIPTIONS not in Account.objects.get(pk=account.pk).addons


def test_create_and_edit_a_plan(staff, shop):
    results = staff.get(reverse("subscriptions:plan_products"), {"q": "café"})
    assert "Café du mois" in page_text(results)
    line = staff.get(reverse("subscriptions:plan_products"), {"add": shop.coffee.pk})
    assert f'value="{shop.coffee.pk}"' in line.content.decode()
    response = staff.post(reverse("subscriptions:plan_create"), {
        "name": "Box café", "interval": "monthly", "line_product": [shop.coffee.pk, shop.fee.pk],
        "line_price": ["15,00", ""], "line_quantity": ["2", "1"], "ships": "on", "has_customer_type": "on",
        "customer_type_name": "Abonnés", "duration": "fixed", "duration_intervals": "12"})
    assert response.status_code == 302
    plan = Plan.objects.get(account=shop.account)
    assert plan.ships and plan.customer_type.name == "Abonnés" and plan.duration_intervals == 12
    assert list(plan.lines.values_list("product_id", "quantity", "recurring_price")) == [
        (shop.coffee.pk, 2, 1500), (shop.fee.pk, 1, None)]
    assert "Box café" in page_text(staff.get(reverse("subscriptions:plans")))
    response = staff.post(reverse("subscriptions:plan_edit", args=[plan.pk]), {
        "name": "Box café", "interval": "monthly", "line_product": [shop.coffee.pk, shop.fee.pk],
        "line_price": ["15,00", ""], "line_quantity": ["2", "1"], "line_remove": [shop.fee.pk], "duration": "open"})
    assert response.status_code == 302
    assert plan.lines.count() == 1 and Plan.objects.get(pk=plan.pk).duration_intervals is None


@pytest.mark.parametrize("lines", [
    {},
    {"line_product": ["PRODUCT"], "line_price": [""], "line_quantity": ["0"]},
    {"line_product": ["PRODUCT"], "line_price": ["-3"], "line_quantity": ["1"]},
])
def test_bad_plans_show_a_message_and_change_nothing(staff, shop, lines):
    lines = {key: [str(shop.coffee.pk) if value == "PRODUCT" else value for value in values]
             for key, values in lines.items()}
    before = state(shop.account)
    response = staff.post(reverse("subscriptions:plan_create"), {"name": "X", "interval": "monthly",
                                                                 "duration": "open", **lines})
    assert response.status_code == 400
    assert state(shop.account) == before


def test_subscribe_a_customer_charges_now(staff, shop):
    customer = subscriber(shop, email="")
    plan = monthly_box(shop)
    page = staff.get(reverse("subscriptions:subscribe"), {"q": "Martin"})
    assert "Camille Martin" in page_text(page)
    page = staff.get(reverse("subscriptions:subscribe"), {"customer": customer.pk})
    text = page_text(page)
    assert "adresse e-mail" in text and "Afficher" in text or "View" in text  # the missing e-mail, with View
    assert "Box café" in page.content.decode()
    response = staff.post(reverse("subscriptions:subscribe"), {
        "customer": customer.pk, "plan_name": "Box café", "start": "now", "register": shop.register.pk,
        "card": customer.card.pk})
    assert response.status_code == 302
    sub = Subscription.objects.get(account=shop.account)
    assert sub.status == Subscription.Status.ACTIVE and sub.plan == plan
    assert Sale.objects.filter(account=shop.account, customer=customer).count() == 1
    assert Fulfilment.objects.filter(account=shop.account).count() == 1


def test_subscribe_refusals_change_nothing(staff, shop):
    customer = subscriber(shop)
    monthly_box(shop)
    before = state(shop.account)
    for data in ({"plan_name": "Nope"}, {"card": ""}, {"start": "later", "start_date": "2000-01-01"},
                 {"customer": AccountFactory().pk * 1000}):
        response = staff.post(reverse("subscriptions:subscribe"), {
            "customer": customer.pk, "plan_name": "Box café", "start": "now", "register": shop.register.pk,
            "card": customer.card.pk} | data)
        assert response.status_code in (400, 404)
        assert state(shop.account) == before


def test_the_list_filters_and_highlights_overdue(staff, shop):
    good = subscriber(shop, first_name="Alice", last_name="Bon")
    bad = subscriber(shop, first_name="Bruno", last_name="Retard", number=DECLINES_WHEN_CHARGED)
    plan = monthly_box(shop)
    subscribe(shop, good, plan)
    subscribe(shop, bad, plan)
    run_due()
    page = staff.get(reverse("subscriptions:list"))
    html = page.content.decode()
    assert html.count('class="overdue"') == 1 and "Alice Bon" in html and "Bruno Retard" in html
    assert "Bruno Retard" not in page_text(staff.get(reverse("subscriptions:list"), {"status": "active"}))
    assert "Alice Bon" not in page_text(staff.get(reverse("subscriptions:list"), {"q": "retard"}))


def test_detail_pause_resume_cancel_notes(staff, shop):
    customer = subscriber(shop)
    with travel(paris(2028, 1, 10)):
        sub = subscribe(shop, customer, monthly_box(shop))
        run_due()
        staff.force_login(shop.actor)  # a session of that day
        text = page_text(staff.get(reverse("subscriptions:detail", args=[sub.pk])))
        assert "Abonnés café" in text and "4242" in text and "10 février 2028" in text
        assert staff.get(reverse("subscriptions:pause", args=[sub.pk])).status_code == 200
        staff.post(reverse("subscriptions:pause", args=[sub.pk]))
        assert refreshed(sub).status == Subscription.Status.PAUSED
        staff.post(reverse("subscriptions:resume", args=[sub.pk]))
        assert refreshed(sub).status == Subscription.Status.ACTIVE
        staff.post(reverse("subscriptions:notes", args=[sub.pk]), {"notes": "Allergique aux noix"})
        assert refreshed(sub).notes == "Allergique aux noix"
        staff.post(reverse("subscriptions:cancel", args=[sub.pk]), {"when": "period_end"})
        assert refreshed(sub).cancel_at_period_end
        response = staff.post(reverse("subscriptions:cancel", args=[sub.pk]), {"when": "now"})
        assert refreshed(sub).status == Subscription.Status.CANCELLED
        before = state(shop.account)
        response = staff.post(reverse("subscriptions:cancel", args=[sub.pk]), {"when": "now"}, follow=True)
        assert "annulé" in page_text(response) and state(shop.account) == before


def test_retry_and_refund_from_the_payment_page(staff, shop):
    customer = subscriber(shop, number=DECLINES_WHEN_CHARGED)
    sub = subscribe(shop, customer, monthly_box(shop))
    run_due()
    failed = payments_of(sub)[0]
    page = staff.get(reverse("subscriptions:payment", args=[sub.pk, failed.pk]))
    assert "Réessayer" in page_text(page) or "Retry" in page_text(page)
    succeeds(customer.card)
    staff.post(reverse("subscriptions:retry", args=[sub.pk, failed.pk]))
    assert refreshed(sub).status == Subscription.Status.ACTIVE
    paid = payments_of(sub)[-1]
    assert paid.status == Payment.Status.SUCCEEDED
    before = state(shop.account)
    response = staff.post(reverse("subscriptions:refund", args=[sub.pk, paid.pk]), {"amount": "31,00", "reason": "x"})
    assert response.status_code == 400 and state(shop.account) == before
    response = staff.post(reverse("subscriptions:refund", args=[sub.pk, paid.pk]),
                          {"amount": "10,00", "reason": "Colis abîmé"}, follow=True)
    assert "trois jours ouvrables" in page_text(response)
    paid.refresh_from_db()
    assert paid.amount_refunded == 1000


def test_another_accounts_subscription_is_not_found(client, shop):
    customer = subscriber(shop)
    sub = subscribe(shop, customer, monthly_box(shop))
    other = AccountFactory()
    from tests.factories import with_addons

    with_addons(other, SUBSCRIPTIONS)
    client.force_login(owner_of(other))
    assert client.get(reverse("subscriptions:detail", args=[sub.pk])).status_code == 404
    assert client.post(reverse("subscriptions:pause", args=[sub.pk])).status_code == 404


def test_settings(staff, shop):
    assert "Confirmation d’abonnement" in page_text(staff.get(reverse("subscriptions:settings")))
    staff.post(reverse("subscriptions:settings"), {"use_backup_card": "on"})
    row = SubscriptionSettings.objects.get(account=shop.account)
    assert not row.send_confirmation and row.use_backup_card


def test_scheduled_subscription_from_the_page(staff, shop):
    customer = subscriber(shop)
    monthly_box(shop)
    with travel(paris(2028, 1, 10)):
        staff.force_login(shop.actor)
        staff.post(reverse("subscriptions:subscribe"), {
            "customer": customer.pk, "plan_name": "Box café", "start": "later", "start_date": "2028-02-01",
            "register": shop.register.pk, "card": customer.card.pk})
    sub = Subscription.objects.get(account=shop.account)
    assert sub.status == Subscription.Status.SCHEDULED and sub.start_date == datetime.date(2028, 2, 1)
    assert not payments_of(sub)


def test_the_dashboard(staff, shop):
    customer = subscriber(shop)
    subscribe(shop, customer, monthly_box(shop))
    run_due()
    page = staff.get(reverse("subscriptions:dashboard"))
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and html.count('class="chart-bar"') == 12
    assert "30,00" in page_text(page)  # the monthly recurring revenue, and this month's bar


def test_add_credit_card_keeps_what_was_filled_across_invite_and_continue(staff, shop):
    from urllib.parse import parse_qs, urlsplit

    from saved_cards.models import CardInvite

    customer = subscriber(shop)
    monthly_box(shop)
    filled = {"customer": customer.pk, "plan_name": "Box café", "start": "later", "start_date": "2099-03-01",
              "register": shop.register.pk}
    response = staff.post(reverse("subscriptions:subscribe"), filled | {"add_card": "invite"})
    assert response.status_code == 302
    invite = CardInvite.objects.get(customer=customer, kind=CardInvite.Kind.QR)
    location = urlsplit(response["Location"])
    assert location.path == reverse("saved_cards:invite", kwargs={"customer_id": customer.pk, "invite_id": invite.pk})
    [back] = parse_qs(location.query)["next"]
    assert staff.get(response["Location"]).status_code == 200  # the QR code; "Card added" → Continue goes to `back`
    assert not Subscription.objects.filter(account=shop.account).exists()  # nothing subscribed yet

    page = staff.get(back).content.decode()  # "Card added" → Continue: the form as it was left
    assert 'value="Box café"' in page and 'value="2099-03-01"' in page
    assert "checked" in page.split('value="later"')[1].split(">")[0]
    assert f'value="{shop.register.pk}" selected' in page

    response = staff.post(reverse("subscriptions:subscribe"), filled | {"add_card": "enter"})
    location = urlsplit(response["Location"])
    assert location.path == reverse("saved_cards:add", args=[customer.pk])
    assert parse_qs(location.query)["next"] == [back]
