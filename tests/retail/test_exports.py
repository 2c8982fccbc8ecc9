"""The CSV files of large exports: on PostgreSQL the "sales" kind is written by COPY, which must give the
very file the portable path (Python's csv module, also used on SQLite and for inline exports) gives —
byte for byte, in French and in English, whatever the shop's currency and time zone and whatever
awkward text the names hold. On both paths, a text a spreadsheet would take for a formula is written as
text (a leading apostrophe); the amounts and counts we write stay numbers."""

import csv
import dataclasses
import datetime
import io
import sys
import zoneinfo

import pytest

from accounts.models import Outlet, Register
from posbackoffice import exports
from retail.models import Customer, Sale
from tests.factories import AccountFactory
from tests.retail import report_factories as rf
from tests.retail.builders import travel

pytestmark = pytest.mark.django_db


def _at(zone: str, *args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=zoneinfo.ZoneInfo(zone))


def _awkward_shop(account, zone: str):
    """Sales whose cells test every rule: quoting, empty and blank names, each status, negative amounts,
    times on both sides of the zone's change to summer time, a fraction of a second before a round one."""
    with travel(_at(zone, 2026, 3, 1, 9)):
        shop = rf.make_shop(account)
        Outlet.objects.filter(pk=shop.outlet.pk).update(name='Centre; "gare", quai\nnord')
        Register.objects.filter(pk=shop.register.pk).update(name="  Caisse\u00a01 \t")
        price = {"EUR": 333, "JPY": 450, "KWD": 1005}[account.currency]
        jam = rf.product(shop, sku="CONF-1", name="Confiture", price=price, rate_bp=550)
        buyers = [
            rf.customer(shop, first_name="Léa", last_name="Martin"),
            rf.customer(shop, first_name="", last_name="Dupont"),
            rf.customer(shop, first_name="Zoé", last_name=""),
            rf.customer(shop, first_name="", last_name="", company="Atelier ; Lumière"),
            rf.customer(shop, first_name="Jean", last_name='D"Arc'),
        ]
        # Names a form would not let through, as an import might leave them.
        blank = rf.customer(shop, first_name="x", last_name="x", company="Établissements\u2003Roux")
        Customer.objects.filter(pk=blank.pk).update(first_name="\u2003", last_name="\t")
        spaced = rf.customer(shop, first_name="x", last_name="x")
        Customer.objects.filter(pk=spaced.pk).update(first_name="", last_name="", company="  ")
        nameless = rf.customer(shop, first_name="x", last_name="x")
        Customer.objects.filter(pk=nameless.pk).update(first_name=" ", last_name="", company="")
        buyers += [blank, spaced, nameless]
        rf.open_register(shop)
    moments = [(2026, 3, 7, 23, 59, 59, 999_999), (2026, 3, 8, 3, 30), (2026, 3, 28, 23, 30), (2026, 3, 29, 4),
               (2026, 3, 30, 10)]
    sales = []
    for n, moment in enumerate(moments * 3):  # every buyer, and a sale without any now and then
        with travel(_at(zone, *moment) + datetime.timedelta(minutes=n)):
            buyer = buyers[n % len(buyers)] if n % 5 else None
            if n == 3:
                sales.append(rf.sell(shop, [(jam, 2)], payments=[(shop.cash, price)], buyer=buyers[0],
                                     on_account=True))
            else:
                sales.append(rf.sell(shop, [(jam, n + 1)], buyer=buyer))
            if n == 5:
                rf.void(shop, sales[-1])
            if n == 6:
                rf.give_back(shop, sales[-1], {jam: n + 1}, refund_type=shop.cash)
    Sale.objects.filter(pk=sales[1].pk).update(paid_total=sales[1].total + 7)  # more paid than due: negative
    return shop


def _file(kind, account, params, language, path) -> bytes:
    rows = exports.write_file(kind, account, params, language, path, progress=lambda done: None)
    data = path.read_bytes()
    assert data.count(b"\r\n") >= rows + 1
    return data


@pytest.mark.parametrize("currency,zone", [("EUR", "Europe/Paris"), ("JPY", "America/New_York"),
                                           ("KWD", "Asia/Kuwait")])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_sales_file_written_by_copy_is_the_portable_file(tmp_path, currency, zone, language):
    account = AccountFactory(currency=currency, tz=zone)
    _awkward_shop(account, zone)
    copied = exports.REGISTRY.get("sales")
    portable = dataclasses.replace(copied, sql_rows=None)
    assert copied.sql_rows is not None

    for params in [{}, {"status": "completed"}, {"customer_q": "dupont"},
                   {"date_from": "2026-03-08", "date_to": "2026-03-29"}]:
        by_copy = _file(copied, account, params, language, tmp_path / "copy.csv")
        by_python = _file(portable, account, params, language, tmp_path / "python.csv")
        assert by_copy == by_python, params
        assert by_copy.startswith("\ufeff".encode())
    text = by_python.decode()
    assert '"Centre; ""gare"", quai\nnord"' in text
    assert f"{exports.dialect_for(language).delimiter}-" in text  # the negative balance due


def test_the_whitespace_sql_strips_is_pythons():
    assert exports.PYTHON_WHITESPACE == "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())


# ---- formulas: text a spreadsheet would run is written as text ----------------------------------------------------

# What a customer, a product or an outlet may be called, by mistake or on purpose.
FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-cmd", "\tcmd", "\rcmd"]


def _rows(data: bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_name_starting_as_a_formula_is_written_as_text_by_copy_and_by_python(tmp_path, language):
    account = AccountFactory(currency="EUR", tz="Europe/Paris")
    shop = rf.make_shop(account)
    Outlet.objects.filter(pk=shop.outlet.pk).update(name="@SUM(A1)")
    Register.objects.filter(pk=shop.register.pk).update(name="-cmd")
    jam = rf.product(shop, sku="CONF-1", name="Confiture", price=333, rate_bp=550)
    rf.open_register(shop)
    for name in FORMULAS:  # the customer column: first and last name, else the company, as typed
        buyer = rf.customer(shop, first_name="x", last_name="x")
        Customer.objects.filter(pk=buyer.pk).update(first_name="", last_name="", company=name)
        rf.sell(shop, [(jam, 1)], buyer=buyer)
    by_first_name = rf.customer(shop, first_name="x", last_name="Martin")
    Customer.objects.filter(pk=by_first_name.pk).update(first_name='=HYPERLINK("http://x","y")')
    overpaid = rf.sell(shop, [(jam, 1)], buyer=by_first_name)
    Sale.objects.filter(pk=overpaid.pk).update(paid_total=overpaid.total + 250)  # a negative balance due
    copied = exports.REGISTRY.get("sales")

    by_copy = _file(copied, account, {}, language, tmp_path / "copy.csv")
    by_python = _file(dataclasses.replace(copied, sql_rows=None), account, {}, language, tmp_path / "python.csv")

    assert by_copy == by_python
    header, *rows = _rows(by_copy, exports.dialect_for(language).delimiter)
    outlet, register, customer, balance = (header.index(column) for column in (
        {"fr": "Établissement", "en": "Outlet"}[language], {"fr": "Caisse", "en": "Register"}[language],
        {"fr": "Client", "en": "Customer"}[language], {"fr": "Reste à payer", "en": "Balance due"}[language]))
    assert {row[outlet] for row in rows} == {"'@SUM(A1)"} and {row[register] for row in rows} == {"'-cmd"}
    assert sorted(row[customer] for row in rows) == sorted(
        ["'" + name for name in FORMULAS] + ["'=HYPERLINK(\"http://x\",\"y\") Martin"])
    assert {"fr": "-2,50", "en": "-2.50"}[language] in [row[balance] for row in rows]  # a number, not text


def test_the_lists_inline_exports_write_formulas_as_text_and_numbers_as_numbers(client, account):
    from django.urls import reverse

    from retail.models import Product, StockLevel
    from tests.factories import owner_of
    from tests.retail.builders import csv_rows

    shop = rf.make_shop(account)
    for name in FORMULAS:
        buyer = rf.customer(shop, first_name="x", last_name="Client")
        Customer.objects.filter(pk=buyer.pk).update(first_name=name)
    link = rf.product(shop, sku="-SKU", name="x", price=1250, rate_bp=2000)
    Product.objects.filter(pk=link.pk).update(name='=HYPERLINK("http://x","y")', track_inventory=True)
    StockLevel.objects.create(account=account, product=link, outlet=shop.outlet, quantity=-3)
    client.force_login(owner_of(account))  # French: ";" between cells

    customers = csv_rows(client.get(reverse("retail:customers_export")))
    products = csv_rows(client.get(reverse("retail:products_export")))

    assert sorted(row[0] for row in customers[1:]) == sorted("'" + name for name in FORMULAS)
    (sku, _barcode, name, price, *_rest, stock), = products[1:]
    assert (sku, name, price, stock) == ("'-SKU", "'=HYPERLINK(\"http://x\",\"y\")", "12,50", "-3")


def test_a_cell_is_neutralised_only_when_it_starts_as_a_formula():
    assert [exports.neutralised(text) for text in FORMULAS] == ["'" + text for text in FORMULAS]
    assert [exports.neutralised(text) for text in ["", "Léa", " =1", "1-2", "'=1"]] == ["", "Léa", " =1", "1-2", "'=1"]
