"""Reports: the queries behind the sales and tax report pages and their CSV exports (the same query serves
both), and what every report shares — the period, the sales that count, net amounts, registering an export.
Register closures and balances are in report_balances, the sales chart's geometry in report_chart.

How a sale counts (sales and tax reports):
- a sale counts when its status is completed, on account or returned, on the local day of its
  `completed_at` in the account's time zone; voided sales and sales in progress or parked never count;
- net sales = total − returned_total: a return made later lowers the day the sale was made;
- per line, the not-returned part is the line amount minus retail.pricing.share_of(amount,
  returned quantity, quantity) — the same rounding the return service used, so the lines of a sale
  add up exactly to total − returned_total, and the tax is scaled the same way;
- by payment type: payments (refunds are negative) of counted sales, on the local day of their own
  `created_at`, plus "On account (unpaid)": the balance due of on-account sales completed in the range;
- by customer type: the type the sale was made for (`Sale.customer_type`, recorded when the customer was
  attached), under the type's current name; sales without a customer or whose customer had no type (or
  whose type was deleted since) make the "No customer type" group, last.

Parameters arrive as JSON-safe values (ISO dates, ids) because a queued export stores them as JSON.
"""

import datetime
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import batched

from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Outlet
from accounts.tenancy import scoped
from posbackoffice import exports
from retail.models import CustomerType, Sale, SaleLine, SalePayment
from retail.pricing import round_half_up

COUNTED_STATUSES = (Sale.Status.COMPLETED, Sale.Status.ON_ACCOUNT, Sale.Status.RETURNED)
GROUP_BY_DAY, GROUP_BY_PRODUCT, GROUP_BY_PAYMENT = "day", "product", "payment"
GROUP_BY_CUSTOMER_TYPE = "customer_type"


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


def in_period(field_name: str, period: Period) -> Q:
    condition = Q()
    if period.start:
        condition &= Q(**{f"{field_name}__gte": period.start})
    if period.end:
        condition &= Q(**{f"{field_name}__lt": period.end})
    return condition


def counted_sales(account, params: dict) -> QuerySet:
    """The sales that count (see the module docstring) completed in the period, at the outlet if one is chosen."""
    sales = scoped(Sale, account).filter(status__in=COUNTED_STATUSES).filter(
        in_period("completed_at", period_of(account, params)))
    if params.get("outlet"):
        sales = sales.filter(outlet_id=params["outlet"])
    return sales


def counted_lines(account, params: dict) -> QuerySet:
    lines = scoped(SaleLine, account).filter(sale__status__in=COUNTED_STATUSES).filter(
        in_period("sale__completed_at", period_of(account, params)))
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
NET_LINE_CUSTOMER_DISCOUNT = ExpressionWrapper(F("customer_discount") - _returned_share("customer_discount"),
                                              output_field=BigIntegerField())
NET_LINE_TAX = ExpressionWrapper(F("tax_amount") - _returned_share("tax_amount"), output_field=BigIntegerField())
NET_QUANTITY = ExpressionWrapper(F("quantity") - F("returned_quantity"), output_field=BigIntegerField())
SALE_NET = ExpressionWrapper(F("total") - F("returned_total"), output_field=BigIntegerField())
SALE_BALANCE_DUE = ExpressionWrapper(F("total") - F("returned_total") - F("paid_total"), output_field=BigIntegerField())


def sum_or_zero(expression) -> Coalesce:
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
               .values("day").annotate(count=Count("id"), net=sum_or_zero(SALE_NET)).order_by())
    for entry in per_day:
        row = rows[entry["day"]]
        row.count, row.net = entry["count"], entry["net"]
    tax_per_day = (counted_lines(account, params).annotate(day=TruncDate("sale__completed_at", tzinfo=tz))
                   .values("day").annotate(tax=sum_or_zero(NET_LINE_TAX)).order_by())
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
            .annotate(units=sum_or_zero(NET_QUANTITY), net=sum_or_zero(NET_LINE_TOTAL), tax=sum_or_zero(NET_LINE_TAX),
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
    return counted_lines(account, params).aggregate(units=sum_or_zero(NET_QUANTITY), net=sum_or_zero(NET_LINE_TOTAL),
                                                    tax=sum_or_zero(NET_LINE_TAX))


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
        in_period("created_at", period_of(account, params)))
    if params.get("outlet"):
        payments = payments.filter(sale__outlet_id=params["outlet"])
    per_type = (payments.values("payment_type_id", "payment_type__name", "payment_type__position")
                .annotate(amount=sum_or_zero("amount")).order_by("payment_type__position", "payment_type__name"))
    rows = [PaymentRow(label=entry["payment_type__name"], amount=entry["amount"],
                       payment_type_id=entry["payment_type_id"]) for entry in per_type]
    unpaid = counted_sales(account, params).filter(status=Sale.Status.ON_ACCOUNT).aggregate(
        due=sum_or_zero(SALE_BALANCE_DUE))["due"]
    rows.append(PaymentRow(label=_("On account (unpaid)"), amount=unpaid))
    return rows


# ---- sales by customer type ---------------------------------------------------------------------

@dataclass
class CustomerTypeRow:
    label: str
    customer_type_id: int | None
    count: int = 0
    net: int = 0
    tax: int = 0
    customer_discount: int = 0  # what the type's discount took off, net of returns

    @property
    def average(self) -> int:
        return _average(self.net, self.count)


def sales_by_customer_type(account, params: dict) -> list[CustomerTypeRow]:
    """One row per customer type that has sales in the period, by name, then "No customer type"."""
    rows: dict[int | None, CustomerTypeRow] = {}
    per_type = (counted_sales(account, params).values("customer_type_id")
                .annotate(count=Count("id"), net=sum_or_zero(SALE_NET)).order_by())
    for entry in per_type:
        rows[entry["customer_type_id"]] = CustomerTypeRow(label="", customer_type_id=entry["customer_type_id"],
                                                          count=entry["count"], net=entry["net"])
    per_type_lines = (counted_lines(account, params).values("sale__customer_type_id")
                      .annotate(tax=sum_or_zero(NET_LINE_TAX), discount=sum_or_zero(NET_LINE_CUSTOMER_DISCOUNT))
                      .order_by())
    for entry in per_type_lines:
        row = rows[entry["sale__customer_type_id"]]
        row.tax, row.customer_discount = entry["tax"], entry["discount"]
    names = dict(scoped(CustomerType, account).filter(pk__in=[pk for pk in rows if pk is not None])
                 .values_list("pk", "name"))
    for pk, row in rows.items():
        row.label = names[pk] if pk is not None else _("No customer type")
    return sorted(rows.values(), key=lambda row: (row.customer_type_id is None, row.label.lower(), row.label))


def customer_type_totals(rows: list[CustomerTypeRow]) -> CustomerTypeRow:
    return CustomerTypeRow(label=_("Total"), customer_type_id=None, count=sum(r.count for r in rows),
                           net=sum(r.net for r in rows), tax=sum(r.tax for r in rows),
                           customer_discount=sum(r.customer_discount for r in rows))


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
                .annotate(gross=sum_or_zero(NET_LINE_TOTAL), tax=sum_or_zero(NET_LINE_TAX)).order_by("tax_rate_bp"))
    return [TaxRow(rate_bp=entry["tax_rate_bp"], gross=entry["gross"], tax=entry["tax"]) for entry in per_rate]


def tax_totals(rows: list[TaxRow]) -> TaxRow:
    return TaxRow(rate_bp=None, gross=sum(r.gross for r in rows), tax=sum(r.tax for r in rows))


# ---- CSV exports ---------------------------------------------------------------------------------

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


def _customer_type_rows(account, params):
    currency = account.currency
    for row in sales_by_customer_type(account, params):
        yield (row.label, row.count, exports.Amount(row.net, currency), exports.Amount(row.tax, currency),
               exports.Amount(row.customer_discount, currency), exports.Amount(row.average, currency))


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


def register_export(key: str, file_stem: str, header, count, rows) -> str:
    exports.REGISTRY.register(key, exports.ExportKind(permission="view_reports", file_stem=file_stem, header=header,
                                                      count=count, rows=rows))
    return key


SALES_EXPORTS = {
    GROUP_BY_DAY: register_export(
        "report_sales_by_day", "sales-by-day",
        lambda: [_("Date"), _("Sales"), _("Net sales"), _("Tax"), _("Average sale")],
        lambda account, params: len(period_of(account, params).days()), _day_rows),
    GROUP_BY_PRODUCT: register_export(
        "report_sales_by_product", "sales-by-product",
        lambda: [_("SKU"), _("Product"), _("Quantity"), _("Net sales"), _("Tax")],
        lambda account, params: product_groups(account, params).count(), _product_rows),
    GROUP_BY_PAYMENT: register_export(
        "report_sales_by_payment_type", "sales-by-payment-type",
        lambda: [_("Payment type"), _("Net amount")],
        lambda account, params: len(sales_by_payment_type(account, params)), _payment_rows),
    GROUP_BY_CUSTOMER_TYPE: register_export(
        "report_sales_by_customer_type", "sales-by-customer-type",
        lambda: [_("Customer type"), _("Sales"), _("Net sales"), _("Tax"), _("Customer type discounts"),
                 _("Average sale")],
        lambda account, params: len(sales_by_customer_type(account, params)), _customer_type_rows),
}
TAXES_EXPORT = register_export(
    "report_taxes", "taxes",
    lambda: [_("Tax rate (%)"), _("Net sales incl. tax"), _("Tax collected"), _("Net of tax")],
    lambda account, params: len(taxes_by_rate(account, params)), _tax_rows)
