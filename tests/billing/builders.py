"""Builders for billing's tests: a shop with outlets and registers on a plan, its card on file saved the
way the browser saves it (a sandbox setup confirmed with a test card, on the platform's account), a paid
period, and a snapshot of what a refused action must leave untouched."""

import datetime
import zoneinfo

import time_machine

from accounts import services as account_services
from accounts.models import Account, Outlet
from accounts.tenancy import scoped
from billing import services
from billing.ledger import balance
from billing.models import Hold, Invoice, LedgerEntry, MerchantPlan, Plan
from payments.models import Payment
from payments.sandbox.models import CardBehaviour, SandboxPaymentMethod
from tests.factories import owner_of
from tests.saved_cards.builders import VISA, confirm_in_browser

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def at(year, month, day, hour=12):
    return datetime.datetime(year, month, day, hour, tzinfo=PARIS)


def travel(moment):
    return time_machine.travel(moment, tick=False)


def shop_on_plan(account, *, plan_code="advanced", frequency="monthly", outlets=1, registers=2, addons=()):
    """The account with outlets and registers on `plan_code`, add-ons on."""
    owner = owner_of(account)
    for index in range(outlets):
        outlet = account_services.outlet_create(actor=owner, account=account, name=f"Outlet {index + 1}")
    outlet = scoped(Outlet, account).order_by("pk").first()
    for index in range(registers):
        account_services.register_create(actor=owner, account=account, outlet_id=outlet.pk, name=f"Register {index}")
    for code in addons:
        account_services.account_addon_enable(actor=owner, account=account, code=code)
    mp = services.merchant_plan_for(account)
    MerchantPlan.objects.filter(pk=mp.pk).update(plan=Plan.objects.get(code=plan_code), frequency=frequency)
    account.refresh_from_db()
    return owner


def add_card(account, number=VISA):
    owner = owner_of(account)
    secret = services.billing_card_setup_start(actor=owner, account=account)
    confirm_in_browser(secret, number)
    return services.billing_card_setup_finish(actor=owner, account=account)


def card_declines(account):
    mp = services.merchant_plan_for(account)
    SandboxPaymentMethod.objects.filter(pk=mp.payment_method_id).update(behaviour=CardBehaviour.CHARGE_FAILS)


def card_succeeds(account):
    mp = services.merchant_plan_for(account)
    SandboxPaymentMethod.objects.filter(pk=mp.payment_method_id).update(behaviour=CardBehaviour.SUCCEED)


def start_billing(account, moment):
    """The first period is billed (the plan's price, charged to the card) at `moment`."""
    from billing import runs

    mp = services.merchant_plan_for(account)
    MerchantPlan.objects.filter(pk=mp.pk).update(next_bill_at=moment)
    with travel(moment):
        return runs.bill(mp.pk, now=moment)


def state(account) -> dict:
    """What a refused action must leave as it was."""
    account = Account.objects.get(pk=account.pk)
    mp = MerchantPlan.objects.get(account=account)
    return {"status": account.status, "addons": sorted(account.addons), "plan": mp.plan_id, "frequency": mp.frequency,
            "balance": balance(account), "ledger": LedgerEntry.objects.filter(account=account).count(),
            "invoices": sorted(Invoice.objects.filter(account=account).values_list("pk", "status")),
            "payments": Payment.objects.filter(account=account).count(),
            "holds": sorted(Hold.objects.filter(account=account).values_list("pk", "ended_at"))}
