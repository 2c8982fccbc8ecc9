"""The billing job (docs/architecture.md, "Background work" and "Billing").

Beat's sweep (`due_ids`, billing.tasks.sweep_billing) finds the MerchantPlans whose `next_bill_at` has come
or whose failed invoice is due for a retry, and queues one task per account (billing.tasks.bill_accounts).
The task claims the row (one conditional UPDATE: `posbackoffice.jobs.claim`), then `bill`: the failed
invoices due for a retry, then, for an active account, the next period's invoice (plan licences and
add-ons) or, for an account on hold, the month's hold fee (one invoice per month on hold, counted from the
hold's start). Each is paid from the balance first, the rest by the card on file (billing.invoices).
"""

import datetime
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account
from accounts.tenancy import scoped
from billing import pricing
from billing.invoices import (
    RETRY_DAYS,
    email_billing_staff,
    invoice_charge,
    invoice_create,
    invoice_mark_paid,
    invoice_payment_create,
)
from billing.models import Hold, Invoice, MerchantPlan
from posbackoffice import jobs
from posbackoffice.money import format_money

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 120


# ---- the job ---------------------------------------------------------------------------------------------

def _retry_due(now) -> Q:
    return Q(status=Invoice.Status.FAILED, retry_at__lte=now)


def due_ids(now=None, limit: int = jobs.SWEEP_LIMIT) -> list[int]:
    """The sweep's read: plans whose next bill has come, or whose account has a failed invoice to retry."""
    now = now or timezone.now()
    retry_accounts = Invoice.objects.filter(_retry_due(now)).values("account_id")
    return list(MerchantPlan.objects.filter(jobs.unclaimed(now) & (Q(next_bill_at__lte=now)
                                                                   | Q(account_id__in=retry_accounts)))
                .order_by("next_bill_at").values_list("pk", flat=True)[:limit])


def bill(merchant_plan_id: int, *, now=None) -> list[Invoice]:
    """One account's due billing, holding its claim: retries first, then the period or the hold fee."""
    now = now or timezone.now()
    claim = jobs.claim(MerchantPlan, merchant_plan_id, seconds=CLAIM_SECONDS, due=Q(), now=now)
    if claim is None:
        return []
    charged = []
    try:
        for invoice_id in retry_prepare(merchant_plan_id=merchant_plan_id, now=now):
            charged.append(invoice_charge(invoice_id))
        invoice_id = period_prepare(merchant_plan_id=merchant_plan_id, now=now)
        if invoice_id is not None:
            charged.append(invoice_charge(invoice_id))
    finally:
        claim.release()
    return charged


@transaction.atomic
def retry_prepare(*, merchant_plan_id: int, now) -> list[int]:
    mp = MerchantPlan.objects.select_for_update(of=("self",)).get(pk=merchant_plan_id)
    due = list(scoped(Invoice, mp.account_id).select_for_update().filter(_retry_due(now)).order_by("pk"))
    if not due or not mp.has_card:
        return []
    for invoice in due:
        invoice_payment_create(invoice, mp)
    return [invoice.pk for invoice in due]


@transaction.atomic
def period_prepare(*, merchant_plan_id: int, now) -> int | None:
    """The invoice now due (the plan's next period, or the month's hold fee), paid from the balance; its
    id when the card must pay the rest, else None."""
    mp = MerchantPlan.objects.select_for_update(of=("self",)).select_related("plan", "account").get(pk=merchant_plan_id)
    account = mp.account
    if mp.next_bill_at is None or mp.next_bill_at > now:
        return None
    hold = scoped(Hold, account).select_for_update().filter(ended_at__isnull=True).first()
    if hold is not None:
        invoice = _hold_fee_invoice(mp, hold, now)
    elif account.status == Account.Status.ACTIVE:
        invoice = _plan_invoice(mp, now)
    else:  # suspended by the platform: nothing billed
        mp.next_bill_at = None
        mp.save(update_fields=["next_bill_at"])
        return None
    if invoice is None:
        return None
    if invoice.card_amount == 0:
        invoice_mark_paid(invoice, now=now)
        return None
    if not mp.has_card:
        invoice.status, invoice.tries = Invoice.Status.FAILED, 1
        invoice.retry_at = now + datetime.timedelta(days=RETRY_DAYS[0])
        invoice.save(update_fields=["status", "tries", "retry_at"])
        email_billing_staff(account, "no_card",
                            lambda: _("Add a card to pay invoice %(number)s") % {"number": invoice.number},
                            {"invoice": invoice, "amount": format_money(invoice.card_amount, invoice.currency)})
        return None
    invoice_payment_create(invoice, mp)
    return invoice.pk


def _hold_fee_invoice(mp: MerchantPlan, hold: Hold, now) -> Invoice | None:
    account = mp.account
    first_day = pricing.local_today(account, hold.started_at)
    start = pricing.add_months(first_day, hold.fees_taken, first_day.day)
    end = pricing.add_months(first_day, hold.fees_taken + 1, first_day.day)
    hold.fees_taken += 1
    hold.fee_due_at = pricing.local_midnight(account, end)
    hold.save(update_fields=["fees_taken", "fee_due_at"])
    mp.next_bill_at = hold.fee_due_at
    mp.save(update_fields=["next_bill_at"])
    fee = pricing.hold_fee(account)
    if not fee:
        return None
    quote = pricing.Quote(account.currency, [pricing.Line(
        _("Account on hold from %(start)s to %(end)s") % {
            "start": start.isoformat(), "end": (end - datetime.timedelta(days=1)).isoformat()}, 1, fee)])
    return invoice_create(account=account, kind=Invoice.Kind.HOLD_FEE, quote=quote, start=start, end=end, now=now)


def _plan_invoice(mp: MerchantPlan, now) -> Invoice | None:
    account = mp.account
    today = pricing.local_today(account, now)
    start = mp.period_end or today
    anchor = mp.period_anchor or start.day
    end = pricing.add_months(start, pricing.MONTHS[mp.frequency], anchor)
    outlets, registers = pricing.licences(account)
    try:
        quote = pricing.quote(account, plan=mp.plan, frequency=mp.frequency, addons=account.addons,
                              outlets=max(outlets, 1), registers=max(registers, 1),
                              discount_percent=mp.discount_percent)
    except pricing.SubscriptionMismatch:
        logger.warning("billing: account %s cannot be billed on plan %s (%s %s): looked at again tomorrow",
                       account.pk, mp.plan.code, mp.frequency, account.currency)
        mp.next_bill_at = now + datetime.timedelta(days=1)
        mp.save(update_fields=["next_bill_at"])
        return None
    mp.period_start, mp.period_end, mp.period_anchor = start, end, anchor
    mp.next_bill_at = pricing.local_midnight(account, end)
    mp.save(update_fields=["period_start", "period_end", "period_anchor", "next_bill_at"])
    return invoice_create(account=account, kind=Invoice.Kind.PLAN, quote=quote, start=start, end=end, now=now)


# ---- the reminder before the estimated reactivation ------------------------------------------------------

REMINDER_DAYS = 7


def send_hold_reminders(now=None) -> int:
    """Beyond the seed: 7 days before the estimated reactivation date, the merchant is reminded (once)."""
    now = now or timezone.now()
    horizon = now.date() + datetime.timedelta(days=REMINDER_DAYS + 1)
    sent = 0
    due = Hold.objects.filter(ended_at__isnull=True, reminder_sent_at__isnull=True, estimated_end__isnull=False,
                              estimated_end__lte=horizon)
    for hold_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            hold = Hold.objects.select_for_update().select_related("account").get(pk=hold_id)
            if hold.ended_at or hold.reminder_sent_at:
                continue
            if (hold.estimated_end - pricing.local_today(hold.account, now)).days > REMINDER_DAYS:
                continue
            hold.reminder_sent_at = now
            hold.save(update_fields=["reminder_sent_at"])
            email_billing_staff(hold.account, "reminder", lambda: _("Your account is due to be reactivated soon"),
                   {"hold": hold})
            sent += 1
    return sent
