"""The merchant's invoices (written by billing.services at reactivation and by the billing job,
billing.runs), each for a period of the plan, a month on hold or reactivation:

- paid from the balance first (a debit in the ledger), the rest by the card on file: a Payment to the
  platform (purpose "merchant_invoice", pointing at the invoice), our row first, charged outside any
  transaction with the idempotency key derived from it (payments.services). Its settlement handler
  (`invoice_paid` / `invoice_failed`, registered in payments.settlement.HANDLERS) settles the invoice in
  the payment's transaction;
- a declined card: the invoice is failed, the merchant e-mailed, and it is tried again 3, 5 and 7 days
  later (or at once when a new card is saved); nothing is deleted. A reactivation invoice is not retried:
  the balance it used is given back and the merchant sees why on the page.
"""

import datetime
import logging

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.services import audit_record, email_queue
from accounts.tenancy import scoped
from billing import pricing
from billing.activation import account_reactivate
from billing.ledger import balance, ledger_add
from billing.models import Invoice, InvoiceLine, LedgerEntry, MerchantPlan
from payments.models import Payment
from payments.services.charges import payment_charge, payment_create
from posbackoffice.money import format_money

logger = logging.getLogger(__name__)

RETRY_DAYS = (3, 5, 7)  # after the 1st, 2nd and 3rd failure; none after the 4th


# ---- invoices ------------------------------------------------------------------------------------------

def _number(account) -> str:
    count = scoped(Invoice, account).count() + 1
    return f"F{account.pk:05d}-{count:05d}"


def invoice_create(*, account, kind: str, quote: pricing.Quote, start, end, actor=None, now, activates=None) -> Invoice:
    """The invoice and its lines, paid from the balance first (caller holds the MerchantPlan's lock)."""
    total = quote.total
    invoice = Invoice.objects.create(
        account=account, number=_number(account), kind=kind, period_start=start, period_end=end,
        currency=quote.currency, total=total, activates=activates, created_at=now,
        created_by=actor if getattr(actor, "pk", None) else None)
    InvoiceLine.objects.bulk_create([
        InvoiceLine(invoice=invoice, description=line.description[:200], quantity=line.quantity,
                    unit_amount=line.unit_amount, amount=line.amount) for line in quote.lines])
    from_balance = min(max(balance(account), 0), total)
    if from_balance:
        ledger_add(account=account, kind=LedgerEntry.Kind.HOLD_FEE if kind == Invoice.Kind.HOLD_FEE
                   else LedgerEntry.Kind.INVOICE, amount=-from_balance, invoice=invoice, at=now,
                   description=_("Invoice %(number)s") % {"number": invoice.number})
        invoice.from_balance = from_balance
        invoice.save(update_fields=["from_balance"])
    return invoice


def invoice_mark_paid(invoice: Invoice, *, now) -> None:
    invoice.status, invoice.paid_at, invoice.retry_at = Invoice.Status.PAID, now, None
    invoice.save(update_fields=["status", "paid_at", "retry_at"])
    if invoice.kind == Invoice.Kind.REACTIVATION:
        account_reactivate(invoice, now=now)


def invoice_payment_create(invoice: Invoice, mp: MerchantPlan) -> Payment:
    """Our Payment for what the balance did not cover, to the platform's account with the card on file."""
    payment = payment_create(
        actor=invoice.created_by, account=invoice.account, amount=invoice.card_amount, currency=invoice.currency,
        method=Payment.Method.SAVED_CARD, mode=Payment.Mode.RECURRING, purpose=Payment.Purpose.MERCHANT_INVOICE,
        purpose_ref=invoice.pk, payment_method_id=mp.payment_method_id,
        processor_customer_id=mp.processor_customer_id,
        description=_("Invoice %(number)s") % {"number": invoice.number})
    invoice.payment, invoice.tries = payment, invoice.tries + 1
    invoice.status, invoice.retry_at = Invoice.Status.OPEN, None
    invoice.save(update_fields=["payment", "tries", "status", "retry_at"])
    return payment


def invoice_charge(invoice_id: int) -> Invoice:
    """Charge the invoice's pending payment (outside any transaction) and answer the invoice as settled."""
    invoice = Invoice.objects.get(pk=invoice_id)
    if invoice.payment_id and invoice.status == Invoice.Status.OPEN:
        payment_charge(payment_id=invoice.payment_id)
    return Invoice.objects.get(pk=invoice_id)


def _locked_invoice(payment: Payment) -> Invoice | None:
    invoice = Invoice.objects.select_for_update().select_related("account").filter(pk=payment.purpose_ref).first()
    if invoice is None or invoice.payment_id != payment.pk or invoice.status != Invoice.Status.OPEN:
        return None  # an earlier try settling late: the invoice moved on
    return invoice


def invoice_paid(payment: Payment) -> None:
    """Settlement handler (succeeded), inside payment_settle's transaction."""
    invoice = _locked_invoice(payment)
    if invoice is None:
        return
    now = payment.settled_at or timezone.now()
    invoice_mark_paid(invoice, now=now)
    audit_record(account=invoice.account, actor=None, action="billing.invoice_paid", target=invoice,
                 after={"number": invoice.number, "total": invoice.total, "card": payment.card_label}, at=now)


def invoice_failed(payment: Payment) -> None:
    """Settlement handler (failed): the invoice failed, the merchant is e-mailed; retried later unless it
    was a reactivation (its balance given back: the merchant updates the card and tries again)."""
    invoice = _locked_invoice(payment)
    if invoice is None:
        return
    now = payment.settled_at or timezone.now()
    invoice.status = Invoice.Status.FAILED
    if invoice.kind == Invoice.Kind.REACTIVATION:
        invoice.retry_at = None
        if invoice.from_balance:
            ledger_add(account=invoice.account, kind=LedgerEntry.Kind.REFUND, amount=invoice.from_balance,
                       invoice=invoice, at=now,
                       description=_("Invoice %(number)s not paid: balance given back") % {"number": invoice.number})
    else:
        delay = RETRY_DAYS[invoice.tries - 1] if invoice.tries <= len(RETRY_DAYS) else None
        invoice.retry_at = now + datetime.timedelta(days=delay) if delay else None
        _email_declined(invoice, payment)
    invoice.save(update_fields=["status", "retry_at"])
    audit_record(account=invoice.account, actor=None, action="billing.invoice_failed", target=invoice,
                 after={"number": invoice.number, "failure_code": payment.failure_code,
                        "retry_at": invoice.retry_at}, at=now)


def failed_invoices_due_now(account, now) -> int:
    """A new card: the failed invoices still to be paid (not reactivation's) are tried again now."""
    return scoped(Invoice, account).filter(status=Invoice.Status.FAILED).exclude(
        kind=Invoice.Kind.REACTIVATION).update(retry_at=now)


# ---- e-mails to the merchant ---------------------------------------------------------------------------

def billing_recipients(account) -> list[tuple[str, str]]:
    """(e-mail, language) of the staff who manage billing (Owner, Admin)."""
    found = []
    for membership in scoped(Membership, account).select_related("user", "role").order_by("pk"):
        if "manage_billing" in membership.role.granted():
            found.append((membership.user.email, membership.user.language or account.language))
    return found


def email_billing_staff(account, template: str, subject, context: dict) -> None:
    for address, language in billing_recipients(account):
        with translation.override(language):
            text = render_to_string(f"billing/email/{template}.txt", {"account": account, **context})
            email_queue(to=[address], subject=str(subject()), text=text, account=account)


def _email_declined(invoice: Invoice, payment: Payment) -> None:
    account = invoice.account
    email_billing_staff(account, "declined", lambda: _("We could not take the payment of invoice %(number)s")
           % {"number": invoice.number},
           {"invoice": invoice, "amount": format_money(invoice.card_amount, invoice.currency),
            "card": payment.card_label, "retry_at": invoice.retry_at})


