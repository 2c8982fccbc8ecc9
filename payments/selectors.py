"""Finance › Payments reads: the filtered list (keyset pages, so a deep page costs what the first
does), one payment with its timeline, what can still be refunded, and the "payments" CSV export kind
(registered here; PaymentsConfig.ready() imports this module so web and worker know it).

Only the shop's own payments (payee merchant) are read here: what the shop pays the platform is listed
in Setup › Billing, never in Finance › Payments, its export or the sell screen."""

import datetime
import re
import zoneinfo
from dataclasses import dataclass

from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent
from accounts.tenancy import get_scoped_or_404, scoped
from payments.messages import reconciliation_kind_label, webhook_failure_message
from payments.models import Payment, PaymentAttempt, ReconciliationReport, Refund, WebhookEvent
from posbackoffice import exports
from posbackoffice.keyset import Keyset, KeysetPage
from posbackoffice.params import parse_id
from retail.models import Customer, Sale
from retail.selectors.customers import search_filter

PAGE_SIZE = 50
# Newest first; the payment_account_recent index starts at a cursor.
PAYMENT_PAGES = Keyset(Payment, "-created_at", "-id", size=PAGE_SIZE)
# Receipt numbers are positive big integers; longer digit strings cannot be one.
MAX_RECEIPT_DIGITS = 18
LAST4 = re.compile(r"[0-9]{4}")
PAYOUT_NONE = "none"  # the filter's value for "no payout" (stored as "")


def shop_payments(account):
    """The shop's own payments: its customers' money, taken on its processor account."""
    return scoped(Payment, account).filter(payee=Payment.Payee.MERCHANT)


def shop_payment_or_404(account, payment_id) -> Payment:
    """One of the shop's own payments; another account's, or a charge of the platform, is not found."""
    return get_scoped_or_404(Payment.objects.filter(payee=Payment.Payee.MERCHANT), account, pk=payment_id)


def _day_bounds(account, date_from, date_to):
    """Whole days in the account's time zone (the worker that runs an export has no request zone)."""
    tz = zoneinfo.ZoneInfo(account.timezone)
    start = datetime.datetime.combine(date_from, datetime.time.min, tz) if date_from else None
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tz) if date_to else None
    return start, end


def _as_date(value):
    """Export jobs store dates as ISO strings; the list passes dates."""
    if isinstance(value, str):
        return datetime.date.fromisoformat(value)
    return value


def search_condition(account, q: str, amount: int | None) -> Q:
    """What the search box finds: the customer (name, company, e-mail, phone) or the receipt e-mail,
    the receipt number of the linked sale, the card's last 4 digits, or the exact amount (`amount`,
    already read from the text in the reader's language by the form)."""
    condition = Q(customer_id__in=scoped(Customer, account).filter(search_filter(q)).values("id"))
    condition |= Q(receipt_email__icontains=q)
    if len(q) <= MAX_RECEIPT_DIGITS and (receipt := parse_id(q)) is not None:
        receipt_sales = scoped(Sale, account).filter(receipt_number=receipt).values("id")
        condition |= Q(sale_id__in=receipt_sales)
    if LAST4.fullmatch(q):
        condition |= Q(card_last4=q)
    if amount is not None:
        condition |= Q(amount=amount)
    return condition


def filtered_payments(account, params: dict):
    """The account's payments matching the list's filters, newest first.

    params (JSON-safe, as an export job stores them): q (search text), q_amount (the search text read
    as an amount, when it is one), date_from / date_to (days in the account's time zone), status,
    mode, payout ("none", "pending" or "paid").
    """
    payments = shop_payments(account)
    q = (params.get("q") or "").strip()
    if q:
        payments = payments.filter(search_condition(account, q, params.get("q_amount")))
    start, end = _day_bounds(account, _as_date(params.get("date_from")), _as_date(params.get("date_to")))
    if start:
        payments = payments.filter(created_at__gte=start)
    if end:
        payments = payments.filter(created_at__lt=end)
    if params.get("status"):
        payments = payments.filter(status=params["status"])
    if params.get("mode"):
        payments = payments.filter(mode=params["mode"])
    payout = params.get("payout")
    if payout:
        payments = payments.filter(payout_status="" if payout == PAYOUT_NONE else payout)
    return payments.order_by(*PAYMENT_PAGES.ordering)


def payments_page(account, params: dict, *, after: str | None = None, before: str | None = None) -> KeysetPage:
    return PAYMENT_PAGES.page(filtered_payments(account, params).select_related("customer", "sale"),
                              after=after, before=before)


# ---- one payment ---------------------------------------------------------------------------------------

def payment_detail(account, payment_id: int) -> Payment:
    return (shop_payments(account).select_related("customer", "sale", "created_by", "outlet", "register")
            .get(pk=payment_id))


def refundable_now(payment: Payment) -> int:
    """What a new refund may take: what remains, less refunds still waiting for the processor
    (the same rule as payments.services.refunds.refund_create)."""
    if payment.refundable <= 0:
        return 0
    pending = payment.refunds.filter(status=Refund.Status.PENDING).aggregate(total=Sum("amount"))["total"] or 0
    return max(payment.refundable - pending, 0)


# What the timeline says for each audited step of a payment (payments.services writes them).
AUDIT_LABELS = {
    "payment.created": _("Payment created"),
    "payment.succeeded": _("Payment succeeded"),
    "payment.failed": _("Payment failed"),
    "payment.pending": _("Waiting for the cardholder to confirm"),
    "payment.refund_requested": _("Refund requested"),
    "payment.refund_succeeded": _("Refund succeeded"),
    "payment.refund_failed": _("Refund failed"),
    "payment.refund_pending": _("Refund waiting for the processor"),
}
# Where a settling answer came from (the "source" the services record).
SOURCE_LABELS = {
    "api": _("processor's answer"),
    "webhook": _("processor's event"),
    "reconciliation": _("automatic check"),
    "browser": _("cardholder's confirmation"),
}


@dataclass
class TimelineEntry:
    at: datetime.datetime
    kind: str  # "attempt", "webhook", "refund" or "audit": the template shows each its own way
    item: object
    label: str = ""
    note: str = ""


# Same moment: the audit row after the record it describes.
_KIND_ORDER = {"attempt": 0, "refund": 1, "webhook": 2, "audit": 3}


def payment_timeline(account, payment: Payment) -> list[TimelineEntry]:
    """Attempts, webhook events, refunds and audit rows of the payment, in time order."""
    entries = [TimelineEntry(at=attempt.created_at, kind="attempt", item=attempt)
               for attempt in scoped(PaymentAttempt, account).filter(payment=payment).order_by("created_at", "id")]
    entries += [TimelineEntry(at=event.received_at, kind="webhook", item=event,
                              note=webhook_failure_message(event.failure_code) if event.failure_code else "")
                for event in WebhookEvent.objects.filter(payment=payment).order_by("received_at", "id")]
    entries += [TimelineEntry(at=refund.created_at, kind="refund", item=refund)
                for refund in scoped(Refund, account).filter(payment=payment).select_related("created_by")
                .order_by("created_at", "id")]
    events = (scoped(AuditEvent, account).filter(object_type=Payment._meta.label_lower, object_id=str(payment.pk))
              .select_related("actor").order_by("created_at", "id"))
    for event in events:
        source = (event.after or {}).get("source") if isinstance(event.after, dict) else None
        entries.append(TimelineEntry(at=event.created_at, kind="audit", item=event,
                                     label=str(AUDIT_LABELS.get(event.action, event.action)),
                                     note=str(SOURCE_LABELS.get(source, "")) if source else ""))
    entries.sort(key=lambda entry: (entry.at, _KIND_ORDER[entry.kind], entry.item.pk))
    return entries


# ---- CSV export --------------------------------------------------------------------------------------

def _payment_rows(account, params):
    statuses, methods = dict(Payment.Status.choices), dict(Payment.Method.choices)
    modes, payouts = dict(Payment.Mode.choices), dict(Payment.Payout.choices)
    rows = (filtered_payments(account, params)
            .values_list("created_at", "status", "method", "mode", "customer__first_name", "customer__last_name",
                         "customer__company", "receipt_email", "sale__receipt_number", "card_brand", "card_last4",
                         "amount", "amount_refunded", "currency", "payout_status", "processor",
                         "processor_payment_id")
            .iterator(chunk_size=exports.CHUNK))
    for (created_at, status, method, mode, first, last, company, email, receipt, brand, last4, amount, refunded,
         currency, payout, processor, processor_id) in rows:
        customer = f"{first or ''} {last or ''}".strip() or company or email or ""
        yield (created_at, str(statuses.get(status, status)), str(methods.get(method, method)),
               str(modes.get(mode, mode)), customer, receipt or "", brand.title(), last4,
               exports.Amount(amount, currency), exports.Amount(refunded, currency), currency,
               str(payouts.get(payout, payout)), processor, processor_id)


PAYMENTS_EXPORT = "payments"
exports.REGISTRY.register(PAYMENTS_EXPORT, exports.ExportKind(
    permission="view_payments",
    file_stem="payments",
    header=lambda: [str(h) for h in (_("Date"), _("Status"), _("Method"), _("Mode"), _("Customer"), _("Receipt"),
                                      _("Card brand"), _("Card last 4"), _("Amount"), _("Refunded"),
                                      _("Currency"), _("Payout"), _("Processor"), _("Processor payment id"))],
    count=lambda account, params: filtered_payments(account, params).count(),
    rows=_payment_rows,
))


FAILED_EVENTS_SHOWN = 20


def failed_processor_events(account) -> list[WebhookEvent]:
    """The account's latest processor events that could not be read (Setup › Payments), each with its
    reason in the reader's language as `reason`."""
    events = list(scoped(WebhookEvent, account).filter(outcome=WebhookEvent.FAILED)
                  .order_by("-received_at", "-id")[:FAILED_EVENTS_SHOWN])
    for event in events:
        event.reason = webhook_failure_message(event.failure_code)
    return events


@dataclass(frozen=True)
class ReconciliationRow:
    label: str
    payment: Payment | None  # the shop's own payment it is about, when there is one
    processor_id: str
    ours: str
    theirs: str


def last_reconciliation(account) -> tuple[ReconciliationReport | None, list[ReconciliationRow]]:
    """The newest `manage.py reconcile` result of the account, and its discrepancies with their payments."""
    report = scoped(ReconciliationReport, account).order_by("-ran_at", "-id").first()
    if report is None:
        return None, []
    ids = [found.get("payment_id") for found in report.discrepancies if isinstance(found.get("payment_id"), int)]
    payments = shop_payments(account).in_bulk(ids) if ids else {}
    return report, [ReconciliationRow(label=reconciliation_kind_label(found.get("kind", "")),
                                      payment=payments.get(found.get("payment_id")),
                                      processor_id=found.get("processor_id", ""), ours=found.get("ours", ""),
                                      theirs=found.get("theirs", ""))
                    for found in report.discrepancies]
