"""The sales report grouped by customer type (issue 9): each type's sales as recorded when the sale was made,
under the type's current name, net of returns, with the discount the type gave; "No customer type" for the
rest; the page, in French, and its CSV."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from retail.models import Sale
from retail.selectors import reports
from retail.services import customers as customer_services
from tests.retail import report_factories as rf
from tests.retail.builders import in_english

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
RANGE = {"date_from": "2026-03-10", "date_to": "2026-03-11", "group_by": "customer_type"}


def at(day: int, hour: int) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, tzinfo=PARIS)


@pytest.fixture
def scenario(account):
    """Coffee 10.00 at 20 % VAT, book 20.00 at 5.5 %. On the 10th: a VIP (10 %) buys 2 coffees (18.00, tax
    3.00); a "Particulier" a book; someone without a type a coffee; a sale without customer a coffee. On the
    11th another VIP sale of 2 coffees, one brought back the same day, and a VIP sale voided. On the 12th (out
    of the range) a VIP coffee. Then VIP is renamed "VIP Or" and the first VIP customer loses the type."""
    with time_machine.travel(at(9, 9), tick=False):
        shop = rf.make_shop(account)
        coffee = rf.product(shop, sku="CAF-1", name="Café", price=1000, rate_bp=2000)
        book = rf.product(shop, sku="LIV-1", name="Livre", price=2000, rate_bp=550)
        vip = customer_services.customer_type_create(actor=shop.actor, account=account, name="VIP", discount_bp=1000)
        regular = customer_services.customer_type_create(actor=shop.actor, account=account, name="Particulier")
        lea = rf.customer(shop, first_name="Léa", customer_type_id=vip.pk)
        marc = rf.customer(shop, first_name="Marc", customer_type_id=vip.pk)
        paul = rf.customer(shop, first_name="Paul", customer_type_id=regular.pk)
        nina = rf.customer(shop, first_name="Nina")
        rf.open_register(shop, opening_float=5000)
    with time_machine.travel(at(10, 10), tick=False):
        rf.sell(shop, [(coffee, 2)], buyer=lea)
        rf.sell(shop, [(book, 1)], buyer=paul)
        rf.sell(shop, [(coffee, 1)], buyer=nina)
        rf.sell(shop, [(coffee, 1)])
    with time_machine.travel(at(11, 10), tick=False):
        returned = rf.sell(shop, [(coffee, 2)], buyer=marc)
        rf.give_back(shop, returned, {coffee: 1}, shop.cash)
        rf.void(shop, rf.sell(shop, [(coffee, 1)], buyer=marc))
    with time_machine.travel(at(12, 10), tick=False):
        rf.sell(shop, [(coffee, 1)], buyer=marc)
    customer_services.customer_type_update(actor=shop.actor, account=account, customer_type_id=vip.pk,
                                           name="VIP Or", discount_bp=1500)
    customer_services.customer_type_assign(actor=shop.actor, account=account, customer_id=lea.pk,
                                           customer_type_id=None)
    return shop


def test_sales_by_customer_type(scenario, account):
    rows = reports.sales_by_customer_type(account, RANGE)

    assert [(r.label, r.count, r.net, r.tax, r.customer_discount, r.average) for r in rows] == [
        ("Particulier", 1, 2000, 104, 0, 2000),
        # 18.00 + (18.00 − 9.00 returned); tax 3.00 + 1.50; discounts 2.00 + 1.00.
        ("VIP Or", 2, 2700, 450, 300, 1350),
        ("No customer type", 2, 2000, 334, 0, 1000),
    ]
    totals = reports.customer_type_totals(rows)
    assert (totals.count, totals.net, totals.tax, totals.customer_discount) == (5, 6700, 888, 300)
    # The other groupings count the same sales.
    assert totals.net == reports.day_totals(reports.sales_by_day(account, RANGE)).net
    assert Sale.objects.filter(account=account, status=Sale.Status.VOIDED).count() == 1


def test_the_page_groups_by_customer_type_in_french(client, owner, scenario):
    client.force_login(owner)  # the account's language: French

    response = client.get(reverse("retail:report_sales"), RANGE)

    assert response.status_code == 200
    text = response.content.decode()
    assert "Sans type" in text and "VIP Or" in text and "Remises de type de client" in text
    assert [row.label for row in response.context["customer_types"]] == ["Particulier", "VIP Or", "Sans type"]


def test_the_csv_has_one_row_per_customer_type(client, owner, scenario):
    client.force_login(in_english(owner))

    response = client.get(reverse("retail:report_sales"), {**RANGE, "export": "csv"})

    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.decode("utf-8-sig").splitlines() == [
        "Customer type,Sales,Net sales,Tax,Customer type discounts,Average sale",
        "Particulier,1,20.00,1.04,0.00,20.00",
        "VIP Or,2,27.00,4.50,3.00,13.50",
        "No customer type,2,20.00,3.34,0.00,10.00",
    ]


def test_a_period_without_sales_shows_no_group(client, owner, scenario, account):
    assert reports.sales_by_customer_type(account, {"date_from": "2026-02-01", "date_to": "2026-02-02"}) == []
