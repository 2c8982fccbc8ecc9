"""Sales history: the filtered list (keyset-paginated, so a deep page costs what the first does),
the sale's detail and timeline, and the "sales" CSV export."""

import datetime
import zoneinfo
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, F, Q, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Concat
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent
from accounts.tenancy import scoped
from posbackoffice import exports
from posbackoffice.keyset import Keyset, KeysetPage
from retail.models import Customer, Sale

HISTORY_STATUSES = [Sale.Status.COMPLETED, Sale.Status.ON_ACCOUNT, Sale.Status.VOIDED, Sale.Status.RETURNED]
PAGE_SIZE = 50
# Newest first; the sale_account_recent and sale_account_status_recent indexes start at a cursor.
SALE_PAGES = Keyset(Sale, "-completed_at", "-id", size=PAGE_SIZE)
# A customer search matching at most this many customers filters the sales on the list of their ids.
CUSTOMER_IDS_LISTED = 2_000


def _day_bounds(account, date_from, date_to):
    """Whole days in the shop's time zone (the worker that runs an export has no request zone)."""
    tz = zoneinfo.ZoneInfo(account.timezone)
    start = datetime.datetime.combine(date_from, datetime.time.min, tz) if date_from else None
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tz) if date_to else None
    return start, end


def filtered_sales(account, params: dict):
    """Completed-or-later sales matching the history filters, newest first."""
    sales = scoped(Sale, account).filter(status__in=HISTORY_STATUSES)
    if params.get("status"):
        sales = sales.filter(status=params["status"])
    start, end = _day_bounds(account, params.get("date_from"), params.get("date_to"))
    if start:
        sales = sales.filter(completed_at__gte=start)
    if end:
        sales = sales.filter(completed_at__lt=end)
    if params.get("outlet"):
        sales = sales.filter(outlet_id=params["outlet"])
    if params.get("register"):
        sales = sales.filter(register_id=params["register"])
    if params.get("customer"):
        sales = sales.filter(customer_id=params["customer"])
    if params.get("customer_q"):
        # The matching customers' ids, when they are not too many, rather than a subquery: PostgreSQL then
        # knows how many sales to expect. For ~1,000 customers of 100,000 it walks the newest sales testing
        # each id against the list (2.5 ms a page), not probing each sale's customer for the name (19 ms);
        # for a few customers it reads their sales by the customer index.
        matching = customer_ids_matching(account, params["customer_q"])
        ids = list(matching.values_list("id", flat=True)[:CUSTOMER_IDS_LISTED + 1])
        sales = sales.filter(_customer_among(ids) if len(ids) <= CUSTOMER_IDS_LISTED else Q(customer_id__in=matching))
    if params.get("receipt"):
        sales = sales.filter(receipt_number=params["receipt"])
    return sales.order_by(*SALE_PAGES.ordering)


def _customer_among(ids: list[int]):
    """The sale's customer is one of `ids`. On PostgreSQL, one array parameter (= ANY): a thousand ids
    cost half the time to plan and run that a thousand parameters do, and none to build one by one."""
    if connection.vendor != "postgresql":
        return Q(customer_id__in=ids)
    column = f"{connection.ops.quote_name(Sale._meta.db_table)}.{connection.ops.quote_name('customer_id')}"
    # Only our own quoted table and column in the SQL; the ids go as one parameter.
    return RawSQL(f"{column} = ANY(%s::bigint[])", ["{" + ",".join(str(int(pk)) for pk in ids) + "}"],  # nosec B611
                  output_field=BooleanField())


def history_page(account, params: dict, *, after: str | None = None, before: str | None = None) -> KeysetPage:
    return SALE_PAGES.page(filtered_sales(account, params).select_related("customer", "outlet", "register"),
                           after=after, before=before)


def sale_detail(account, sale_id: int) -> Sale:
    return (scoped(Sale, account).select_related("customer", "outlet", "register", "created_by")
            .prefetch_related("lines", "payments__payment_type", "returns__lines__sale_line", "returns__payment_type",
                              "fulfilments")
            .get(pk=sale_id))


def customer_ids_matching(account, query: str):
    """Customers whose name, company, e-mail or phone contains the query (a subquery of ids)."""
    query = query.strip()
    match = Q()
    for field in ("first_name", "last_name", "company", "email", "phone"):
        match |= Q(**{f"{field}__icontains": query})
    return scoped(Customer, account).filter(match).values("id")


# What the timeline says for each audited step of a sale; cart edits before completion are left out.
TIMELINE_LABELS = {
    "sale.started": _("Sale started"),
    "sale.customer_set": _("Customer attached"),
    "sale.payment_added": _("Payment added"),
    "sale.payment_removed": _("Payment removed"),
    "sale.parked": _("Parked"),
    "sale.resumed": _("Resumed"),
    "sale.completed": _("Completed"),
    "sale.payment_taken": _("Payment received"),
    "sale.returned": _("Goods returned"),
    "sale.voided": _("Voided"),
    "fulfilment.created": _("Shipping order created"),
}


@dataclass
class TimelineEntry:
    at: datetime.datetime
    label: str
    actor: object


def sale_timeline(account, sale: Sale) -> list[TimelineEntry]:
    fulfilment_ids = [str(pk) for pk in sale.fulfilments.values_list("pk", flat=True)]
    events = (scoped(AuditEvent, account)
              .filter(Q(object_type="retail.sale", object_id=str(sale.pk))
                      | Q(object_type="retail.fulfilment", object_id__in=fulfilment_ids, action="fulfilment.created"))
              .filter(action__in=list(TIMELINE_LABELS))
              .select_related("actor").order_by("created_at", "id"))
    return [TimelineEntry(at=event.created_at, label=str(TIMELINE_LABELS[event.action]), actor=event.actor)
            for event in events]


# ---- CSV export --------------------------------------------------------------------------------------

def _export_params(params: dict) -> dict:
    """Export parameters arrive as JSON-safe strings; turn dates back into dates."""
    clean = dict(params)
    for key in ("date_from", "date_to"):
        if clean.get(key) and isinstance(clean[key], str):
            clean[key] = datetime.date.fromisoformat(clean[key])
    return clean


def _sales_rows(account, params):
    currency = account.currency
    statuses = {value: str(label) for value, label in Sale.Status.choices}  # in the export's language
    rows = (filtered_sales(account, _export_params(params))
            .values_list("receipt_number", "completed_at", "status", "outlet__name", "register__name",
                         "customer__first_name", "customer__last_name", "customer__company", "total", "tax_total",
                         "paid_total", "returned_total")
            .iterator(chunk_size=exports.CHUNK))
    for receipt, completed_at, status, outlet, register, first, last, company, total, tax, paid, returned in rows:
        customer = f"{first or ''} {last or ''}".strip() or company or ""  # all None: a sale without customer
        yield (receipt, completed_at, statuses[status], outlet, register, customer,
               exports.Amount(total, currency), exports.Amount(tax, currency), exports.Amount(paid, currency),
               exports.Amount(returned, currency), exports.Amount(total - returned - paid, currency))


def _sales_sql_rows(account, params, cells: exports.SqlCells):
    """_sales_rows as SQL cells, for PostgreSQL's COPY (the same file, a test compares them)."""
    currency = account.currency
    customer = cells.text(Coalesce(
        cells.stripped(Concat(Coalesce("customer__first_name", Value("")), Value(" "),
                              Coalesce("customer__last_name", Value("")), output_field=TextField())),
        "customer__company", output_field=TextField()))
    return (filtered_sales(account, _export_params(params))
            .values_list("receipt_number", cells.local_time("completed_at"),
                         cells.label("status", {value: str(label) for value, label in Sale.Status.choices}),
                         cells.text("outlet__name"), cells.text("register__name"), customer,
                         cells.amount("total", currency), cells.amount("tax_total", currency),
                         cells.amount("paid_total", currency), cells.amount("returned_total", currency),
                         cells.amount(F("total") - F("returned_total") - F("paid_total"), currency)))


exports.REGISTRY.register("sales", exports.ExportKind(
    permission="sell",
    file_stem="sales",
    header=lambda: [str(h) for h in (_("Receipt"), _("Date"), _("Status"), _("Outlet"), _("Register"),
                                      _("Customer"), _("Total"), _("Tax"), _("Paid"), _("Returned"),
                                      _("Balance due"))],
    count=lambda account, params: filtered_sales(account, _export_params(params)).count(),
    rows=_sales_rows,
    sql_rows=_sales_sql_rows,
))
