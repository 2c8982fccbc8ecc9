"""Putting an account on hold and reactivating it (seed 000): proration to the day, the hold fee from the
balance then the card, the two failure paths of reactivation, integration blocking and bad input."""

import datetime

import pytest

from accounts import hold_hooks
from accounts.guard import CUSTOMER_MONEY, CUSTOMER_PAGES, STAFF_PAGES, account_allows
from accounts.models import Account
from billing import pricing, runs, services
from billing.ledger import balance
from billing.models import Hold, Invoice, LedgerEntry, MerchantPlan, Plan, PlanPrice
from payments.models import Payment
from posbackoffice.errors import DomainError
from tests.billing.builders import (
    add_card,
    at,
    card_declines,
    card_succeeds,
    shop_on_plan,
    start_billing,
    state,
    travel,
)

pytestmark = pytest.mark.django_db


# ---- arithmetic ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "end", "today", "paid", "expected"), [
    (datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), datetime.date(2026, 1, 17), 3100, 1500),  # 15 of 31
    (datetime.date(2026, 2, 1), datetime.date(2026, 3, 1), datetime.date(2026, 2, 15), 2800, 1400),  # 14 of 28
    (datetime.date(2028, 2, 1), datetime.date(2028, 3, 1), datetime.date(2028, 2, 15), 2900, 1500),  # leap: 15 of 29
    (datetime.date(2026, 4, 1), datetime.date(2026, 5, 1), datetime.date(2026, 4, 30), 1000, 33),  # 1 of 30, half-up
    # yearly: 184 of 365 days
    (datetime.date(2026, 1, 10), datetime.date(2027, 1, 10), datetime.date(2026, 7, 10), 36500, 18400),
    (datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), datetime.date(2026, 2, 1), 3100, 0),  # period over
    (datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), datetime.date(2025, 12, 1), 3100, 3100),  # not started
])
def test_proration_is_to_the_day(start, end, today, paid, expected):
    assert pricing.prorated(paid, start=start, end=end, today=today) == expected


def test_months_stay_anchored_on_their_day():
    start = datetime.date(2026, 1, 31)
    assert [pricing.period_bounds(start, "monthly", index)[1] for index in range(3)] == [
        datetime.date(2026, 2, 28), datetime.date(2026, 3, 31), datetime.date(2026, 4, 30)]
    assert pricing.period_bounds(datetime.date(2028, 2, 29), "yearly", 0) == (
        datetime.date(2028, 2, 29), datetime.date(2029, 2, 28))


# ---- putting on hold -------------------------------------------------------------------------------------

@pytest.fixture
def shop(account):
    shop_on_plan(account, addons=["subscriptions"])
    add_card(account)
    return account


def test_the_rest_of_the_period_is_credited_to_the_day(shop):
    start_billing(shop, at(2026, 3, 1, 9))
    invoice = Invoice.objects.get(account=shop, kind=Invoice.Kind.PLAN)
    # Advanced: 1 outlet, 2 registers, Subscriptions
    assert invoice.status == Invoice.Status.PAID and invoice.total == 8900 + 2 * 2900 + 1900
    assert invoice.payment.payee == Payment.Payee.PLATFORM and invoice.payment.status == Payment.Status.SUCCEEDED

    with travel(at(2026, 3, 11)):
        hold = services.account_hold_start(actor=None, account=shop, months=3, read_only=False)

    # 21 of March's 31 days left (11th to 31st), of 166.00 €: 112.45 €.
    assert hold.credited == (2 * 16600 * 21 + 31) // 62 == 11245
    assert LedgerEntry.objects.get(account=shop, kind=LedgerEntry.Kind.PRORATION).amount == 11245
    shop.refresh_from_db()
    assert shop.status == Account.Status.ON_HOLD
    assert not any(account_allows(shop, what) for what in (STAFF_PAGES, CUSTOMER_PAGES, CUSTOMER_MONEY))
    assert hold.estimated_end == datetime.date(2026, 6, 11)


def test_a_yearly_plan_credits_the_rest_of_its_year(shop):
    MerchantPlan.objects.filter(account=shop).update(frequency="yearly")
    start_billing(shop, at(2026, 1, 10, 9))
    with travel(at(2026, 7, 10)):
        hold = services.account_hold_start(actor=None, account=shop, months=None)
    paid = 89000 + 2 * 29000 + 19000
    assert hold.credited == (2 * paid * 184 + 365) // 730
    assert hold.estimated_end is None


def test_the_read_only_hold_keeps_reports_readable_only(shop):
    with travel(at(2026, 3, 11)):
        services.account_hold_start(actor=None, account=shop, months=2, read_only=True)
    shop.refresh_from_db()
    assert shop.status == Account.Status.ON_HOLD_READABLE
    assert not account_allows(shop, STAFF_PAGES) and not account_allows(shop, CUSTOMER_MONEY)


@pytest.mark.parametrize("months", [0, -1, 25])
def test_a_bad_number_of_months_changes_nothing(shop, months):
    before = state(shop)
    with pytest.raises(DomainError):
        services.account_hold_start(actor=None, account=shop, months=months)
    assert state(shop) == before


def test_suspending_twice_is_refused(shop):
    with travel(at(2026, 3, 11)):
        services.account_hold_start(actor=None, account=shop, months=2)
    before = state(shop)
    with pytest.raises(DomainError, match="already on hold"):
        services.account_hold_start(actor=None, account=shop, months=2)
    assert state(shop) == before


# ---- the hold fee ----------------------------------------------------------------------------------------

def _bill(account, moment):
    mp = MerchantPlan.objects.get(account=account)
    with travel(moment):
        return runs.bill(mp.pk, now=moment)


def test_the_fee_comes_from_the_balance_then_the_card_and_a_declined_card_is_retried(shop):
    from accounts.models import OutgoingEmail

    start_billing(shop, at(2026, 3, 1, 9))
    with travel(at(2026, 3, 30)):
        hold = services.account_hold_start(actor=None, account=shop, months=None)
    credit = hold.credited
    assert credit == (2 * 16600 * 2 + 31) // 62  # two days of March (10.71 €): less than the 15.00 € fee
    assert credit < 1500

    _bill(shop, at(2026, 3, 30, 13))  # the first month's fee: the balance, then the card for the rest
    fee = Invoice.objects.get(account=shop, kind=Invoice.Kind.HOLD_FEE)
    assert (fee.total, fee.from_balance, fee.status) == (1500, credit, Invoice.Status.PAID)
    assert fee.payment.amount == 1500 - credit and fee.payment.status == Payment.Status.SUCCEEDED
    assert balance(shop) == 0

    card_declines(shop)
    _bill(shop, at(2026, 4, 30, 1))  # the second month: nothing left on the balance, the card declines
    second = Invoice.objects.filter(account=shop, kind=Invoice.Kind.HOLD_FEE).order_by("-pk").first()
    assert second.status == Invoice.Status.FAILED and second.from_balance == 0
    assert second.retry_at == at(2026, 5, 3, 1)  # 3 days later
    assert OutgoingEmail.objects.filter(account=shop, subject__contains=second.number).exists()
    assert Hold.objects.get(pk=hold.pk).ended_at is None  # nothing deleted, still on hold

    _bill(shop, at(2026, 5, 2, 12))  # not due yet: nothing
    assert Payment.objects.filter(purpose_ref=second.pk).count() == 1
    card_succeeds(shop)
    _bill(shop, at(2026, 5, 3, 2))  # the retry
    second.refresh_from_db()
    assert second.status == Invoice.Status.PAID and second.tries == 2


def test_a_new_card_retries_a_failed_fee_at_once(shop):
    with travel(at(2026, 3, 30)):
        services.account_hold_start(actor=None, account=shop, months=None)
    card_declines(shop)
    _bill(shop, at(2026, 3, 30, 13))
    fee = Invoice.objects.get(account=shop, kind=Invoice.Kind.HOLD_FEE)
    assert fee.status == Invoice.Status.FAILED
    with travel(at(2026, 3, 31)):
        add_card(shop)
    assert Invoice.objects.get(pk=fee.pk).retry_at <= at(2026, 3, 31)
    _bill(shop, at(2026, 3, 31, 13))
    assert Invoice.objects.get(pk=fee.pk).status == Invoice.Status.PAID


# ---- reactivation --------------------------------------------------------------------------------------

@pytest.fixture
def held(shop):
    start_billing(shop, at(2026, 3, 1, 9))
    with travel(at(2026, 3, 11)):
        services.account_hold_start(actor=None, account=shop, months=3)
    _bill(shop, at(2026, 3, 11, 13))
    return shop


def _owner(account):
    from tests.factories import owner_of

    return owner_of(account)


def test_the_recommendation_is_the_closest_current_plan_with_add_ons_to_match(held):
    hold = services.current_hold(held)
    plan, addons = pricing.closest_current_plan(hold.plan, hold.addons)
    assert (plan.code, addons) == ("pro", ["subscriptions"])
    lost = pricing.lost_features(hold.plan, hold.addons, Plan.objects.get(code="plus"), [])
    assert "Advanced reports" in lost and "Subscriptions" in lost


def test_reactivation_with_a_plan_change_pays_and_tells_the_apps(held, monkeypatch):
    told = []
    monkeypatch.setattr(hold_hooks, "reactivated", lambda account, **kwargs: told.append(kwargs))
    plus = Plan.objects.get(code="plus")
    with travel(at(2026, 6, 20)):
        invoice = services.reactivation_start(actor=_owner(held), account=held, plan_id=plus.pk, frequency="yearly",
                                              addons=["subscriptions"])
        invoice = runs.invoice_charge(invoice.pk)
    assert invoice.status == Invoice.Status.PAID
    held.refresh_from_db()
    assert held.status == Account.Status.ACTIVE and held.addons == ["subscriptions"]
    mp = MerchantPlan.objects.get(account=held)
    assert (mp.plan.code, mp.frequency, mp.period_start, mp.period_end) == (
        "plus", "yearly", datetime.date(2026, 6, 20), datetime.date(2027, 6, 20))
    assert told == [{"held_since": at(2026, 3, 11), "now": at(2026, 6, 20)}]
    assert Hold.objects.get(account=held).ended_at == at(2026, 6, 20)
    assert Payment.objects.filter(purpose_ref=invoice.pk, status=Payment.Status.SUCCEEDED).count() == 1


def test_a_declined_card_at_activation_activates_nothing_and_gives_the_balance_back(held):
    before_balance = balance(held)
    card_declines(held)
    pro = Plan.objects.get(code="pro")
    with travel(at(2026, 6, 20)):
        invoice = services.reactivation_start(actor=_owner(held), account=held, plan_id=pro.pk, frequency="monthly",
                                              addons=["subscriptions"])
        invoice = runs.invoice_charge(invoice.pk)
    assert invoice.status == Invoice.Status.FAILED
    held.refresh_from_db()
    assert held.status == Account.Status.ON_HOLD
    assert balance(held) == before_balance
    assert MerchantPlan.objects.get(account=held).plan.code == "advanced"


def test_a_subscription_mismatch_charges_nothing(held):
    pro = Plan.objects.get(code="pro")
    PlanPrice.objects.filter(plan=pro, currency="EUR", licence="register").delete()
    before = state(held)
    with pytest.raises(pricing.SubscriptionMismatch, match="account manager"):
        services.reactivation_start(actor=_owner(held), account=held, plan_id=pro.pk, frequency="monthly", addons=[])
    assert state(held) == before


def test_a_plan_not_allowing_a_configured_integration_cannot_be_completed(held, monkeypatch):
    providers = hold_hooks.INTEGRATIONS_IN_USE.copy()
    providers.register("fake", lambda account: [hold_hooks.IntegrationInUse("app:stock-sync", "Stock Sync",
                                                                           "/setup/integrations/")])
    monkeypatch.setattr(hold_hooks, "INTEGRATIONS_IN_USE", providers)
    before = state(held)
    plus = Plan.objects.get(code="plus")
    with pytest.raises(DomainError, match="Stock Sync"):
        services.reactivation_start(actor=_owner(held), account=held, plan_id=plus.pk, frequency="monthly", addons=[])
    assert state(held) == before
    assert services.blocked_integrations(held, Plan.objects.get(code="pro")) == []  # Pro allows every app


@pytest.mark.parametrize("choice", [
    {"plan_id": 999999999, "frequency": "monthly", "addons": []},  # forged plan id
    {"plan_id": "legacy", "frequency": "monthly", "addons": []},  # a legacy plan
    {"plan_id": "pro", "frequency": "weekly", "addons": []},
    {"plan_id": "pro", "frequency": "monthly", "addons": ["nonsense"]},  # forged add-on
])
def test_a_forged_choice_changes_nothing(held, choice):
    if choice["plan_id"] == "legacy":
        choice = {**choice, "plan_id": Plan.objects.get(code="advanced").pk}
    elif choice["plan_id"] == "pro":
        choice = {**choice, "plan_id": Plan.objects.get(code="pro").pk}
    before = state(held)
    with pytest.raises(DomainError):
        services.reactivation_start(actor=_owner(held), account=held, **choice)
    assert state(held) == before


def test_reactivating_an_active_account_is_refused(shop):
    before = state(shop)
    with pytest.raises(DomainError, match="nothing to reactivate"):
        services.reactivation_start(actor=_owner(shop), account=shop, plan_id=Plan.objects.get(code="pro").pk,
                                    frequency="monthly", addons=[])
    assert state(shop) == before


def test_two_tabs_paying_at_once_make_one_charge(held):
    pro = Plan.objects.get(code="pro")
    with travel(at(2026, 6, 20)):
        first = services.reactivation_start(actor=_owner(held), account=held, plan_id=pro.pk, frequency="monthly",
                                            addons=[])
        with pytest.raises(DomainError, match="already in progress"):
            services.reactivation_start(actor=_owner(held), account=held, plan_id=pro.pk, frequency="monthly",
                                        addons=[])
        runs.invoice_charge(first.pk)
        with pytest.raises(DomainError, match="nothing to reactivate"):
            services.reactivation_start(actor=_owner(held), account=held, plan_id=pro.pk, frequency="monthly",
                                        addons=[])
    assert Invoice.objects.filter(account=held, kind=Invoice.Kind.REACTIVATION).count() == 1
    assert Payment.objects.filter(purpose_ref=first.pk).count() == 1


def test_the_reminder_goes_seven_days_before_the_estimated_date(held):
    from accounts.models import OutgoingEmail

    assert runs.send_hold_reminders(at(2026, 6, 3)) == 0  # estimated 11 June: 8 days before
    assert runs.send_hold_reminders(at(2026, 6, 4)) == 1
    assert runs.send_hold_reminders(at(2026, 6, 5)) == 0  # once
    # In the owner's language: the shop's (French) unless they chose another.
    reminders = OutgoingEmail.objects.filter(account=held, subject__in=["Your account is due to be reactivated soon",
                                                                       "La réactivation de votre compte approche"])
    assert reminders.count() == 1


def test_the_balance_and_the_invoices_stay_exact_through_a_hold_and_a_reactivation(held):
    from tests.integrity.machine import billing_ledger_problems

    with travel(at(2026, 6, 20)):
        invoice = services.reactivation_start(actor=_owner(held), account=held, plan_id=Plan.objects.get(code="pro").pk,
                                              frequency="monthly", addons=["subscriptions"])
        runs.invoice_charge(invoice.pk)
    assert Invoice.objects.filter(account=held, status=Invoice.Status.PAID).count() >= 3  # plan, fee, reactivation
    assert billing_ledger_problems(held) == []
