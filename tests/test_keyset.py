"""The one keyset paginator (posbackoffice.keyset) and the three lists that page with it: the sales
history, the Customers list and Finance › Payments. A cursor we did not write is refused the same way
on each (400, the message in place of the rows, nothing else of the list); pages walk both ways; a deep
page is found by a row comparison the list's index starts at, in as many queries as the first page."""

import base64
import datetime
import html
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from payments.models import Payment
from payments.selectors import PAYMENT_PAGES
from posbackoffice.keyset import MAX_CURSOR_LENGTH, InvalidCursor, Keyset
from retail.models import Customer, Sale
from retail.selectors.customers import CUSTOMER_PAGES
from retail.selectors.history import SALE_PAGES
from tests.factories import owner_of
from tests.payments.builders import completed_sale, page_text, payment
from tests.retail.builders import in_english
from tests.retail.factories import CustomerFactory

pytestmark = pytest.mark.django_db

REFUSED = "This page link is not valid (it may have been cut short or changed). Start again from the first page."
MOMENT = datetime.datetime(2026, 3, 10, 9, 30, 15, 123456, tzinfo=datetime.UTC)


def encoded(values) -> str:
    """A cursor made by hand, as a tamperer would: JSON, base64url."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# ---- cursors -------------------------------------------------------------------------------------------

def test_a_cursor_is_opaque_stable_and_read_back():
    sale = Sale(id=123, completed_at=MOMENT.astimezone(datetime.timezone(datetime.timedelta(hours=1))))

    cursor = SALE_PAGES.cursor(sale)

    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert cursor == SALE_PAGES.cursor(Sale(id=123, completed_at=MOMENT))  # the same place, whatever the zone
    assert SALE_PAGES.decode(cursor) == (MOMENT, 123)
    customer = Customer(id=7, last_name="Martin", first_name="Léa")
    assert CUSTOMER_PAGES.decode(CUSTOMER_PAGES.cursor(customer)) == ("Martin", "Léa", 7)


def test_a_naive_time_is_never_written_into_a_cursor():
    with pytest.raises(ValueError, match="naive"):
        SALE_PAGES.cursor(Sale(id=1, completed_at=MOMENT.replace(tzinfo=None)))


BIGINT = 2**63
HOSTILE_SALE_CURSORS = {
    "not base64": "2026-03-10T09:30:15+00:00_12",  # the old history cursor: refused, not misread
    "not JSON": "bm9uc2Vuc2U",
    "base64 padding": encoded(["2026-03-10T09:30:15.000000+00:00", 12]) + "==",
    "too long": "A" * (MAX_CURSOR_LENGTH + 1),
    "not a list": encoded({"after": 12}),
    "too few values": encoded(["2026-03-10T09:30:15+00:00"]),
    "too many values": encoded(["2026-03-10T09:30:15+00:00", 12, 13]),
    "naive time": encoded(["2026-03-10T09:30:15.000000", 12]),
    "a date, no time": encoded(["2026-03-10", 12]),
    "Unicode digits in the time": encoded(["２０２６-03-10T09:30:15+00:00", 12]),
    "superscript digit as the id": encoded(["2026-03-10T09:30:15+00:00", "²"]),
    "id as text": encoded(["2026-03-10T09:30:15+00:00", "12"]),
    "id as a float": encoded(["2026-03-10T09:30:15+00:00", 12.0]),
    "id as a boolean": encoded(["2026-03-10T09:30:15+00:00", True]),
    "id beyond bigint": encoded(["2026-03-10T09:30:15+00:00", BIGINT]),
    "id below bigint": encoded(["2026-03-10T09:30:15+00:00", -BIGINT - 1]),
    "no such day": encoded(["2026-02-30T09:30:15+00:00", 12]),
    "beyond year 9999 in UTC": encoded(["9999-12-31T23:59:59-05:00", 12]),
    "before year 1 in UTC": encoded(["0001-01-01T00:00:00+05:00", 12]),
    "NaN": base64.urlsafe_b64encode(b'["2026-03-10T09:30:15+00:00", NaN]').decode().rstrip("="),
    "not UTF-8": base64.urlsafe_b64encode(b'["\xff", 1]').decode().rstrip("="),
}


@pytest.mark.parametrize("cursor", HOSTILE_SALE_CURSORS.values(), ids=HOSTILE_SALE_CURSORS.keys())
def test_a_cursor_we_did_not_write_is_refused(cursor):
    with pytest.raises(InvalidCursor):
        SALE_PAGES.decode(cursor)


HOSTILE_CUSTOMER_CURSORS = {
    "NUL byte in a name": encoded(["Mar\x00tin", "Léa", 7]),
    "lone surrogate": encoded(["\ud800", "Léa", 7]),
    "name longer than the column": encoded(["x" * 1000, "Léa", 7]),
    "name as a number": encoded([1, "Léa", 7]),
}


@pytest.mark.parametrize("cursor", HOSTILE_CUSTOMER_CURSORS.values(), ids=HOSTILE_CUSTOMER_CURSORS.keys())
def test_a_customer_cursor_holding_what_postgresql_cannot_store_is_refused(cursor):
    with pytest.raises(InvalidCursor):
        CUSTOMER_PAGES.decode(cursor)


def test_a_keyset_is_checked_when_it_is_defined():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="unique"):
        Keyset(Sale, "-completed_at")
    with pytest.raises(ImproperlyConfigured, match="direction"):
        Keyset(Sale, "-completed_at", "id")


# ---- the three lists refuse a bad cursor the same way -------------------------------------------------------

@pytest.fixture
def staff(client, account):
    client.force_login(in_english(owner_of(account)))
    return client


LISTS = {"history": "retail:history", "customers": "retail:customers", "payments": "payments:list"}


@pytest.fixture
def listed_rows(account):
    """One row in each list, whose name the page would show."""
    sale = completed_sale(account)
    CustomerFactory(account=account, first_name="Léa", last_name="Listed")
    payment(account, sale=sale)
    return sale


@pytest.mark.parametrize("parameter", ["after", "before"])
@pytest.mark.parametrize("cursor", ["nonsense", encoded(["2026-03-10T09:30:15", 1]), encoded([1, "²", BIGINT])],
                         ids=["malformed", "naive", "out of range"])
@pytest.mark.parametrize("url_name", LISTS.values(), ids=LISTS.keys())
def test_every_list_refuses_a_bad_cursor_the_same_way(staff, listed_rows, url_name, cursor, parameter):
    response = staff.get(reverse(url_name), {parameter: cursor})

    assert response.status_code == 400
    text = page_text(response)
    assert REFUSED in text and "Go to the first page" in text
    assert response.context["page"].rows == []
    assert "<table" not in text.split('role="search"', 1)[1]  # the filters, then the message: no list
    assert response["Vary"] and "HX-Request" in response["Vary"]


@pytest.mark.parametrize("url_name", LISTS.values(), ids=LISTS.keys())
def test_htmx_gets_the_refusal_in_the_results_partial(staff, listed_rows, url_name):
    response = staff.get(reverse(url_name), {"after": "nonsense"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 400
    assert "<html" not in response.content.decode() and REFUSED in page_text(response)


# ---- pages both ways, and their queries ---------------------------------------------------------------------

NEXT = re.compile(r'<a href="\?([^"]*)" rel="next">')
PREVIOUS = re.compile(r'<a href="\?([^"]*)" rel="prev">')


def follow(client, url_name, pattern, response):
    found = pattern.search(response.content.decode())
    return client.get(f"{reverse(url_name)}?{html.unescape(found.group(1))}") if found else None


def test_payments_page_forward_and_back_and_a_deep_page_costs_what_the_first_does(staff, account, monkeypatch):
    monkeypatch.setattr(PAYMENT_PAGES, "size", 2)
    rows = [payment(account, at=MOMENT + datetime.timedelta(minutes=n // 2)) for n in range(5)]  # ties: ids
    newest_first = sorted(rows, key=lambda p: (p.created_at, p.pk), reverse=True)

    with CaptureQueriesContext(connection) as first_queries:
        first = staff.get(reverse("payments:list"))
    second = follow(staff, "payments:list", NEXT, first)
    with CaptureQueriesContext(connection) as deep_queries:
        third = follow(staff, "payments:list", NEXT, second)
    back = follow(staff, "payments:list", PREVIOUS, third)

    pages = [first, second, third]
    assert [p.context["page"].rows for p in pages] == [newest_first[:2], newest_first[2:4], newest_first[4:]]
    assert back.context["page"].rows == newest_first[2:4]
    assert PREVIOUS.search(first.content.decode()) is None and NEXT.search(third.content.decode()) is None
    assert "Newer payments" in page_text(second) and "Older payments" in page_text(second)
    assert len(deep_queries) == len(first_queries)


def plan(queryset_page) -> str:
    """The plan PostgreSQL picks for the rows query of a page (sequential scans off: these tables are
    tiny here, the benchmark's are not)."""
    with CaptureQueriesContext(connection) as queries:
        queryset_page()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + [query["sql"] for query in queries if "ORDER BY" in query["sql"]][-1])
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("forward", [True, False], ids=["after", "before"])
def test_a_deep_page_starts_the_index_scan_at_the_cursor(account, forward):
    from payments.selectors import payments_page
    from retail.selectors.customers import customer_page
    from retail.selectors.history import history_page

    sales = [completed_sale(account), completed_sale(account)]
    payments = [payment(account, sale=sale) for sale in sales]
    customers = [CustomerFactory(account=account), CustomerFactory(account=account)]
    cases = [("sale_account_recent", SALE_PAGES, history_page, sales),
             ("payment_account_recent", PAYMENT_PAGES, payments_page, payments),
             ("customer_account_name_id", CUSTOMER_PAGES, customer_page, customers)]
    for index, keyset, page, rows in cases:
        in_order = list(keyset.ordered(type(rows[0]).objects.filter(pk__in=[row.pk for row in rows])))
        # The first row's place, then the page after it; the last row's, then the page before it.
        cursor = {"after": keyset.cursor(in_order[0])} if forward else {"before": keyset.cursor(in_order[-1])}
        explained = plan(lambda: page(account, {}, **cursor))  # noqa: B023 - called at once
        assert index in explained and re.search(r"Index Cond: .*ROW\(", explained), explained


def test_every_list_says_vary_hx_request(staff, listed_rows):
    for url_name in LISTS.values():
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = staff.get(reverse(url_name), **headers)
            assert response.status_code == 200 and "HX-Request" in response["Vary"]


def test_a_cursor_whose_rows_are_gone_gives_the_first_page(staff, account):
    kept = payment(account)
    gone = payment(account, at=MOMENT)
    cursor = PAYMENT_PAGES.cursor(gone)
    gone.delete()

    response = staff.get(reverse("payments:list"), {"after": cursor})

    assert response.status_code == 200 and response.context["page"].rows == [kept]
    assert Payment.objects.count() == 1
