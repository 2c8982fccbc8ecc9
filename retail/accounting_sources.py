"""What retail gives the accounting integration (accounts.accounting.sources): register closures and
on-account sales not yet posted, and the document each one becomes. Here rather than in accounts because
accounts sits below retail and must not read its tables; registered in RetailConfig.ready.

- A register closure becomes a manual journal: each payment type's counted amount debited to its
  clearing account, what the sales expected credited to sales, the difference (over/short) to its own
  account; the lines sum to zero.
- An on-account sale is a sale completed with a remainder left on the customer's balance: still on
  account, or paid later (a payment taken after its completion). It becomes a sales invoice to the
  customer, one line per sale line."""

import zoneinfo

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.accounting.base import Document, Invoice, InvoiceLine, Journal, JournalLine
from accounts.accounting.sources import PostingSource, UnpostedItem
from accounts.models import AccountingPosting
from accounts.tenancy import scoped
from retail.models import PaymentType, RegisterClosureLine, RegisterSession, Sale, SaleLine, SalePayment
from retail.selectors.reports import sum_or_zero

CLOSURE = "closure"
ON_ACCOUNT_SALE = "on_account_sale"

# The accounts of Xero's default chart of accounts the documents use.
SALES_ACCOUNT = "200"
RECEIVABLE_CLEARING = {PaymentType.Kind.CASH: "090", PaymentType.Kind.CARD: "091",
                       PaymentType.Kind.ON_ACCOUNT: "610", PaymentType.Kind.CUSTOM: "092"}
OVER_SHORT_ACCOUNT = "429"


def _not_posted(account, kind: str) -> Exists:
    return ~Exists(scoped(AccountingPosting, account).filter(kind=kind, object_id=OuterRef("pk")))


def _local_day(account, moment):
    return timezone.localdate(moment, zoneinfo.ZoneInfo(account.timezone))


# ---- register closures ---------------------------------------------------------------------------

def _closures(account):
    return (scoped(RegisterSession, account).filter(status=RegisterSession.Status.CLOSED)
            .filter(_not_posted(account, CLOSURE)))


def closures_unposted(account, *, limit=None, until=None) -> list[UnpostedItem]:
    rows = (_closures(account).filter(**({"closed_at__lte": until} if until else {})).select_related("register")
            .annotate(counted=sum_or_zero("closure_lines__counted")).order_by("closed_at", "id"))
    return [UnpostedItem(kind=CLOSURE, object_id=row.pk, label=row.register.name, date=row.closed_at,
                         amount=row.counted, currency=account.currency) for row in rows[:limit]]


def closures_count(account) -> int:
    return _closures(account).count()


def closure_documents(account, object_ids) -> list[Document]:
    sessions = _closures(account).filter(pk__in=object_ids).select_related("register").order_by("id")
    lines_by_session: dict[int, list[RegisterClosureLine]] = {}
    for line in (scoped(RegisterClosureLine, account).filter(session__in=sessions).select_related("payment_type")
                 .order_by("payment_type__position", "payment_type__name")):
        lines_by_session.setdefault(line.session_id, []).append(line)
    documents = []
    for session in sessions:
        journal_lines = []
        for line in lines_by_session.get(session.pk, []):
            name = line.payment_type.name
            journal_lines.append(JournalLine(RECEIVABLE_CLEARING[line.payment_type.kind], name, line.counted))
            journal_lines.append(JournalLine(SALES_ACCOUNT, name, -line.expected))
            journal_lines.append(JournalLine(OVER_SHORT_ACCOUNT, _("%(type)s over/short") % {"type": name},
                                             -line.difference))
        journal_lines = tuple(line for line in journal_lines if line.amount)
        body = Journal(
            narration=_("Register closure: %(register)s") % {"register": session.register.name},
            date=_local_day(account, session.closed_at), currency=account.currency, lines=journal_lines,
        ) if journal_lines else None
        documents.append(Document(kind=CLOSURE, object_id=session.pk, body=body))
    return documents


# ---- on-account sales ----------------------------------------------------------------------------

def _on_account_sales(account):
    paid_later = Exists(scoped(SalePayment, account).filter(sale=OuterRef("pk"), amount__gt=0,
                                                             created_at__gt=OuterRef("completed_at")))
    return (scoped(Sale, account)
            .filter(Q(status=Sale.Status.ON_ACCOUNT) | Q(status=Sale.Status.COMPLETED, customer__isnull=False)
                    & paid_later)
            .filter(_not_posted(account, ON_ACCOUNT_SALE)))


def _customer_name(sale: Sale) -> str:
    customer = sale.customer
    return (f"{customer.first_name} {customer.last_name}".strip() or customer.email or f"#{customer.pk}"
            if customer else "")


def on_account_unposted(account, *, limit=None, until=None) -> list[UnpostedItem]:
    rows = (_on_account_sales(account).filter(**({"completed_at__lte": until} if until else {}))
            .select_related("customer").order_by("completed_at", "id"))
    return [UnpostedItem(kind=ON_ACCOUNT_SALE, object_id=sale.pk,
                         label=_("Receipt %(receipt)s, %(customer)s") % {"receipt": sale.receipt,
                                                                         "customer": _customer_name(sale)},
                         date=sale.completed_at, amount=sale.total, currency=sale.currency)
            for sale in rows[:limit]]


def on_account_count(account) -> int:
    return _on_account_sales(account).count()


def on_account_documents(account, object_ids) -> list[Document]:
    sales = _on_account_sales(account).filter(pk__in=object_ids).select_related("customer").order_by("id")
    lines_by_sale: dict[int, list[SaleLine]] = {}
    for line in scoped(SaleLine, account).filter(sale__in=sales).order_by("position", "id"):
        lines_by_sale.setdefault(line.sale_id, []).append(line)
    documents = []
    for sale in sales:
        invoice_lines = tuple(
            InvoiceLine(description=f"{line.quantity} × {line.name}", amount=line.line_total,
                        tax_amount=line.tax_amount, account_code=SALES_ACCOUNT)
            for line in lines_by_sale.get(sale.pk, []))
        documents.append(Document(kind=ON_ACCOUNT_SALE, object_id=sale.pk, body=Invoice(
            reference=_("Receipt %(receipt)s") % {"receipt": sale.receipt}, contact_name=_customer_name(sale),
            date=_local_day(account, sale.completed_at), currency=sale.currency,
            amounts_include_tax=sale.prices_include_tax, lines=invoice_lines, total=sale.total)))
    return documents


CLOSURES = PostingSource(label=lambda: _("Register closures"), unposted=closures_unposted, count=closures_count,
                         documents=closure_documents)
ON_ACCOUNT_SALES = PostingSource(label=lambda: pgettext("accounting", "On-account sales"), unposted=on_account_unposted,
                                 count=on_account_count, documents=on_account_documents)
