"""The pages of the hold and reactivation: Setup › Billing, the checklist, Suspend my account, the
reactivation page and its failures, what a staff page and a customer page show while on hold."""

import pytest
from django.urls import reverse

from accounts.models import Account
from billing import runs, services
from billing.models import Invoice, MerchantPlan, Plan
from posbackoffice.models import ExportJob
from tests.billing.builders import add_card, at, card_declines, shop_on_plan, start_billing, state, travel
from tests.payments.builders import page_text
from tests.retail.builders import in_english

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(account):
    shop_on_plan(account, addons=["subscriptions"])
    add_card(account)
    return account


@pytest.fixture
def owner_client(client, owner):
    client.force_login(in_english(owner))
    return client


def test_the_billing_page_shows_plan_licences_card_balance_and_invoices(shop, owner_client):
    start_billing(shop, at(2026, 3, 1, 9))
    text = page_text(owner_client.get(reverse("billing:setup")))
    assert "Advanced (legacy)" in text and "Legacy plan" in text
    assert "1 outlet" in text and "2 registers" in text
    assert "Visa •••• 4242" in text
    assert "Account balance" in text and "F" in text and "Invoices" in text
    assert "you cannot go back to it" in text
    invoice = Invoice.objects.get(account=shop)
    pdf = owner_client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_another_accounts_invoice_is_not_found(shop, other_account, client):
    from tests.factories import owner_of

    start_billing(shop, at(2026, 3, 1, 9))
    client.force_login(owner_of(other_account))
    invoice = Invoice.objects.get(account=shop)
    assert client.get(reverse("billing:invoice_pdf", args=[invoice.pk])).status_code == 404


def test_leaving_a_legacy_plan_must_be_confirmed(shop, owner_client):
    pro = Plan.objects.get(code="pro")
    before = state(shop)
    response = owner_client.post(reverse("billing:plan_change"), {"plan": pro.pk, "frequency": "monthly"}, follow=True)
    assert "cannot be undone" in page_text(response)
    assert state(shop) == before
    owner_client.post(reverse("billing:plan_change"), {"plan": pro.pk, "frequency": "monthly", "confirm_current": "1"})
    assert MerchantPlan.objects.get(account=shop).plan == pro
    response = owner_client.post(reverse("billing:plan_change"),
                                 {"plan": Plan.objects.get(code="advanced").pk, "frequency": "monthly"}, follow=True)
    assert "Legacy plans are no longer offered" in page_text(response)


def test_the_checklist_starts_every_export_and_shows_its_progress(shop, owner_client):
    text = page_text(owner_client.get(reverse("billing:hold_checklist")))
    for label in ("Sales history", "Products", "Customers", "Register closures", "Sales report", "Tax report",
                  "Gift cards report", "Store credit report"):
        assert label in text
    assert "stock order" not in text.lower()
    owner_client.post(reverse("billing:hold_export"), {"kind": "products"})
    assert ExportJob.objects.filter(account=shop, kind="products").count() == 1
    response = owner_client.get(reverse("billing:hold_checklist"))
    assert 'data-export="products"' in response.content.decode() and "Queued" in page_text(response)
    assert owner_client.post(reverse("billing:hold_export"), {"kind": "nope"}).status_code == 302
    assert ExportJob.objects.filter(account=shop).count() == 1


def test_suspend_in_two_steps_then_every_staff_page_leads_to_reactivation(shop, owner_client):
    step1 = owner_client.post(reverse("billing:suspend"), {"step": "data", "months": "3"})
    text = page_text(step1)
    assert "Put my account on hold" in text and "Payment links" in text and "Card terminals" in text
    assert "one of our current plans" in text and reverse("billing:plans") in step1.content.decode()
    assert Account.objects.get(pk=shop.pk).status == Account.Status.ACTIVE

    owner_client.post(reverse("billing:suspend"), {"step": "hold", "months": "3"})
    assert Account.objects.get(pk=shop.pk).status == Account.Status.ON_HOLD

    locked = owner_client.get(reverse("retail:products"))
    assert locked.status_code == 403 and reverse("billing:reactivate") in locked.content.decode()
    assert owner_client.get(reverse("billing:setup")).status_code == 200
    assert owner_client.get(reverse("billing:card")).status_code == 200


@pytest.mark.parametrize("fields", [{"months": "-1"}, {"months": "0"}, {"months": "²"}, {}, {"months": "99"}])
def test_bad_months_are_refused_with_a_message(shop, owner_client, fields):
    before = state(shop)
    response = owner_client.post(reverse("billing:suspend"), {"step": "hold", **fields})
    assert response.status_code == 422
    assert state(shop) == before


def test_the_read_only_hold_keeps_reports_open(shop, owner_client):
    owner_client.post(reverse("billing:suspend"), {"step": "hold", "dont_know": "1", "read_only": "1"})
    assert Account.objects.get(pk=shop.pk).status == Account.Status.ON_HOLD_READABLE
    assert owner_client.get(reverse("retail:reports")).status_code == 200
    assert owner_client.get(reverse("retail:products")).status_code == 403


@pytest.fixture
def held(shop):
    start_billing(shop, at(2026, 3, 1, 9))
    with travel(at(2026, 3, 11)):
        services.account_hold_start(actor=None, account=shop, months=3)
    return shop


def test_the_reactivation_page_recommends_and_compares(held, owner_client):
    response = owner_client.get(reverse("billing:reactivate"))
    text = page_text(response)
    assert 'data-chosen-plan="pro"' in response.content.decode() and "Recommended" in text
    assert "Show features I had" in text and "Advanced reports" in text
    assert 'data-addon="subscriptions"' in response.content.decode()
    plus = Plan.objects.get(code="plus")
    text = page_text(owner_client.get(reverse("billing:reactivate"), {"plan": plus.pk, "frequency": "monthly"}))
    assert "you lose features" in text
    compared = page_text(owner_client.get(reverse("billing:reactivate"), {"change": "1"}))
    assert "Confirm plan change" in compared and "Keep plan" in compared
    removed = owner_client.get(reverse("billing:reactivate"), {"removed": "subscriptions", "step": "review"})
    assert "subscriptions will be paused" in page_text(removed)
    forged = page_text(owner_client.get(reverse("billing:reactivate"), {"plan": "99999999999999999999"}))
    assert "This plan is not available" in forged


def test_pay_and_activate_then_a_second_tab_is_told(held, owner_client):
    pro = Plan.objects.get(code="pro")
    fields = {"plan": pro.pk, "frequency": "monthly", "addons": ["subscriptions"]}
    response = owner_client.post(reverse("billing:reactivate_pay"), fields, follow=True)
    assert "Your account is active again" in page_text(response)
    assert Account.objects.get(pk=held.pk).status == Account.Status.ACTIVE
    again = owner_client.post(reverse("billing:reactivate_pay"), fields, follow=True)
    assert "nothing to reactivate" in page_text(again)
    assert Invoice.objects.filter(account=held, kind=Invoice.Kind.REACTIVATION).count() == 1


def test_a_payment_failure_says_to_update_the_card(held, owner_client):
    card_declines(held)
    pro = Plan.objects.get(code="pro")
    response = owner_client.post(reverse("billing:reactivate_pay"), {"plan": pro.pk, "frequency": "monthly"},
                                 follow=True)
    assert "update your card" in page_text(response)
    assert Account.objects.get(pk=held.pk).status == Account.Status.ON_HOLD


def test_the_billing_job_finds_the_due_accounts(held):
    mp = MerchantPlan.objects.get(account=held)
    assert mp.pk in runs.due_ids(at(2026, 3, 11, 13))
