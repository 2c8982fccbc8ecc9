"""Reports: the queries behind each report page and its CSV export (the same query serves both).

How a sale counts (sales and tax reports):
- a sale counts when its status is completed, on account or returned, on the local day of its
  `completed_at` in the account's time zone; voided sales and sales in progress or parked never count;
- net sales = total − returned_total: a return made later lowers the day the sale was made;
- per line, the not-returned part is the line amount minus retail.pricing.share_of(amount,
  returned quantity, quantity) — the same rounding the return service used, so the lines of a sale
  add up exactly to total − returned_total, and the tax is scaled the same way;
- by payment type: payments (refunds are negative) of counted sales, on the local day of their own
  `created_at`, plus "On account (unpaid)": the balance due of on-account sales completed in the range.

Parameters arrive as JSON-safe values (ISO dates, ids) because a queued export stores them as JSON.
"""

import datetime
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import batched

from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Outlet
from accounts.tenancy import get_scoped_or_404, scoped
from posbackoffice import exports
from retail.models import (
    Customer,
    GiftCard,
    RegisterClosureLine,
    RegisterSession,
    Sale,
    SaleLine,
    SalePayment,
)
from retail.pricing import round_half_up

COUNTED_STATUSES = (Sale.Status.COMPLETED, Sale.Status.ON_ACCOUNT, Sale.Status.RETURNED)
GROUP_BY_DAY, GROUP_BY_PRODUCT, GROUP_BY_PAYMENT = "day", "product", "payment"


# ---- period and filters --------------------------------------------------------------------------

def account_zone(account) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(account.timezone)


def account_today(account) -> datetime.date:
    return timezone.localdate(timezone=account_zone(account))


def outlets(account) -> list[Outlet]:
    return list(scoped(Outlet, account).order_by("name"))


@dataclass(frozen=True)
class Period:
    """Inclusive local dates and the [start, end) instants they stand for in the account's zone."""

    date_from: datetime.date | None
    date_to: datetime.date | None
    start: datetime.datetime | None
    end: datetime.datetime | None

    def days(self) -> list[datetime.date]:
        count = (self.date_to - self.date_from).days + 1
        return [self.date_from + datetime.timedelta(days=n) for n in range(count)]


def _date(value) -> datetime.date | None:
    if not value:
        return None
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def period_of(account, params: dict) -> Period:
    tz = account_zone(account)
    date_from, date_to = _date(params.get("date_from")), _date(params.get("date_to"))
    start = datetime.datetime.combine(date_from, datetime.time.min, tz) if date_from else None
    end = (datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tz)
           if date_to else None)
    return Period(date_from, date_to, start, end)


def _in_period(field_name: str, period: Period) -> Q:
    condition = Q()
    if period.start:
        condition &= Q(**{f"{field_name}__gte": period.start})
    if period.end:
        condition &= Q(**{f"{field_name}__lt": period.end})
    return condition


def counted_sales(account, params: dict) -> QuerySet:
    """The sales that count (see the module docstring) completed in the period, at the outlet if one is chosen."""
    sales = scoped(Sale, account).filter(status__in=COUNTED_STATUSES).filter(
        _in_period("completed_at", period_of(account, params)))
    if params.get("outlet"):
        sales = sales.filter(outlet_id=params["outlet"])
    return sales


def counted_lines(account, params: dict) -> QuerySet:
    lines = scoped(SaleLine, account).filter(sale__status__in=COUNTED_STATUSES).filter(
        _in_period("sale__completed_at", period_of(account, params)))
    if params.get("outlet"):
        lines = lines.filter(sale__outlet_id=params["outlet"])
    return lines


def _returned_share(amount_field: str) -> ExpressionWrapper:
    """retail.pricing.share_of(amount, returned_quantity, quantity) in SQL. Line amounts are never
    negative, so round-half-up is floor((2·amount·returned + quantity) / (2·quantity)), and integer
    division on integer columns is that floor (PostgreSQL and SQLite alike)."""
    return ExpressionWrapper(
        (Value(2) * F(amount_field) * F("returned_quantity") + F("quantity")) / (Value(2) * F("quantity")),
        output_field=BigIntegerField(),
    )


NET_LINE_TOTAL = ExpressionWrapper(F("line_total") - _returned_share("line_total"), output_field=BigIntegerField())
NET_LINE_TAX = ExpressionWrapper(F("tax_amount") - _returned_share("tax_amount"), output_field=BigIntegerField())
NET_QUANTITY = ExpressionWrapper(F("quantity") - F("returned_quantity"), output_field=BigIntegerField())
SALE_NET = ExpressionWrapper(F("total") - F("returned_total"), output_field=BigIntegerField())
SALE_BALANCE_DUE = ExpressionWrapper(F("total") - F("returned_total") - F("paid_total"), output_field=BigIntegerField())


def _sum(expression) -> Coalesce:
    return Coalesce(Sum(expression), Value(0), output_field=BigIntegerField())


def _average(net: int, count: int) -> int:
    return round_half_up(net, count) if count else 0


# ---- sales by day --------------------------------------------------------------------------------

@dataclass
class DayRow:
    day: datetime.date
    count: int = 0
    net: int = 0
    tax: int = 0

    @property
    def average(self) -> int:
        return _average(self.net, self.count)


def sales_by_day(account, params: dict) -> list[DayRow]:
    """One row per local day of the period, days without sales at zero."""
    period = period_of(account, params)
    tz = account_zone(account)
    rows = {day: DayRow(day) for day in period.days()}
    per_day = (counted_sales(account, params).annotate(day=TruncDate("completed_at", tzinfo=tz))
               .values("day").annotate(count=Count("id"), net=_sum(SALE_NET)).order_by())
    for entry in per_day:
        row = rows[entry["day"]]
        row.count, row.net = entry["count"], entry["net"]
    tax_per_day = (counted_lines(account, params).annotate(day=TruncDate("sale__completed_at", tzinfo=tz))
                   .values("day").annotate(tax=_sum(NET_LINE_TAX)).order_by())
    for entry in tax_per_day:
        rows[entry["day"]].tax = entry["tax"]
    return list(rows.values())


def day_totals(rows: list[DayRow]) -> DayRow:
    """The totals row (over at most a year of already aggregated days)."""
    return DayRow(day=None, count=sum(r.count for r in rows), net=sum(r.net for r in rows),
                  tax=sum(r.tax for r in rows))


# ---- sales by product ----------------------------------------------------------------------------

def product_groups(account, params: dict) -> QuerySet:
    """Per product: {product_id, units (sold net of returns), net, tax, last_line}, best sellers first."""
    return (counted_lines(account, params).values("product_id")
            .annotate(units=_sum(NET_QUANTITY), net=_sum(NET_LINE_TOTAL), tax=_sum(NET_LINE_TAX),
                      last_line=Max("id"))
            .order_by("-net", "product_id"))


def with_snapshots(account, groups: Iterable[dict]) -> Iterator[dict]:
    """product_groups() rows (all, or one page) with "name" and "sku" as the most recent line of the
    period recorded them (receipts keep snapshots, so a renamed product shows its latest name)."""
    for chunk in batched(groups, exports.CHUNK):
        lines = scoped(SaleLine, account).filter(pk__in=[g["last_line"] for g in chunk])
        snapshots = {pk: (name, sku) for pk, name, sku in lines.values_list("pk", "name", "sku")}
        for group in chunk:
            group["name"], group["sku"] = snapshots[group["last_line"]]
            yield group


def line_totals(account, params: dict) -> dict:
    """{units, net, tax} over every counted line of the period."""
    return counted_lines(account, params).aggregate(units=_sum(NET_QUANTITY), net=_sum(NET_LINE_TOTAL),
                                                    tax=_sum(NET_LINE_TAX))


# ---- sales by payment type -----------------------------------------------------------------------

@dataclass
class PaymentRow:
    label: str
    amount: int
    payment_type_id: int | None = None


def sales_by_payment_type(account, params: dict) -> list[PaymentRow]:
    """Net payments per payment type (refunds negative) recorded in the period, then the unpaid
    balance of on-account sales completed in the period."""
    payments = scoped(SalePayment, account).filter(sale__status__in=COUNTED_STATUSES).filter(
        _in_period("created_at", period_of(account, params)))
    if params.get("outlet"):
        payments = payments.filter(sale__outlet_id=params["outlet"])
    per_type = (payments.values("payment_type_id", "payment_type__name", "payment_type__position")
                .annotate(amount=_sum("amount")).order_by("payment_type__position", "payment_type__name"))
    rows = [PaymentRow(label=entry["payment_type__name"], amount=entry["amount"],
                       payment_type_id=entry["payment_type_id"]) for entry in per_type]
    unpaid = counted_sales(account, params).filter(status=Sale.Status.ON_ACCOUNT).aggregate(
        due=_sum(SALE_BALANCE_DUE))["due"]
    rows.append(PaymentRow(label=_("On account (unpaid)"), amount=unpaid))
    return rows


# ---- taxes ---------------------------------------------------------------------------------------

@dataclass
class TaxRow:
    rate_bp: int | None
    gross: int  # net sales including tax
    tax: int

    @property
    def net_of_tax(self) -> int:
        return self.gross - self.tax

    @property
    def rate_percent(self) -> Decimal:
        """Decimal("5.5"), Decimal("20"): exact, and shown with the reader's decimal separator."""
        return Decimal(self.rate_bp) / 100


def taxes_by_rate(account, params: dict) -> list[TaxRow]:
    per_rate = (counted_lines(account, params).values("tax_rate_bp")
                .annotate(gross=_sum(NET_LINE_TOTAL), tax=_sum(NET_LINE_TAX)).order_by("tax_rate_bp"))
    return [TaxRow(rate_bp=entry["tax_rate_bp"], gross=entry["gross"], tax=entry["tax"]) for entry in per_rate]


def tax_totals(rows: list[TaxRow]) -> TaxRow:
    return TaxRow(rate_bp=None, gross=sum(r.gross for r in rows), tax=sum(r.tax for r in rows))


# ---- register closures ---------------------------------------------------------------------------

def _closure_filter(account, params: dict, prefix: str = "") -> Q:
    condition = Q(**{f"{prefix}status": RegisterSession.Status.CLOSED})
    condition &= _in_period(f"{prefix}closed_at", period_of(account, params))
    if params.get("outlet"):
        condition &= Q(**{f"{prefix}register__outlet_id": params["outlet"]})
    if params.get("register"):
        condition &= Q(**{f"{prefix}register_id": params["register"]})
    return condition


def closures(account, params: dict) -> QuerySet:
    """Closed register sessions, newest first, with expected/counted/difference summed over their lines."""
    return (scoped(RegisterSession, account).filter(_closure_filter(account, params))
            .select_related("register__outlet", "opened_by", "closed_by")
            .annotate(expected=_sum("closure_lines__expected"), counted=_sum("closure_lines__counted"),
                      difference=_sum("closure_lines__difference"))
            .order_by("-closed_at", "-id"))


@dataclass
class ClosureDetail:
    session: RegisterSession
    lines: list = field(default_factory=list)

    @property
    def expected(self) -> int:
        return sum(line.expected for line in self.lines)

    @property
    def counted(self) -> int:
        return sum(line.counted for line in self.lines)

    @property
    def difference(self) -> int:
        return sum(line.difference for line in self.lines)


def closure_detail(account, session_id: int) -> ClosureDetail:
    """A closed session of this account (404 otherwise) with its line per payment type."""
    session = get_scoped_or_404(
        RegisterSession.objects.select_related("register__outlet", "opened_by", "closed_by"), account,
        pk=session_id, status=RegisterSession.Status.CLOSED)
    lines = list(scoped(RegisterClosureLine, account).filter(session=session).select_related("payment_type")
                 .order_by("payment_type__position", "payment_type__name"))
    return ClosureDetail(session=session, lines=lines)


# ---- balances: gift cards and store credit -------------------------------------------------------

def gift_cards(account) -> QuerySet:
    return scoped(GiftCard, account).select_related("customer").order_by("-issued_at", "-id")


def gift_card_totals(account) -> dict:
    """{outstanding, expired}: balances of cards still usable today, and of expired cards."""
    expired = Q(expires_on__lt=account_today(account))
    return scoped(GiftCard, account).aggregate(
        outstanding=Coalesce(Sum("balance", filter=~expired), Value(0), output_field=BigIntegerField()),
        expired=Coalesce(Sum("balance", filter=expired), Value(0), output_field=BigIntegerField()),
    )


def store_credit_customers(account) -> QuerySet:
    return scoped(Customer, account).filter(store_credit__gt=0).order_by("last_name", "first_name", "id")


def store_credit_total(account) -> int:
    return store_credit_customers(account).aggregate(total=_sum("store_credit"))["total"]


# ---- chart ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mark:
    """A bar (x, y, width, height), an axis tick (y) or a date label (x); coordinates are SVG text."""

    day: datetime.date | None = None
    amount: int = 0
    x: str = ""
    y: str = ""
    width: str = ""
    height: str = ""


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    bottom: int
    bars: list[Mark]
    ticks: list[Mark]
    labels: list[Mark]
    axes: str  # polyline points of the y and x axes


def _nice_top(value: int) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ step such that four steps reach `value`, times four."""
    if value <= 0:
        return 4 * 100
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if 4 * step >= value:
                return 4 * step
        magnitude *= 10


def _px(value: float) -> str:
    return f"{value:.1f}"


def net_sales_chart(rows: list[DayRow]) -> Chart:
    """Geometry of the net-sales-per-day bar chart (screen coordinates only: amounts stay integers)."""
    width, height, left, right, top, bottom = 720, 240, 84, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_top(max((r.net for r in rows), default=0))
    slot = plot_w / max(1, len(rows))
    gap = slot * 0.2 if slot >= 4 else 0
    bars = []
    for index, row in enumerate(rows):
        bar_h = plot_h * max(0, row.net) / top_value
        x = left + index * slot
        bars.append(Mark(day=row.day, amount=row.net, x=_px(x + gap / 2), y=_px(top + plot_h - bar_h),
                        width=_px(max(slot - gap, 0.5)), height=_px(bar_h)))
    ticks = [Mark(amount=top_value * n // 4, y=_px(top + plot_h - plot_h * n / 4)) for n in range(5)]
    every = max(1, -(-len(rows) // 6))  # at most about six date labels
    labels = [Mark(day=row.day, x=_px(left + (i + 0.5) * slot)) for i, row in enumerate(rows) if i % every == 0]
    return Chart(width=width, height=height, left=left, right=width - right, bottom=top + plot_h,
                 bars=bars, ticks=ticks, labels=labels,
                 axes=f"{left},{top} {left},{top + plot_h} {width - right},{top + plot_h}")


# ---- CSV exports ---------------------------------------------------------------------------------

def _stamp(moment: datetime.datetime | None, tz) -> str:
    """Local date and time for a CSV cell, converted here so the file is right whichever process writes it."""
    return timezone.localtime(moment, tz).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _person(name: str | None, email: str | None) -> str:
    return name or email or ""


def _customer_name(first: str, last: str, company: str) -> str:
    return f"{first} {last}".strip() or company or ""


def _day_rows(account, params):
    currency = account.currency
    for row in sales_by_day(account, params):
        yield (row.day, row.count, exports.Amount(row.net, currency), exports.Amount(row.tax, currency),
               exports.Amount(row.average, currency))


def _product_rows(account, params):
    currency = account.currency
    groups = product_groups(account, params).iterator(chunk_size=exports.CHUNK)
    for row in with_snapshots(account, groups):
        yield (row["sku"], row["name"], row["units"], exports.Amount(row["net"], currency),
               exports.Amount(row["tax"], currency))


def _payment_rows(account, params):
    currency = account.currency
    for row in sales_by_payment_type(account, params):
        yield (row.label, exports.Amount(row.amount, currency))


def _percent_cell(rate_bp: int) -> exports.Amount:
    """A rate in basis points is a percentage in hundredths, i.e. a two-decimal number; the writer's
    Amount formatting gives it the reader's decimal separator ("5.50" / "5,50"), which a bare string
    cannot (the rows do not know the file's language). The code only picks two decimals."""
    return exports.Amount(rate_bp, "EUR")


def _tax_rows(account, params):
    currency = account.currency
    for row in taxes_by_rate(account, params):
        yield (_percent_cell(row.rate_bp), exports.Amount(row.gross, currency),
               exports.Amount(row.tax, currency), exports.Amount(row.net_of_tax, currency))


def _closure_lines(account, params) -> QuerySet:
    return (scoped(RegisterClosureLine, account).filter(_closure_filter(account, params, prefix="session__"))
            .order_by("-session__closed_at", "-session_id", "payment_type__position", "payment_type__name"))


def _closure_rows(account, params):
    currency, tz = account.currency, account_zone(account)
    rows = _closure_lines(account, params).values_list(
        "session_id", "session__register__outlet__name", "session__register__name", "session__opened_at",
        "session__opened_by__name", "session__opened_by__email", "session__closed_at", "session__closed_by__name",
        "session__closed_by__email", "payment_type__name", "expected", "counted", "difference",
    ).iterator(chunk_size=exports.CHUNK)
    for (session_id, outlet, register, opened_at, opener_name, opener_email, closed_at, closer_name, closer_email,
         payment_type, expected, counted, difference) in rows:
        yield (session_id, outlet, register, _stamp(opened_at, tz), _person(opener_name, opener_email),
               _stamp(closed_at, tz), _person(closer_name, closer_email), payment_type,
               exports.Amount(expected, currency), exports.Amount(counted, currency),
               exports.Amount(difference, currency))


def _gift_card_rows(account, params):
    currency, tz = account.currency, account_zone(account)
    rows = gift_cards(account).values_list(
        "code", "customer__first_name", "customer__last_name", "customer__company", "balance", "issued_at",
        "expires_on",
    ).iterator(chunk_size=exports.CHUNK)
    for code, first, last, company, balance, issued_at, expires_on in rows:
        yield (code, _customer_name(first or "", last or "", company or ""), exports.Amount(balance, currency),
               _stamp(issued_at, tz), expires_on)


def _store_credit_rows(account, params):
    currency = account.currency
    rows = store_credit_customers(account).values_list(
        "first_name", "last_name", "company", "email", "phone", "store_credit",
    ).iterator(chunk_size=exports.CHUNK)
    for first, last, company, email, phone, credit in rows:
        yield (_customer_name(first, last, company), company, email, phone, exports.Amount(credit, currency))


def _register(key: str, file_stem: str, header, count, rows) -> str:
    exports.REGISTRY.register(key, exports.ExportKind(permission="view_reports", file_stem=file_stem, header=header,
                                                      count=count, rows=rows))
    return key


SALES_EXPORTS = {
    GROUP_BY_DAY: _register(
        "report_sales_by_day", "sales-by-day",
        lambda: [_("Date"), _("Sales"), _("Net sales"), _("Tax"), _("Average sale")],
        lambda account, params: len(period_of(account, params).days()), _day_rows),
    GROUP_BY_PRODUCT: _register(
        "report_sales_by_product", "sales-by-product",
        lambda: [_("SKU"), _("Product"), _("Quantity"), _("Net sales"), _("Tax")],
        lambda account, params: product_groups(account, params).count(), _product_rows),
    GROUP_BY_PAYMENT: _register(
        "report_sales_by_payment_type", "sales-by-payment-type",
        lambda: [_("Payment type"), _("Net amount")],
        lambda account, params: len(sales_by_payment_type(account, params)), _payment_rows),
}
TAXES_EXPORT = _register(
    "report_taxes", "taxes",
    lambda: [_("Tax rate (%)"), _("Net sales incl. tax"), _("Tax collected"), _("Net of tax")],
    lambda account, params: len(taxes_by_rate(account, params)), _tax_rows)
CLOSURES_EXPORT = _register(
    "report_register_closures", "register-closures",
    lambda: [_("Closure"), _("Outlet"), _("Register"), _("Opened at"), _("Opened by"), _("Closed at"),
             _("Closed by"), _("Payment type"), _("Expected"), _("Counted"), _("Difference")],
    lambda account, params: _closure_lines(account, params).count(), _closure_rows)
GIFT_CARDS_EXPORT = _register(
    "report_gift_cards", "gift-cards",
    lambda: [_("Code"), _("Customer"), _("Balance"), _("Issued"), _("Expires on")],
    lambda account, params: gift_cards(account).count(), _gift_card_rows)
STORE_CREDIT_EXPORT = _register(
    "report_store_credit", "store-credit",
    lambda: [_("Customer"), _("Company"), _("E-mail address"), _("Phone"), _("Store credit")],
    lambda account, params: store_credit_customers(account).count(), _store_credit_rows)
