"""Reports: the figures of each report for a small set of sales built through the services (with a
void, returns, an on-account sale, a parked sale and a cart in progress), their CSV files inline and
through the worker, filters, permissions and tenancy."""

import datetime
import re
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from accounts import permissions as perms
from accounts.models import Membership, StaffRole
from posbackoffice import exports
from posbackoffice.models import ExportJob
from retail.models import Sale
from tests.factories import UserFactory, member, owner_of
from tests.retail import report_factories as rf

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
RANGE = {"date_from": "2026-03-10", "date_to": "2026-03-12"}


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment of March 2026 in the shop's time zone (UTC+1 then)."""
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=PARIS)


def travel(moment):
    return time_machine.travel(moment, tick=False)


class Scenario:
    """Outlet 1 ("shop"), whose register is closed on the 11th, and outlet 2 ("shop2"):

    - 9th 23:30: s0, 1 coffee, cash (before the range)
    - 10th 10:00: s1, 2 coffees + 1 book = 40.00, cash; on the 11th one coffee comes back (cash refund)
    - 10th 11:00: s2, 1 coffee, paid by cheque; on the 11th returned entirely (cash refund) → returned
    - 10th 12:00: s5 at outlet 2, 1 coffee, cash
    - 11th 00:30 local (23:30 UTC on the 10th): s3, 3 books = 60.00, 10.00 cash, the rest on account
    - 11th 09:00: s4, 1 coffee, cash, voided at once
    - 11th: a parked sale (outlet 1) and, at outlet 3, a cart in progress with 5.00 cash already
      taken; neither ever counts
    - 13th 00:10 local (23:10 UTC on the 12th): s6 at outlet 2 (after the range)

    Coffee: 10.00 at 20 % VAT (tax 1.67 each); book: 20.00 at 5.5 % (tax 1.04).
    """

    def __init__(self, account):
        self.account = account
        with travel(at(9, 8)):
            self.shop = rf.make_shop(account)
            self.shop2 = rf.make_shop(account)
            self.shop3 = rf.make_shop(account)
            self.coffee = rf.product(self.shop, sku="CAF-1", name="Café moulu", price=1000, rate_bp=2000)
            self.book = rf.product(self.shop, sku="LIV-1", name="Livre de recettes", price=2000, rate_bp=550)
            self.buyer = rf.customer(self.shop)
            self.session = rf.open_register(self.shop, opening_float=5000)
            self.session2 = rf.open_register(self.shop2, opening_float=0)
            rf.open_register(self.shop3, opening_float=0)
        with travel(at(9, 23, 30)):
            self.s0 = rf.sell(self.shop, [(self.coffee, 1)])
        with travel(at(10, 10)):
            self.s1 = rf.sell(self.shop, [(self.coffee, 2), (self.book, 1)])
        with travel(at(10, 11)):
            self.s2 = rf.sell(self.shop, [(self.coffee, 1)], payments=[(self.shop.cheque, 1000)])
        with travel(at(10, 12)):
            self.s5 = rf.sell(self.shop2, [(self.coffee, 1)])
        with travel(at(11, 0, 30)):
            self.s3 = rf.sell(self.shop, [(self.book, 3)], payments=[(self.shop.cash, 1000)], buyer=self.buyer,
                              on_account=True)
        with travel(at(11, 9)):
            self.s4 = rf.sell(self.shop, [(self.coffee, 1)])
            rf.void(self.shop, self.s4)
        with travel(at(11, 9, 30)):
            rf.give_back(self.shop, self.s2, {self.coffee: 1}, self.shop.cash)
            rf.give_back(self.shop, self.s1, {self.coffee: 1}, self.shop.cash)
        with travel(at(11, 10)):
            rf.park(self.shop, [(self.book, 1)])
            rf.leave_in_progress(self.shop3, [(self.coffee, 5)], cash_taken=500)
        with travel(at(11, 20)):
            # Cash: 50.00 float + 10 (s0) + 40 (s1) + 10 (s3) + 10 − 10 (s4 voided) − 10 − 10 (refunds) = 90.00
            self.closed = rf.close_register(self.shop, self.session, note="Il manque 2 €",
                                            counted={self.shop.cash.pk: 8800, self.shop.cheque.pk: 1000})
        with travel(at(13, 0, 10)):
            self.s6 = rf.sell(self.shop2, [(self.coffee, 1)])
        for sale in (self.s0, self.s1, self.s2, self.s3, self.s4, self.s5, self.s6):
            sale.refresh_from_db()


@pytest.fixture
def scenario(account):
    return Scenario(account)


@pytest.fixture
def manager_client(client, account):
    client.force_login(member(account, perms.MANAGER))
    return client


def get(client, name, **query):
    return client.get(reverse(name), query)


def csv_text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8-sig")


# ---- the scenario is what the tests think it is ---------------------------------------------------

def test_scenario_statuses(scenario):
    assert scenario.s1.status == Sale.Status.COMPLETED and scenario.s1.returned_total == 1000
    assert scenario.s2.status == Sale.Status.RETURNED
    assert scenario.s3.status == Sale.Status.ON_ACCOUNT and scenario.s3.balance_due == 5000
    assert scenario.s4.status == Sale.Status.VOIDED
    assert Sale.objects.filter(account=scenario.account, status__in=[Sale.Status.PARKED, Sale.Status.OPEN]).count() == 2


# ---- sales report ----------------------------------------------------------------------------------

def test_sales_by_day_at_one_outlet(manager_client, scenario):
    response = get(manager_client, "retail:report_sales", **RANGE, outlet=scenario.shop.outlet.pk, group_by="day")
    assert response.status_code == 200
    days = [(d.day.isoformat(), d.count, d.net, d.tax, d.average) for d in response.context["days"]]
    assert days == [
        ("2026-03-10", 2, 3000, 270, 1500),  # s1 net of the returned coffee, s2 fully returned
        ("2026-03-11", 1, 6000, 313, 6000),  # s3 counted on the local day; s4 voided
        ("2026-03-12", 0, 0, 0, 0),
    ]
    totals = response.context["totals"]
    assert (totals.count, totals.net, totals.tax, totals.average) == (3, 9000, 583, 3000)
    # Integer minor units straight from the database (integer division, never a decimal or a float).
    assert all(type(value) is int for d in response.context["days"] for value in (d.count, d.net, d.tax))


def test_sales_by_day_every_outlet(manager_client, scenario):
    response = get(manager_client, "retail:report_sales", **RANGE)
    days = [(d.count, d.net, d.tax) for d in response.context["days"]]
    assert days == [(3, 4000, 437), (1, 6000, 313), (0, 0, 0)]  # s5 added; s0 and s6 outside the range
    totals = response.context["totals"]
    assert (totals.count, totals.net, totals.tax, totals.average) == (4, 10000, 750, 2500)
    html = response.content.decode()
    assert "100,00\xa0€" in html  # the total, formatted for the French shop


def test_sales_by_product(manager_client, scenario):
    response = get(manager_client, "retail:report_sales", **RANGE, outlet=scenario.shop.outlet.pk,
                   group_by="product")
    rows = [(r["sku"], r["name"], r["units"], r["net"], r["tax"]) for r in response.context["products"]]
    assert rows == [
        ("LIV-1", "Livre de recettes", 4, 8000, 417),
        ("CAF-1", "Café moulu", 1, 1000, 166),
    ]
    assert response.context["totals"] == {"units": 5, "net": 9000, "tax": 583}
    assert "Livre de recettes" in response.content.decode()


def test_sales_by_payment_type(manager_client, scenario):
    response = get(manager_client, "retail:report_sales", **RANGE, outlet=scenario.shop.outlet.pk,
                   group_by="payment")
    rows = [(r.label, r.amount) for r in response.context["payments"]]
    # Cash: 40 (s1) + 10 (s3) − 10 − 10 (refunds of the returns); s4's payment and refund do not count.
    cash, cheque = scenario.shop.cash.name, scenario.shop.cheque.name
    assert rows == [(cash, 3000), (cheque, 1000), ("Paiement différé (non réglé)", 5000)]
    assert response.context["payments_total"] == 9000

    everywhere = get(manager_client, "retail:report_sales", **RANGE, group_by="payment")
    assert [(r.label, r.amount) for r in everywhere.context["payments"]] == [
        (cash, 4000), (cheque, 1000), ("Paiement différé (non réglé)", 5000)]


def test_sales_chart_is_inline_svg_without_style(manager_client, scenario):
    response = get(manager_client, "retail:report_sales", **RANGE)
    html = response.content.decode()
    svg = re.search(r"<svg class=\"chart\".*?</svg>", html, re.S).group(0)
    assert 'viewBox="0 0 720 240"' in svg and "aria-label=" in svg and "<title>" in svg
    assert svg.count("<rect") == 3 and "<polyline" in svg and "<text" in svg
    assert "style=" not in svg.lower() and "<script" not in html.replace('<script src=', '')
    assert "100,00\xa0€" not in svg  # the axis tops out at a round 80.00 € for a 60.00 € day
    assert "80,00\xa0€" in svg


def test_sales_report_defaults_to_the_last_30_days(manager_client, scenario):
    with travel(at(12, 15)):
        response = manager_client.get(reverse("retail:report_sales"))
    assert response.status_code == 200
    days = response.context["days"]
    assert len(days) == 30
    assert days[0].day == datetime.date(2026, 2, 11) and days[-1].day == datetime.date(2026, 3, 12)
    assert sum(d.count for d in days) == 5  # s0 (the 9th) now counts too
    assert 'value="2026-02-11"' in response.content.decode()


def test_refused_filters_show_an_error_and_no_report(manager_client, scenario):
    response = get(manager_client, "retail:report_sales", date_from="2026-03-12", date_to="2026-03-10")
    assert response.status_code == 400
    html = response.content.decode()
    assert "La date de début est postérieure à la date de fin." in html  # French user
    assert "<svg class=\"chart\"" not in html and "days" not in response.context

    too_long = get(manager_client, "retail:report_sales", date_from="2024-01-01", date_to="2026-03-10")
    assert too_long.status_code == 400
    assert "au plus 366 jours" in too_long.content.decode()
    by_product = get(manager_client, "retail:report_sales", date_from="2024-01-01", date_to="2026-03-10",
                     group_by="product")
    assert by_product.status_code == 200

    other_outlet = get(manager_client, "retail:report_sales", **RANGE, outlet=999999)
    assert other_outlet.status_code == 400
    assert "Sélectionnez un choix valide. 999999 n’en fait pas partie." in other_outlet.content.decode()  # French user


def test_htmx_refresh_returns_the_results_partial(manager_client, scenario):
    response = manager_client.get(reverse("retail:report_sales"), {**RANGE, "group_by": "product"},
                                  HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "Livre de recettes" in html
    assert 'id="report-errors"' in html and 'hx-swap-oob="true"' in html

    refused = manager_client.get(reverse("retail:report_sales"), {"date_from": "2026-03-12", "date_to": "2026-03-10"},
                                 HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    assert "<html" not in refused.content.decode()
    assert "La date de début est postérieure à la date de fin." in refused.content.decode()


def test_sales_csv_inline(manager_client, scenario):
    response = get(manager_client, "retail:report_sales", **RANGE, outlet=scenario.shop.outlet.pk, group_by="day",
                   export="csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert csv_text(response).splitlines() == [
        "Date;Ventes;Ventes nettes;Taxe;Vente moyenne",  # French file: ";" and a decimal comma
        "2026-03-10;2;30,00;2,70;15,00",
        "2026-03-11;1;60,00;3,13;60,00",
        "2026-03-12;0;0,00;0,00;0,00",
    ]
    products = get(manager_client, "retail:report_sales", **RANGE, outlet=scenario.shop.outlet.pk,
                   group_by="product", export="csv")
    assert csv_text(products).splitlines() == [
        "SKU;Produit;Quantité;Ventes nettes;Taxe",
        "LIV-1;Livre de recettes;4;80,00;4,17",
        "CAF-1;Café moulu;1;10,00;1,66",
    ]
    payments = get(manager_client, "retail:report_sales", **RANGE, outlet=scenario.shop.outlet.pk,
                   group_by="payment", export="csv")
    cash, cheque = scenario.shop.cash.name, scenario.shop.cheque.name
    assert csv_text(payments).splitlines() == [
        "Mode de paiement;Montant net", f"{cash};30,00", f"{cheque};10,00", "Paiement différé (non réglé);50,00",
    ]


def test_export_link_carries_the_filters(manager_client, scenario):
    with travel(at(12, 15)):
        response = manager_client.get(reverse("retail:report_sales"))
    html = response.content.decode()
    assert "date_from=2026-02-11&amp;date_to=2026-03-12&amp;group_by=day&amp;export=csv" in html


def test_large_export_goes_to_the_worker(manager_client, scenario, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(exports, "INLINE_LIMIT", 0)
    with django_capture_on_commit_callbacks(execute=True):
        response = get(manager_client, "retail:report_taxes", **RANGE, outlet=scenario.shop.outlet.pk, export="csv")
    job = ExportJob.objects.get(account=scenario.account)
    assert response.status_code == 302 and response["Location"] == reverse("export_job", args=[job.pk])
    assert job.kind == "report_taxes" and job.status == ExportJob.Status.DONE

    page = manager_client.get(response["Location"])
    assert page.status_code == 200
    download_url = reverse("export_download", args=[job.pk])
    assert download_url in page.content.decode()
    download = manager_client.get(download_url)
    assert download.status_code == 200
    assert csv_text(download).splitlines() == [
        "Taux de taxe (%);Ventes nettes TTC;Taxe collectée;Montant HT",
        "5,50;80,00;4,17;75,83",
        "20,00;10,00;1,66;8,34",
    ]


# ---- taxes -----------------------------------------------------------------------------------------

def test_tax_report(manager_client, scenario):
    response = get(manager_client, "retail:report_taxes", **RANGE, outlet=scenario.shop.outlet.pk)
    assert response.status_code == 200
    rows = [(r.rate_bp, r.gross, r.tax, r.net_of_tax) for r in response.context["rows"]]
    assert rows == [(550, 8000, 417, 7583), (2000, 1000, 166, 834)]
    totals = response.context["totals"]
    assert (totals.gross, totals.tax, totals.net_of_tax) == (9000, 583, 8417)
    html = response.content.decode()
    assert "5,5 %" in html and "75,83\xa0€" in html

    everywhere = get(manager_client, "retail:report_taxes", **RANGE)
    assert [(r.rate_bp, r.gross, r.tax) for r in everywhere.context["rows"]] == [(550, 8000, 417), (2000, 2000, 333)]


# ---- register closures ------------------------------------------------------------------------------

def test_register_closures(manager_client, scenario):
    response = get(manager_client, "retail:report_closures")
    assert response.status_code == 200
    sessions = list(response.context["page"])
    assert [s.pk for s in sessions] == [scenario.closed.pk]  # the open register of outlet 2 is not listed
    closure = sessions[0]
    assert (closure.expected, closure.counted, closure.difference) == (10000, 9800, -200)
    html = response.content.decode()
    assert "-2,00\xa0€" in html and reverse("retail:report_closure_detail", args=[closure.pk]) in html

    other_register = get(manager_client, "retail:report_closures", register=scenario.shop2.register.pk)
    assert list(other_register.context["page"]) == []
    assert list(get(manager_client, "retail:report_closures", date_from="2026-03-12").context["page"]) == []
    assert len(get(manager_client, "retail:report_closures", date_to="2026-03-11").context["page"]) == 1
    wrong = get(manager_client, "retail:report_closures", outlet=scenario.shop.outlet.pk,
                register=scenario.shop2.register.pk)
    assert wrong.status_code == 400
    assert "Cette caisse n’appartient pas à l’établissement choisi." in wrong.content.decode()


def test_register_closure_detail(manager_client, scenario):
    response = manager_client.get(reverse("retail:report_closure_detail", args=[scenario.closed.pk]))
    assert response.status_code == 200
    lines = [(line.payment_type.name, line.expected, line.counted, line.difference)
             for line in response.context["detail"].lines]
    assert lines == [(scenario.shop.cash.name, 9000, 8800, -200), ("Chèque", 1000, 1000, 0)]
    html = response.content.decode()
    assert "Il manque 2 €" in html and "50,00\xa0€" in html  # closing note, opening float

    still_open = manager_client.get(reverse("retail:report_closure_detail", args=[scenario.session2.pk]))
    assert still_open.status_code == 404


def test_register_closures_csv(manager_client, scenario):
    response = get(manager_client, "retail:report_closures", export="csv")
    lines = csv_text(response).splitlines()
    assert lines[0] == ("Fermeture;Établissement;Caisse;Ouverte le;Ouverte par;Fermée le;Fermée par;Mode de paiement;"
                        "Attendu;Compté;Écart")
    owner = owner_of(scenario.account)
    outlet, register = scenario.shop.outlet.name, scenario.shop.register.name
    prefix = f"{scenario.closed.pk};{outlet};{register};2026-03-09 08:00:00;{owner};2026-03-11 20:00:00;{owner}"
    cash = scenario.shop.cash.name
    assert lines[1:] == [f"{prefix};{cash};90,00;88,00;-2,00", f"{prefix};Chèque;10,00;10,00;0,00"]


def test_another_accounts_closure_is_not_found(client, scenario, other_account):
    client.force_login(owner_of(other_account))
    response = client.get(reverse("retail:report_closure_detail", args=[scenario.closed.pk]))
    assert response.status_code == 404
    listing = client.get(reverse("retail:report_closures"))
    assert list(listing.context["page"]) == []


# ---- balances ---------------------------------------------------------------------------------------

def test_gift_cards(manager_client, account):
    shop = rf.make_shop(account, cheque=False)
    holder = rf.customer(shop, first_name="Léa", last_name="Bernard")
    with travel(at(12, 15)):
        rf.gift_card(account, code="GC-001", balance=5000, holder=holder)
        rf.gift_card(account, code="GC-002", balance=2000, expires_on=datetime.date(2026, 12, 31))
        rf.gift_card(account, code="GC-003", balance=1500, expires_on=datetime.date(2026, 3, 1))
        response = get(manager_client, "retail:report_gift_cards")
        export = get(manager_client, "retail:report_gift_cards", export="csv")
    assert response.status_code == 200
    assert response.context["totals"] == {"outstanding": 7000, "expired": 1500}
    html = response.content.decode()
    assert "GC-001" in html and "Léa Bernard" in html and "70,00\xa0€" in html
    assert sorted(csv_text(export).splitlines()[1:]) == [
        "GC-001;Léa Bernard;50,00;2026-03-12 15:00:00;",
        "GC-002;;20,00;2026-03-12 15:00:00;2026-12-31",
        "GC-003;;15,00;2026-03-12 15:00:00;2026-03-01",
    ]


def test_store_credit(manager_client, account):
    shop = rf.make_shop(account, cheque=False)
    rf.set_store_credit(rf.customer(shop, first_name="Hugo", last_name="Petit", email="hugo@example.test"), 2500)
    rf.customer(shop, first_name="Nina", last_name="Roux")
    response = get(manager_client, "retail:report_store_credit")
    assert [str(c) for c in response.context["page"]] == ["Hugo Petit"]
    assert response.context["total"] == 2500
    assert "25,00\xa0€" in response.content.decode()
    export = get(manager_client, "retail:report_store_credit", export="csv")
    assert csv_text(export).splitlines() == [
        "Client;Société;Adresse e-mail;Téléphone;Avoir", "Hugo Petit;;hugo@example.test;;25,00",
    ]


# ---- who may see what -------------------------------------------------------------------------------

REPORT_PAGES = ["retail:reports", "retail:report_sales", "retail:report_taxes", "retail:report_closures",
                "retail:report_gift_cards", "retail:report_store_credit"]


def test_index_links_every_report(manager_client):
    html = manager_client.get(reverse("retail:reports")).content.decode()
    for name in REPORT_PAGES[1:]:
        assert reverse(name) in html


def test_cashier_is_refused(client, scenario):
    client.force_login(member(scenario.account, perms.CASHIER))
    for name in REPORT_PAGES:
        assert client.get(reverse(name)).status_code == 403, name
    assert client.get(reverse("retail:report_sales"), {"export": "csv"}).status_code == 403
    detail = client.get(reverse("retail:report_closure_detail", args=[scenario.closed.pk]))
    assert detail.status_code == 403
    assert not ExportJob.objects.exists()


def test_export_needs_export_permission(client, scenario):
    viewer_role = StaffRole.objects.create(account=scenario.account, name="Reports only", preset=perms.CUSTOM,
                                           permissions=["view_reports"])
    viewer = UserFactory()
    Membership.objects.create(account=scenario.account, user=viewer, role=viewer_role)
    client.force_login(viewer)
    page = get(client, "retail:report_sales", **RANGE)
    assert page.status_code == 200 and "export=csv" not in page.content.decode()
    for name in REPORT_PAGES[1:]:
        assert client.get(reverse(name), {"export": "csv"}).status_code == 403, name
    assert not ExportJob.objects.exists()
