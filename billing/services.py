"""State changes of the merchant's billing with us: the plan and its add-ons, the card on file (at the
platform's processor account), the balance, putting the account on hold and reactivating it.

Lock order, whoever takes them: the account, then its MerchantPlan, then its current Hold, then its
invoices. Every change of the balance (a LedgerEntry) happens under the MerchantPlan's lock, so a balance
read there is the one written against. Invoices, their payments and the billing job are in billing.runs.
"""

import datetime
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import addons as addon_catalogue
from accounts import hold_hooks
from accounts.guard import account_on_hold
from accounts.models import Account
from accounts.services import account_addon_disable, account_addon_enable, audit_record
from accounts.tenancy import scoped
from billing import invoices, pricing, tasks
from billing.activation import plan_state
from billing.ledger import ledger_add
from billing.models import AddonPrice, Frequency, Hold, Invoice, LedgerEntry, MerchantPlan, Plan
from payments.card_setups import card_setup_result
from payments.gateway import PLATFORM, get_gateway
from payments.gateway.errors import GatewayError
from posbackoffice import jobs
from posbackoffice.errors import DomainError
from posbackoffice.money import format_money

logger = logging.getLogger(__name__)

MAX_HOLD_MONTHS = 24


# ---- reads shared by the services ---------------------------------------------------------------------

def default_plan() -> Plan:
    plan = Plan.objects.filter(legacy=False).order_by("rank", "code").first()
    if plan is None:
        raise DomainError(_("No plan is available. Contact your account manager."))
    return plan


def merchant_plan_for(account) -> MerchantPlan:
    """The account's plan with us; an account without one starts on the first current plan, monthly,
    not billed until a period starts (a plan change or reactivation starts one)."""
    found = scoped(MerchantPlan, account).select_related("plan").first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return MerchantPlan.objects.create(account=account, plan=default_plan())
    except IntegrityError:  # created meanwhile by another request
        return scoped(MerchantPlan, account).select_related("plan").get()


def _lock_account(account) -> Account:
    return Account.objects.select_for_update().get(pk=getattr(account, "pk", account))


def _lock_plan(account) -> MerchantPlan:
    merchant_plan_for(account)
    return scoped(MerchantPlan, account).select_for_update(of=("self",)).select_related("plan").get()


def current_hold(account) -> Hold | None:
    return scoped(Hold, account).filter(ended_at__isnull=True).select_related("plan").first()




# ---- the card on file ---------------------------------------------------------------------------------

def _unavailable(error: GatewayError) -> str:
    return _("The card processor did not answer (%(code)s). Nothing was saved; try again in a moment.") % {
        "code": error.code}


def billing_card_setup_start(*, actor, account) -> str:
    """Start saving the merchant's card on the platform's processor account: the client secret the
    browser's card fields confirm the setup with (the card never reaches us)."""
    gateway = get_gateway(PLATFORM)
    with transaction.atomic():
        mp = _lock_plan(account)
        mp.card_setups += 1
        mp.save(update_fields=["card_setups"])
        audit_record(account=account, actor=actor, action="billing.card_setup_started", target=mp,
                     after={"setup": mp.card_setups})
    try:
        customer_id = mp.processor_customer_id
        if not customer_id:
            owner_email = getattr(actor, "email", "") or ""
            customer_id = gateway.create_customer(email=owner_email, name=account.name,
                                                  idempotency_key=f"billing-customer-{mp.pk}",
                                                  metadata={"account": str(account.pk)}).id
        started = gateway.start_card_setup(customer_id=customer_id,
                                           idempotency_key=f"billing-card-setup-{mp.pk}-{mp.card_setups}",
                                           metadata={"account": str(account.pk), "billing": "1"})
    except GatewayError as error:
        raise DomainError(_unavailable(error)) from None
    MerchantPlan.objects.filter(pk=mp.pk).update(processor_customer_id=customer_id, card_setup_id=started.id)
    return started.client_secret


def billing_card_setup_finish(*, actor, account, now=None) -> MerchantPlan:
    """The browser says the card is confirmed: ask the processor, then keep the card (ids, brand, last 4,
    expiry). Failed invoices are tried again with it at once (billing.runs)."""
    now = now or timezone.now()
    mp = merchant_plan_for(account)
    if not mp.card_setup_id:
        raise DomainError(_("This card setup has ended. Start again."))
    try:
        card = card_setup_result(payee=PLATFORM, setup_id=mp.card_setup_id, customer_id=mp.processor_customer_id)
    except GatewayError as error:
        raise DomainError(_unavailable(error)) from None
    with transaction.atomic():
        mp = _lock_plan(account)
        before = plan_state(mp)
        mp.payment_method_id, mp.card_setup_id = card.id, ""
        mp.card_brand, mp.card_last4 = card.card.brand, card.card.last4
        mp.card_exp_month, mp.card_exp_year = card.card.exp_month, card.card.exp_year
        mp.save()
        retried = invoices.failed_invoices_due_now(account, now)
        audit_record(account=account, actor=actor, action="billing.card_updated", target=mp, before=before,
                     after=plan_state(mp) | {"invoices_retried": retried})
        if retried:
            jobs.enqueue(tasks.bill_accounts, mp.pk)
    return mp


# ---- plan, frequency and add-ons ----------------------------------------------------------------------

def merchant_plan_change(*, actor, account, plan_id: int | None, frequency: str, confirm_current: bool = False,
                         now=None) -> MerchantPlan:
    """Change the plan or the billing frequency, from the next period on. An agreed discount is lost; a
    legacy plan can be kept but never chosen again, so leaving one must be confirmed (`confirm_current`)."""
    now = now or timezone.now()
    with transaction.atomic():
        account = _lock_account(account)
        if account.status != Account.Status.ACTIVE:
            raise DomainError(_("The plan can only be changed while the account is active."))
        mp = _lock_plan(account)
        plan = Plan.objects.filter(pk=plan_id).first() if plan_id is not None else None
        if plan is None:
            raise DomainError(_("This plan does not exist."))
        if frequency not in Frequency.values:
            raise DomainError(_("Choose monthly or yearly billing."))
        if plan.legacy and plan.pk != mp.plan_id:
            raise DomainError(_("Legacy plans are no longer offered. Choose one of the current plans."))
        if plan.pk == mp.plan_id and frequency == mp.frequency:
            raise DomainError(_("This is already your plan and billing frequency."))
        if mp.plan.legacy and not plan.legacy and not confirm_current:
            raise DomainError(_("Moving from a legacy plan to a current one cannot be undone: confirm the change "
                                "to go on."), code="confirm_current")
        outlets, registers = pricing.licences(account)
        pricing.quote(account, plan=plan, frequency=frequency, addons=account.addons,
                      outlets=max(outlets, 1), registers=max(registers, 1))
        before = plan_state(mp)
        mp.plan, mp.frequency, mp.discount_percent = plan, frequency, 0
        if mp.next_bill_at is None:  # not billed yet: the first period starts now
            mp.next_bill_at = now
        mp.save()
        audit_record(account=account, actor=actor, action="billing.plan_changed", target=mp, before=before,
                     after=plan_state(mp), at=now)
    return mp


def billing_addon_add(*, actor, account, code: str) -> Account:
    """Buy an add-on: on at once, billed from the next period (free when the plan includes it)."""
    if code not in addon_catalogue.ALL_CODES:
        raise DomainError(_("Unknown add-on."))
    mp = merchant_plan_for(account)
    if code not in set(mp.plan.included_addons or ()) and not AddonPrice.objects.filter(
            addon=code, frequency=mp.frequency, currency=account.currency).exists():
        raise DomainError(_("This add-on is not sold in %(currency)s. Contact your account manager.")
                          % {"currency": account.currency})
    return account_addon_enable(actor=actor, account=account, code=code)


def billing_addon_remove(*, actor, account, code: str) -> Account:
    if code not in addon_catalogue.ALL_CODES:
        raise DomainError(_("Unknown add-on."))
    return account_addon_disable(actor=actor, account=account, code=code)


# ---- putting the account on hold ----------------------------------------------------------------------

def _paid_for_period(account, mp: MerchantPlan) -> int:
    invoice = (scoped(Invoice, account).filter(period_start=mp.period_start, status=Invoice.Status.PAID,
                                               kind__in=[Invoice.Kind.PLAN, Invoice.Kind.REACTIVATION])
               .order_by("-created_at").first())
    return invoice.total if invoice else 0


def account_hold_start(*, actor, account, months: int | None, read_only: bool = False, now=None) -> Hold:
    """Put the whole account on hold: what is left of the paid period is credited to the balance (to the
    day), the monthly hold fee starts (billing.runs, from the balance then the card), and the account
    guard stops staff pages (but Setup › Billing), customer pages and customers' money. `months`: the
    estimated reactivation, or None ("I don't know"). `read_only` keeps reports and exports readable."""
    now = now or timezone.now()
    if months is not None and not 1 <= months <= MAX_HOLD_MONTHS:
        raise DomainError(_("Enter a number of months between 1 and %(max)s, or choose “I don't know”.")
                          % {"max": MAX_HOLD_MONTHS})
    with transaction.atomic():
        account = _lock_account(account)
        if account_on_hold(account):
            raise DomainError(_("This account is already on hold."))
        if account.status != Account.Status.ACTIVE:
            raise DomainError(_("Only an active account can be put on hold."))
        mp = _lock_plan(account)
        today = pricing.local_today(account, now)
        credit = 0
        if mp.period_start and mp.period_end and today < mp.period_end:
            credit = pricing.prorated(_paid_for_period(account, mp), start=mp.period_start, end=mp.period_end,
                                      today=today)
        outlets, registers = pricing.licences(account)
        hold = Hold.objects.create(
            account=account, started_at=now, months=months, read_only=read_only,
            estimated_end=pricing.add_months(today, months) if months else None, plan=mp.plan,
            frequency=mp.frequency, addons=sorted(addon_catalogue.account_addons(account)), outlets=outlets,
            registers=registers, credited=credit, fee_due_at=now,
            created_by=actor if getattr(actor, "pk", None) else None)
        if credit:
            ledger_add(account=account, kind=LedgerEntry.Kind.PRORATION, amount=credit, at=now,
                       description=_("Unused time from %(start)s to %(end)s credited")
                       % {"start": today.isoformat(), "end": (mp.period_end - datetime.timedelta(days=1)).isoformat()})
        before = {"status": account.status}
        account.status = Account.Status.ON_HOLD_READABLE if read_only else Account.Status.ON_HOLD
        account.save(update_fields=["status"])
        mp.period_start = mp.period_end = None
        mp.next_bill_at = now  # the first month's hold fee
        mp.save(update_fields=["period_start", "period_end", "next_bill_at"])
        audit_record(account=account, actor=actor, action="account.put_on_hold", target=account, before=before,
                     after={"status": account.status, "months": months, "read_only": read_only, "credited": credit},
                     at=now)
        jobs.enqueue(tasks.bill_accounts, mp.pk)
    return hold


# ---- reactivation ----------------------------------------------------------------------------------------

def blocked_integrations(account, plan: Plan) -> list[hold_hooks.IntegrationInUse]:
    """What the account has connected that `plan` does not allow (removed first, or another plan)."""
    return [found for found in hold_hooks.integrations_in_use(account) if not plan.allows_integration(found.key)]


def reactivation_start(*, actor, account, plan_id, frequency: str, addons, now=None) -> Invoice:
    """Check the choice and write the reactivation invoice (paid from the balance first); the card is
    charged afterwards by billing.runs.invoice_charge, outside this transaction. Refused, with nothing
    changed: an active account, a plan that is not current, an add-on the account did not have, a
    configured integration the plan does not allow, a mismatch (SubscriptionMismatch: nothing charged),
    no card for what the balance does not cover, a payment already in progress (another tab)."""
    now = now or timezone.now()
    with transaction.atomic():
        account = _lock_account(account)
        if not account_on_hold(account):
            raise DomainError(_("This account is active: there is nothing to reactivate."))
        mp = _lock_plan(account)
        hold = current_hold(account)
        if scoped(Invoice, account).filter(kind=Invoice.Kind.REACTIVATION, status=Invoice.Status.OPEN).exists():
            raise DomainError(_("A payment to reactivate this account is already in progress. Wait a moment, then "
                                "reload the page."), code="in_progress")
        plan = Plan.objects.filter(pk=plan_id, legacy=False).first() if plan_id is not None else None
        if plan is None:
            raise DomainError(_("Choose one of the current plans."))
        if frequency not in Frequency.values:
            raise DomainError(_("Choose monthly or yearly billing."))
        addons = sorted(set(addons))
        if not set(addons) <= addon_catalogue.ALL_CODES:
            raise DomainError(_("Unknown add-on."))
        had = set(hold.addons or ()) | set(hold.plan.included_addons or ()) if hold else set()
        if not set(addons) <= had | set(plan.included_addons or ()):
            raise DomainError(_("New add-ons can be added once the account is active again."))
        blocked = blocked_integrations(account, plan)
        if blocked:
            raise DomainError(_("The %(plan)s plan does not allow these integrations: %(names)s. Remove them or "
                                "choose another plan.") % {"plan": plan.name,
                                                          "names": ", ".join(i.label for i in blocked)},
                              code="integrations")
        outlets, registers = pricing.licences(account)
        quote = pricing.quote(account, plan=plan, frequency=frequency, addons=addons, outlets=outlets,
                              registers=registers)
        today = pricing.local_today(account, now)
        end = pricing.add_months(today, pricing.MONTHS[frequency])
        invoice = invoices.invoice_create(
            account=account, kind=Invoice.Kind.REACTIVATION, quote=quote, start=today, end=end, actor=actor, now=now,
            activates={"plan": plan.pk, "frequency": frequency, "addons": addons})
        if invoice.card_amount and not mp.has_card:
            raise DomainError(_("Add a card in Setup › Billing to pay %(amount)s, then try again.")
                              % {"amount": format_money(invoice.card_amount, invoice.currency)}, code="no_card")
        audit_record(account=account, actor=actor, action="billing.reactivation_started", target=invoice,
                     after={"plan": plan.code, "frequency": frequency, "addons": addons, "total": invoice.total,
                            "from_balance": invoice.from_balance}, at=now)
        if invoice.card_amount == 0:
            invoices.invoice_mark_paid(invoice, now=now)
        else:
            invoices.invoice_payment_create(invoice, mp)
    return invoice
