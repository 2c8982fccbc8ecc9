"""Sales history: the list (filters in the shop's time zone, keyset pages), its CSV export, one sale's page
(lines, payments, timeline) and the actions taken there (void, return, later payment, shipping order), with
refusals that re-render the page and change nothing, permissions and tenancy."""

import html
import re

import pytest
from django.urls import reverse
from django.utils import translation

from accounts import permissions as perms
from accounts.models import Outlet
from retail.models import Fulfilment, PaymentType, Sale
from retail.selectors import history as history_selectors
from tests.factories import member, owner_of
from tests.retail import report_factories as rf
from tests.retail.builders import csv_rows, in_english, page_text, paris, pos_state, staff_with, tracked_product, travel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    """Services build their messages in the active language, and a request in an earlier test of this process
    may have left French active: the assertions below read the English source strings."""
    with translation.override("en"):
        yield


class Scenario:
    """Two outlets, "Centre" (shop) and "Gare" (shop2); receipts are numbered per outlet.

    - s1: 10 March 10:00 Paris, Centre, 3 jams (9,99 €) in cash → Centre 1
    - s2: 10 March 23:30 Paris (22:30 UTC), Centre, 1 mug (12,50 €) for Camille Martin, 2,50 € cash, the rest
      on account → Centre 2
    - s3: 11 March 00:30 Paris (23:30 UTC on the 10th), Gare, 1 jam for Paul Durand by cheque → Gare 1
    - s4: 11 March 09:00 Paris, Centre, 1 jam in cash, voided at once → Centre 3
    - a parked sale and a cart in progress, which the history never shows
    """

    def __init__(self, account):
        self.account = account
        with travel(paris(2026, 3, 9, 9)):
            self.shop = rf.make_shop(account)
            self.shop2 = rf.make_shop(account)
            Outlet.objects.filter(pk=self.shop.outlet.pk).update(name="Centre")
            Outlet.objects.filter(pk=self.shop2.outlet.pk).update(name="Gare")
            self.jam = rf.product(self.shop, sku="CONF-1", name="Confiture", price=333, rate_bp=550)
            self.mug = tracked_product(self.shop, sku="MUG-1", name="Mug", price=1250, rate_bp=2000, stock=10)
            self.camille = rf.customer(self.shop, first_name="Camille", last_name="Martin",
                                       email="camille@exemple.fr", address_line1="3 rue des Lilas",
                                       postcode="69001", city="Lyon", country="FR")
            self.paul = rf.customer(self.shop, first_name="Paul", last_name="Durand", phone="06 12 34 56 78")
            self.session = rf.open_register(self.shop, opening_float=5000)
            rf.open_register(self.shop2)
        with travel(paris(2026, 3, 10, 10)):
            self.s1 = rf.sell(self.shop, [(self.jam, 3)], payments=[(self.shop.cash, 2000)])
        with travel(paris(2026, 3, 10, 23, 30)):
            self.s2 = rf.sell(self.shop, [(self.mug, 1)], payments=[(self.shop.cash, 250)], buyer=self.camille,
                              on_account=True)
        with travel(paris(2026, 3, 11, 0, 30)):
            self.s3 = rf.sell(self.shop2, [(self.jam, 1)], payments=[(self.shop.cheque, 333)], buyer=self.paul)
        with travel(paris(2026, 3, 11, 9)):
            self.s4 = rf.sell(self.shop, [(self.jam, 1)])
            rf.void(self.shop, self.s4)
            rf.park(self.shop, [(self.jam, 2)])
            rf.leave_in_progress(self.shop2, [(self.jam, 1)])


@pytest.fixture
def scenario(account):
    return Scenario(account)


@pytest.fixture
def staff(client, account):
    """The owner, reading the back-office in English."""
    client.force_login(in_english(owner_of(account)))
    return client


def listed(response) -> list:
    return list(response.context["page"].rows)


def history(client, **params):
    return client.get(reverse("retail:history"), params)


# ---- the list ----------------------------------------------------------------------------------------------------

def test_the_list_shows_finished_sales_newest_first(staff, scenario, other_account):
    theirs = rf.make_shop(other_account)
    rf.open_register(theirs)
    rf.sell(theirs, [(rf.product(theirs, sku="X", name="Ailleurs", price=100, rate_bp=2000), 1)])

    response = history(staff)

    assert response.status_code == 200
    s = scenario
    assert listed(response) == [s.s4, s.s3, s.s2, s.s1]
    text = page_text(response)
    for shown in ("Centre", "Gare", "Camille Martin", "Paul Durand", "€12.50", "€10.00", "Voided"):
        assert shown in text, shown
    assert "Ailleurs" not in text


@pytest.mark.parametrize("params,expected", [
    ({"status": "on_account"}, ["s2"]),
    ({"status": "voided"}, ["s4"]),
    ({"date_from": "2026-03-11", "date_to": "2026-03-11"}, ["s4", "s3"]),  # 00:30 in Paris is the 11th
    ({"date_from": "2026-03-10", "date_to": "2026-03-10"}, ["s2", "s1"]),  # 23:30 in Paris is still the 10th
    ({"date_from": "2026-03-11"}, ["s4", "s3"]),
    ({"date_to": "2026-03-10"}, ["s2", "s1"]),
    ({"customer_q": "martin"}, ["s2"]),
    ({"customer_q": "34 56"}, ["s3"]),
    ({"customer_q": "exemple.fr"}, ["s2"]),
    ({"receipt": "1"}, ["s3", "s1"]),  # each outlet has its receipt 1
    ({"receipt": "2", "status": "on_account"}, ["s2"]),
    ({"status": "completed", "date_from": "2026-03-10", "date_to": "2026-03-10"}, ["s1"]),
])
def test_filters(staff, scenario, params, expected):
    response = history(staff, **params)

    assert response.status_code == 200
    assert listed(response) == [getattr(scenario, name) for name in expected]


@pytest.mark.parametrize("listed_at_most", [history_selectors.CUSTOMER_IDS_LISTED, 0])
def test_a_customer_search_finds_the_same_sales_for_few_or_many_matching_customers(
        staff, scenario, monkeypatch, listed_at_most):
    # Few matching customers are listed by id, many are matched by a subquery: the same sales either way.
    monkeypatch.setattr(history_selectors, "CUSTOMER_IDS_LISTED", listed_at_most)

    assert listed(history(staff, customer_q="r")) == [scenario.s3, scenario.s2]  # Durand, Martin
    assert listed(history(staff, customer_q="nobody")) == []


def test_filter_by_outlet(staff, scenario):
    assert listed(history(staff, outlet=scenario.shop2.outlet.pk)) == [scenario.s3]
    assert listed(history(staff, outlet=scenario.shop.outlet.pk)) == [scenario.s4, scenario.s2, scenario.s1]


def test_filter_by_register(staff, scenario, client, account):
    gare = scenario.shop2.register
    assert listed(history(staff, register=gare.pk)) == [scenario.s3]
    assert listed(history(staff, outlet=scenario.shop2.outlet.pk, register=gare.pk)) == [scenario.s3]
    choices = dict(history(staff).context["form"].fields["register"].choices)
    assert choices[gare.pk] == f"Gare › {gare.name}"

    exported = staff.get(reverse("retail:history_export"), {"register": gare.pk})
    assert [row[0] for row in csv_rows(exported)[1:]] == ["1"]  # Gare's receipt 1 only


def test_a_register_of_another_outlet_is_refused(staff, scenario):
    response = history(staff, outlet=scenario.shop.outlet.pk, register=scenario.shop2.register.pk)

    assert response.status_code == 400
    assert "This register is not at the chosen outlet." in page_text(response)
    assert listed(response) == [scenario.s4, scenario.s2, scenario.s1]  # the outlet still applies


def test_a_bad_filter_is_shown_and_the_valid_ones_still_apply(staff, scenario):
    response = history(staff, date_from="2026-03-11", date_to="2026-03-10", status="completed")

    assert response.status_code == 400
    assert "The end date is before the start date." in page_text(response)
    assert listed(response) == [scenario.s3]  # completed, from the 11th; the end date is left out

    response = history(staff, receipt="abc", status="on_account")

    assert response.status_code == 400
    assert "Enter a whole number." in page_text(response)
    assert listed(response) == [scenario.s2]


def test_htmx_asks_for_the_results_only(staff, scenario):
    response = staff.get(reverse("retail:history"), {"status": "on_account"}, headers={"HX-Request": "true"})

    text = response.content.decode()
    assert response.status_code == 200
    assert 'id="history-table"' in text and "<html" not in text
    assert "HX-Request" in response["Vary"]


def test_keyset_pages_walk_every_sale_once(staff, account, monkeypatch):
    monkeypatch.setattr(history_selectors.SALE_PAGES, "size", 2)
    shop = rf.make_shop(account)
    rf.open_register(shop)
    jam = rf.product(shop, sku="CONF-1", name="Confiture", price=333, rate_bp=550)
    sales = []
    for moment in (paris(2026, 3, 10, 9), paris(2026, 3, 10, 10), paris(2026, 3, 10, 10), paris(2026, 3, 10, 10),
                   paris(2026, 3, 10, 11)):
        with travel(moment):  # three sales completed at the very same instant: the id breaks the tie
            sales.append(rf.sell(shop, [(jam, 1)]))
    newest_first = sorted(sales, key=lambda sale: (sale.completed_at, sale.pk), reverse=True)

    pages, links, url = [], [], reverse("retail:history") + "?status=completed"
    while url:
        response = staff.get(url)
        assert response.status_code == 200
        pages.append(listed(response))
        link = OLDER_LINK.search(response.content.decode())  # the "Older sales" link, as a person follows it
        url = reverse("retail:history") + html.unescape(link.group(1)) if link else None
        links.append(url)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [sale for page in pages for sale in page] == newest_first
    assert all("status=completed" in link for link in links[:-1])  # the filters follow the pages


OLDER_LINK = re.compile(r'<a href="([^"]+)" rel="next">')


@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01", "2100-01-01"])
def test_a_date_out_of_range_is_refused_and_the_valid_filters_still_apply(staff, scenario, field, date):
    response = history(staff, status="completed", **{field: date})

    assert response.status_code == 400
    assert "Choose a date between 01/01/2000 and 12/31/2099." in page_text(response)
    assert listed(response) == [scenario.s3, scenario.s1]


def test_the_export_leaves_a_date_out_of_range_out(client, scenario, account):
    client.force_login(owner_of(account))

    response = client.get(reverse("retail:history_export"), {"date_to": "9999-12-31", "status": "completed"})

    assert response.status_code == 200
    assert len(csv_rows(response)) == 1 + 2  # the header, and the completed sales whatever their date


# ---- the CSV export ----------------------------------------------------------------------------------------------

def test_the_export_in_french(client, scenario, account):
    client.force_login(owner_of(account))  # follows the account's language: French

    response = client.get(reverse("retail:history_export"), {"date_from": "2026-03-10", "date_to": "2026-03-11"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header, *rows = csv_rows(response)
    assert header == ["Ticket", "Date", "Statut", "Établissement", "Caisse", "Client", "Total", "Taxe", "Payé",
                      "Retournée", "Reste à payer"]
    centre, gare = scenario.shop.register.name, scenario.shop2.register.name
    # Receipt, local date, status, outlet, register | total, tax, paid, returned (customer and balance below).
    assert [row[:5] + row[6:10] for row in rows] == [
        ["3", "2026-03-11 09:00:00", "Annulée", "Centre", centre, "3,33", "0,17", "0,00", "0,00"],
        ["1", "2026-03-11 00:30:00", "Terminée", "Gare", gare, "3,33", "0,17", "3,33", "0,00"],
        ["2", "2026-03-10 23:30:00", "En paiement différé — non réglée", "Centre", centre, "12,50", "2,08", "2,50",
         "0,00"],
        ["1", "2026-03-10 10:00:00", "Terminée", "Centre", centre, "9,99", "0,52", "9,99", "0,00"],
    ]
    assert [row[5] for row in rows] == ["", "Paul Durand", "Camille Martin", ""]  # no customer: left empty
    assert [row[10] for row in rows[1:]] == ["0,00", "10,00", "0,00"]


def test_the_export_follows_the_filters(client, scenario, account):
    client.force_login(owner_of(account))

    response = client.get(reverse("retail:history_export"), {"status": "on_account"})

    header, *rows = csv_rows(response)
    assert len(header) == 11
    assert [(row[0], row[5], row[-1]) for row in rows] == [("2", "Camille Martin", "10,00")]


def test_the_export_needs_the_export_permission(client, scenario, account):
    client.force_login(member(account, perms.CASHIER, language="en"))

    assert client.get(reverse("retail:history_export")).status_code == 403
    assert client.get(reverse("retail:history")).status_code == 200


# ---- one sale ------------------------------------------------------------------------------------------------------

def test_the_sale_page_shows_lines_payments_and_timeline(staff, scenario):
    response = staff.get(reverse("retail:sale_detail", args=[scenario.s2.pk]))

    assert response.status_code == 200
    text = page_text(response)
    for shown in ("Sale 2", "Mug", "MUG-1", "€12.50", "€2.08", "€2.50", "€10.00", "Camille Martin", "Centre",
                  "Espèces"):
        assert shown in text, shown
    assert [entry.label for entry in response.context["timeline"]] == [
        "Sale started", "Customer attached", "Payment added", "Completed"]
    assert all(entry.actor == scenario.shop.actor for entry in response.context["timeline"])
    assert "Receive a payment" in text and "Void the sale" in text and "Return items" in text


def test_the_sale_page_shows_the_change_given(staff, scenario):
    text = page_text(staff.get(reverse("retail:sale_detail", args=[scenario.s1.pk])))

    assert "change given €10.01" in text


def test_a_sale_in_progress_or_of_another_account_is_not_found(staff, scenario, other_account):
    parked = Sale.objects.get(account=scenario.account, status=Sale.Status.PARKED)
    theirs = rf.make_shop(other_account)
    rf.open_register(theirs)
    foreign = rf.sell(theirs, [(rf.product(theirs, sku="X", name="X", price=100, rate_bp=2000), 1)])

    assert staff.get(reverse("retail:sale_detail", args=[parked.pk])).status_code == 404
    before = pos_state(other_account)
    for name in ("sale_detail", "sale_void", "sale_return", "sale_take_payment", "sale_ship"):
        method = staff.get if name == "sale_detail" else staff.post
        assert method(reverse(f"retail:{name}", args=[foreign.pk])).status_code == 404, name
    assert pos_state(other_account) == before


# ---- void ------------------------------------------------------------------------------------------------------------

def test_voiding_from_the_sale_page(staff, scenario):
    with travel(paris(2026, 3, 10, 12)):
        response = staff.post(reverse("retail:sale_void", args=[scenario.s1.pk]), {"reason": "Erreur de saisie"},
                              follow=True)

    assert response.redirect_chain == [(reverse("retail:sale_detail", args=[scenario.s1.pk]), 302)]
    assert "Sale 1 voided." in page_text(response)
    sale = Sale.objects.get(pk=scenario.s1.pk)
    assert (sale.status, sale.paid_total, sale.note) == (Sale.Status.VOIDED, 0, "Erreur de saisie")
    assert response.context["timeline"][-1].label == "Voided"


def test_voiding_a_sale_of_another_day_is_refused(staff, scenario):
    before = pos_state(scenario.account)

    with travel(paris(2026, 3, 11, 10)):
        response = staff.post(reverse("retail:sale_void", args=[scenario.s2.pk]), {"reason": "trop tard"})

    assert response.status_code == 400
    assert "Only sales of today can be voided; use a return instead." in page_text(response)
    assert pos_state(scenario.account) == before


def test_a_cashier_may_not_void_or_return(client, scenario, account):
    client.force_login(member(account, perms.CASHIER, language="en"))
    line = scenario.s1.lines.get()
    before = pos_state(account)

    with travel(paris(2026, 3, 10, 12)):
        assert client.post(reverse("retail:sale_void", args=[scenario.s1.pk])).status_code == 403
        assert client.post(reverse("retail:sale_return", args=[scenario.s1.pk]),
                           {f"line_{line.pk}": "1", "refund_payment_type": scenario.shop.cash.pk}).status_code == 403
        page = client.get(reverse("retail:sale_detail", args=[scenario.s1.pk]))

    assert pos_state(account) == before
    assert page.status_code == 200
    assert "Void the sale" not in page_text(page) and "Return items" not in page_text(page)


# ---- returns ---------------------------------------------------------------------------------------------------------

def test_returning_from_the_sale_page(staff, scenario):
    line = scenario.s1.lines.get()

    response = staff.post(reverse("retail:sale_return", args=[scenario.s1.pk]), {
        f"line_{line.pk}": "2", "refund_payment_type": scenario.shop.cheque.pk, "reason": "Pots fêlés"}, follow=True)

    assert response.redirect_chain == [(reverse("retail:sale_detail", args=[scenario.s1.pk]), 302)]
    assert "Return recorded." in page_text(response)
    sale = Sale.objects.get(pk=scenario.s1.pk)
    assert (sale.status, sale.returned_total, sale.paid_total) == (Sale.Status.COMPLETED, 666, 333)
    assert list(sale.payments.filter(amount__lt=0).values_list("payment_type", "amount")) == [
        (scenario.shop.cheque.pk, -666)]
    assert "2 × Confiture" in page_text(response) and "Pots fêlés" in page_text(response)


def test_returning_on_account_goods_reduces_the_balance(staff, scenario):
    line = scenario.s2.lines.get()

    response = staff.post(reverse("retail:sale_return", args=[scenario.s2.pk]),
                          {f"line_{line.pk}": "1", "refund_payment_type": scenario.shop.cash.pk})

    # 12,50 € back: the 10,00 € owed is written off and the 2,50 € paid is given back in cash.
    assert response.status_code == 302
    scenario.camille.refresh_from_db()
    sale = Sale.objects.get(pk=scenario.s2.pk)
    assert scenario.camille.balance == 0
    assert (sale.status, sale.paid_total) == (Sale.Status.RETURNED, 0)
    assert list(sale.payments.values_list("amount", flat=True)) == [250, -250]
    assert scenario.mug.stock_levels.get(outlet=scenario.shop.outlet).quantity == 10


@pytest.mark.parametrize("data,message", [
    ({}, "Choose what is being returned."),
    ({"line": "4", "refund": "cash"}, "Ensure this value is less than or equal to 3."),
    ({"line": "1"}, "Choose how the money is given back."),
    ({"line": "-1", "refund": "cash"}, "Ensure this value is greater than or equal to 0."),
    ({"line": "1", "refund": "card"}, "Select a valid choice."),
    ({"line": "²", "refund": "cash"}, "Enter a whole number."),
    ({"line": "2147483648", "refund": "cash"}, "Ensure this value is less than or equal to 3."),
])
def test_refused_returns_rerender_the_page(staff, scenario, data, message):
    line = scenario.s1.lines.get()
    types = {"cash": scenario.shop.cash.pk,
             "card": PaymentType.objects.get(account=scenario.account, kind=PaymentType.Kind.CARD).pk}
    form = {}
    if "line" in data:
        form[f"line_{line.pk}"] = data["line"]
    if "refund" in data:
        form["refund_payment_type"] = types[data["refund"]]
    before = pos_state(scenario.account)

    response = staff.post(reverse("retail:sale_return", args=[scenario.s1.pk]), form)

    assert response.status_code == 400
    assert message in page_text(response)
    assert pos_state(scenario.account) == before


# ---- later payments --------------------------------------------------------------------------------------------------

def test_receiving_a_later_payment(client, scenario, account):
    client.force_login(member(account, perms.CASHIER, language="en"))  # a cashier may take the money

    response = client.post(reverse("retail:sale_take_payment", args=[scenario.s2.pk]),
                           {"payment_type": scenario.shop.cheque.pk, "amount": "4.00"}, follow=True)

    assert response.redirect_chain == [(reverse("retail:sale_detail", args=[scenario.s2.pk]), 302)]
    assert "Payment recorded." in page_text(response)
    scenario.camille.refresh_from_db()
    assert scenario.camille.balance == 600
    assert Sale.objects.get(pk=scenario.s2.pk).status == Sale.Status.ON_ACCOUNT

    client.post(reverse("retail:sale_take_payment", args=[scenario.s2.pk]),
                {"payment_type": scenario.shop.cash.pk, "amount": "6.00"})

    scenario.camille.refresh_from_db()
    assert scenario.camille.balance == 0
    page = client.get(reverse("retail:sale_detail", args=[scenario.s2.pk]))
    assert page.context["sale"].status == Sale.Status.COMPLETED
    assert [entry.label for entry in page.context["timeline"]][-2:] == ["Payment received", "Payment received"]
    assert "Receive a payment" not in page_text(page)


def test_the_payment_form_suggests_what_is_due_in_the_readers_language(client, scenario, account):
    client.force_login(owner_of(account))  # French

    response = client.get(reverse("retail:sale_detail", args=[scenario.s2.pk]))

    assert response.context["payment_form"]["amount"].value() == "10,00"


@pytest.mark.parametrize("amount,message", [
    ("10.01", "The amount is more than what is left to pay (€10.00)."),
    ("0", "The amount must be more than zero."),
    ("abc", "“abc” is not a valid amount."),
    ("", "This field is required."),
    ("99999999999999999999", "The amount cannot be more than €1,000,000,000.00."),
])
def test_refused_later_payments_rerender_the_page(staff, scenario, amount, message):
    before = pos_state(scenario.account)

    response = staff.post(reverse("retail:sale_take_payment", args=[scenario.s2.pk]),
                          {"payment_type": scenario.shop.cash.pk, "amount": amount})

    assert response.status_code == 400
    assert message in page_text(response)
    assert pos_state(scenario.account) == before


def test_a_completed_sale_takes_no_later_payment(staff, scenario):
    before = pos_state(scenario.account)

    response = staff.post(reverse("retail:sale_take_payment", args=[scenario.s1.pk]),
                          {"payment_type": scenario.shop.cash.pk, "amount": "1.00"})

    assert response.status_code == 400
    assert "This sale is completed; it cannot be changed this way." in page_text(response)
    assert pos_state(scenario.account) == before


# ---- shipping -----------------------------------------------------------------------------------------------------

def test_creating_a_shipping_order(staff, scenario):
    response = staff.post(reverse("retail:sale_ship", args=[scenario.s2.pk]), follow=True)

    assert response.redirect_chain == [(reverse("retail:sale_detail", args=[scenario.s2.pk]), 302)]
    assert "Shipping order created." in page_text(response)
    order = Fulfilment.objects.get(sale=scenario.s2)
    assert (order.status, order.customer, order.ship_to) == (
        Fulfilment.Status.PENDING, scenario.camille, "Camille Martin\n3 rue des Lilas\n69001 Lyon\nFR")
    assert response.context["timeline"][-1].label == "Shipping order created"


def test_a_shipping_order_needs_a_postal_address(staff, scenario):
    before = pos_state(scenario.account)

    response = staff.post(reverse("retail:sale_ship", args=[scenario.s3.pk]))

    assert response.status_code == 400
    assert "Paul Durand has no postal address." in page_text(response)
    assert pos_state(scenario.account) == before


def test_shipping_needs_the_fulfilments_permission(client, scenario, account):
    client.force_login(staff_with(account, "sell", "void_refund_sales"))
    before = pos_state(account)

    assert client.post(reverse("retail:sale_ship", args=[scenario.s2.pk])).status_code == 403
    assert pos_state(account) == before
