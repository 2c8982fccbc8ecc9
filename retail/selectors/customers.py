"""Customers: the filtered list shared by the Customers page (keyset pages) and its CSV export, a
profile's latest sales, customer types with their counts, and the "customers" export kind."""

from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import scoped
from posbackoffice import exports
from posbackoffice.keyset import Keyset, KeysetPage
from retail import customer_extensions
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

# The list's order, that of the customer_account_name_id index.
CUSTOMER_PAGES = Keyset(Customer, "last_name", "first_name", "id", size=PAGE_SIZE)


def customer_page(account, params: dict, *, after: str | None = None,
                  before: str | None = None) -> tuple[KeysetPage, int]:
    """A page of the filtered list, after (or before) a customer's place, and how many customers match
    the filters (shown on every page; none counted for a refused cursor)."""
    customers = filtered_customers(account, params)
    page = CUSTOMER_PAGES.page(customers.select_related("customer_type"), after=after, before=before)
    return page, 0 if page.refused else customers.count()


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
