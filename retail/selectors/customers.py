"""Customers: the filtered list shared by the Customers page (keyset pages) and its CSV export, a
profile's latest sales, customer types with their counts, and the "customers" export kind."""

import base64
import binascii
import json
from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import scoped
from posbackoffice.params import BIGINT_MAX
from retail import customer_extensions, exports
from retail.models import Customer, CustomerType, Sale

PAGE_SIZE = 50
LATEST_SALES = 10
# A search box, not a query language: more words than this add nothing but cost.
MAX_SEARCH_TERMS = 5
NO_TYPE = "none"
# Sales a customer has actually made (not a cart in progress or a parked sale).
FINISHED_STATUSES = [Sale.Status.COMPLETED, Sale.Status.ON_ACCOUNT, Sale.Status.VOIDED, Sale.Status.RETURNED]
SEARCH_FIELDS = ("first_name", "last_name", "company", "email", "phone")


def customer_types(account):
    return scoped(CustomerType, account).order_by("name", "id")


def customer_types_with_counts(account):
    return customer_types(account).annotate(customer_count=Count("customers"))


def search_filter(q: str) -> Q:
    """Every word must appear in one of the name, company, e-mail or phone fields, so "Léa Martin"
    finds the customer whose first name is Léa and last name Martin."""
    condition = Q()
    for term in q.split()[:MAX_SEARCH_TERMS]:
        term_matches = Q()
        for field in SEARCH_FIELDS:
            term_matches |= Q(**{f"{field}__icontains": term})
        condition &= term_matches
    return condition


def filtered_customers(account, params: dict):
    """Customers matching the list's filters, in a stable order (last name, first name, id).

    params (JSON-safe, as an export job stores them): q (words of the name, company, e-mail or
    phone), customer_type (an id, or "none" for customers without a type), has_balance (bool:
    owes something on account), and the key of any filter another app registered
    (retail.customer_extensions) that is available to this account (bool).
    """
    customers = scoped(Customer, account)
    q = (params.get("q") or "").strip()
    if q:
        customers = customers.filter(search_filter(q))
    customer_type = params.get("customer_type")
    if customer_type == NO_TYPE:
        customers = customers.filter(customer_type__isnull=True)
    elif customer_type:
        customers = customers.filter(customer_type_id=customer_type)
    if params.get("has_balance"):
        customers = customers.filter(balance__gt=0)
    for key, list_filter in customer_extensions.list_filters(account):
        if params.get(key):
            customers = list_filter.apply(customers, account)
    # When searching, NULLS FIRST (names are never null: same order) stops PostgreSQL walking the name index
    # in hope of meeting matches (260 ms for "vidal"); the trigram indexes find them and the few get sorted.
    return customers.order_by(F("last_name").asc(nulls_first=True if q else None), "first_name", "id")


# ---- the list's pages ------------------------------------------------------------------------------

@dataclass
class CustomerPage:
    customers: list[Customer]
    count: int  # customers matching the filters, on every page
    next_cursor: str | None
    previous_cursor: str | None


def encode_cursor(customer: Customer) -> str:
    """The customer's place in the list's order (last name, first name, id), fit for a URL."""
    data = json.dumps([customer.last_name, customer.first_name, customer.pk], ensure_ascii=False)
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[str, str, int] | None:
    if not cursor:
        return None
    try:
        last_name, first_name, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        return None
    if not (isinstance(last_name, str) and isinstance(first_name, str) and type(pk) is int):
        return None
    if "\x00" in last_name + first_name or not 0 < pk <= BIGINT_MAX:  # no name or id of ours
        return None
    return last_name, first_name, pk


def customer_page(account, params: dict, *, after: str | None = None, before: str | None = None) -> CustomerPage:
    """A page of the filtered list, after (or before) a customer's place: keyset pages, so a page deep in
    the list costs what the first does (the name index starts at the cursor)."""
    customers = filtered_customers(account, params)
    count = customers.count()
    place = Tuple("last_name", "first_name", "id")
    position, backwards = decode_cursor(after), False
    if position is None and (position := decode_cursor(before)) is not None:
        backwards = True
    if position is None:
        rows = list(customers.select_related("customer_type")[:PAGE_SIZE + 1])
        has_more_before, has_more_after = False, len(rows) > PAGE_SIZE
    elif not backwards:
        rows = list(customers.filter(TupleGreaterThan(place, position)).select_related("customer_type")
                    [:PAGE_SIZE + 1])
        has_more_before, has_more_after = True, len(rows) > PAGE_SIZE
    else:
        rows = list(customers.filter(TupleLessThan(place, position)).reverse().select_related("customer_type")
                    [:PAGE_SIZE + 1])
        has_more_before, has_more_after = len(rows) > PAGE_SIZE, True
        rows = rows[:PAGE_SIZE][::-1]
    if position is not None and not rows:  # nothing there any more (deleted meanwhile): the first page
        return customer_page(account, params)
    rows = rows[:PAGE_SIZE]
    return CustomerPage(customers=rows, count=count,
                        next_cursor=encode_cursor(rows[-1]) if has_more_after else None,
                        previous_cursor=encode_cursor(rows[0]) if has_more_before else None)


def latest_sales(account, customer: Customer) -> list[Sale]:
    return list(scoped(Sale, account).filter(customer=customer, status__in=FINISHED_STATUSES)
                .select_related("outlet").order_by("-completed_at", "-id")[:LATEST_SALES])


# ---- CSV export --------------------------------------------------------------------------------------

def _customer_rows(account, params):
    currency = account.currency
    rows = (filtered_customers(account, params)
            .values_list("first_name", "last_name", "company", "email", "phone", "address_line1", "address_line2",
                         "postcode", "city", "country", "customer_type__name", "balance", "store_credit",
                         "created_at")
            .iterator(chunk_size=exports.CHUNK))
    for (first, last, company, email, phone, line1, line2, postcode, city, country, type_name, balance,
         store_credit, created_at) in rows:
        yield (first, last, company, email, phone, line1, line2, postcode, city, country, type_name or "",
               exports.Amount(balance, currency), exports.Amount(store_credit, currency), created_at)


CUSTOMERS_EXPORT = "customers"
exports.REGISTRY.register(CUSTOMERS_EXPORT, exports.ExportKind(
    permission="manage_customers",
    file_stem="customers",
    header=lambda: [str(h) for h in (_("First name"), _("Last name"), _("Company"), _("E-mail address"),
                                      _("Phone"), _("Address"), _("Address (line 2)"), _("Postcode"), _("City"),
                                      _("Country"), _("Customer type"), _("On-account balance"),
                                      _("Store credit"), _("Customer since"))],
    count=lambda account, params: filtered_customers(account, params).count(),
    rows=_customer_rows,
))
