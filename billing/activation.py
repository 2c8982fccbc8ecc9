"""Reactivation's last step: the account active again on the plan it paid for (billing.invoices calls it
once the reactivation invoice is paid, inside the payment's settlement transaction)."""

from accounts import addons as addon_catalogue
from accounts import hold_hooks
from accounts.guard import account_on_hold
from accounts.models import Account
from accounts.services import account_addon_disable, account_addon_enable, audit_record
from accounts.tenancy import scoped
from billing import pricing
from billing.models import Hold, Invoice, MerchantPlan, Plan


def plan_state(mp: MerchantPlan) -> dict:
    return {"plan": mp.plan.code, "frequency": mp.frequency, "discount_percent": mp.discount_percent,
            "card": mp.card_label}


def account_reactivate(invoice: Invoice, *, now) -> Account:
    """The reactivation invoice is paid: the account is active again on the chosen plan, add-ons and
    frequency, a new period starts today, and every app that took part in the hold is told (inside this
    transaction: accounts.hold_hooks.reactivated). Called by billing.runs when the invoice is paid."""
    account = Account.objects.select_for_update().get(pk=invoice.account_id)
    if not account_on_hold(account):
        return account
    mp = scoped(MerchantPlan, account).select_for_update(of=("self",)).select_related("plan").get()
    hold = scoped(Hold, account).select_for_update().filter(ended_at__isnull=True).first()
    chosen = invoice.activates or {}
    plan = Plan.objects.get(pk=chosen["plan"])
    before = {"status": account.status, **plan_state(mp)}
    account.status = Account.Status.ACTIVE
    account.save(update_fields=["status"])
    actor = invoice.created_by
    wanted = set(chosen.get("addons", ())) | set(plan.included_addons or ())
    for code in sorted(addon_catalogue.ALL_CODES):
        on = code in addon_catalogue.account_addons(Account.objects.get(pk=account.pk))
        if code in wanted and not on:
            account_addon_enable(actor=actor, account=account, code=code)
        elif code not in wanted and on:
            account_addon_disable(actor=actor, account=account, code=code)
    mp.plan, mp.frequency, mp.discount_percent = plan, chosen["frequency"], 0
    mp.period_start, mp.period_end = invoice.period_start, invoice.period_end
    mp.period_anchor = invoice.period_start.day
    mp.next_bill_at = pricing.local_midnight(account, invoice.period_end)
    mp.save()
    held_since = now
    if hold is not None:
        held_since = hold.started_at
        hold.ended_at, hold.fee_due_at = now, None
        hold.save(update_fields=["ended_at", "fee_due_at"])
    audit_record(account=account, actor=actor, action="account.reactivated", target=account, before=before,
                 after={"status": account.status, **plan_state(mp)}, at=now)
    hold_hooks.reactivated(account, held_since=held_since, now=now)
    return account
