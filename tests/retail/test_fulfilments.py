"""Fulfilments: shipping orders created from finished sales (a customer with a postal address), moved one
step at a time (pending → packed → shipped, or cancelled before leaving), the Inventory › Fulfilments list
with its status tabs and the status form (tracking number when shipped)."""

import pytest
from django.urls import reverse
from django.utils import translation

from accounts import permissions as perms
from accounts.models import AuditEvent
from posbackoffice.errors import DomainError
from retail.models import Fulfilment
from retail.services.fulfilments import fulfilment_create, fulfilment_set_status
from tests.factories import member, owner_of
from tests.retail import report_factories as rf
from tests.retail.builders import in_english, page_text, pos_state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    """Services build their messages in the active language, and a request in an earlier test of this process
    may have left French active: the assertions below read the English source strings."""
    with translation.override("en"):
        yield

PENDING, PACKED, SHIPPED, CANCELLED = (Fulfilment.Status.PENDING, Fulfilment.Status.PACKED,
                                       Fulfilment.Status.SHIPPED, Fulfilment.Status.CANCELLED)


@pytest.fixture
def shop(account):
    shop = rf.make_shop(account)
    rf.open_register(shop)
    return shop


@pytest.fixture
def jam(shop):
    return rf.product(shop, sku="CONF-1", name="Confiture", price=333, rate_bp=550)


@pytest.fixture
def camille(shop):
    return rf.customer(shop, first_name="Camille", last_name="Martin", address_line1="3 rue des Lilas",
                       address_line2="Bâtiment B", postcode="69001", city="Lyon", country="fr")


def ship(shop, sale, source=""):
    return fulfilment_create(actor=shop.actor, account=shop.account, sale_id=sale.pk, source=source)


def move(shop, order, status, tracking_number=""):
    return fulfilment_set_status(actor=shop.actor, account=shop.account, fulfilment_id=order.pk, status=status,
                                 tracking_number=tracking_number)


def refused(account, message, action):
    before = pos_state(account)
    with pytest.raises(DomainError) as caught:
        action()
    assert str(caught.value.message) == message
    assert pos_state(account) == before


# ---- creating -----------------------------------------------------------------------------------------------

def test_a_shipping_order_for_a_sale(shop, jam, camille):
    sale = rf.sell(shop, [(jam, 2)], buyer=camille)

    order = ship(shop, sale, source="web")

    assert (order.sale, order.customer, order.outlet, order.status, order.source) == (
        sale, camille, shop.outlet, PENDING, "web")
    assert order.ship_to == "Camille Martin\n3 rue des Lilas\nBâtiment B\n69001 Lyon\nFR"
    event = AuditEvent.objects.get(account=shop.account, action="fulfilment.created")
    assert (event.actor, event.object_id) == (shop.actor, str(order.pk))
    assert event.after == {"sale": sale.pk, "status": "pending", "source": "web"}


def test_an_on_account_sale_can_be_shipped(shop, jam, camille):
    sale = rf.sell(shop, [(jam, 1)], payments=[], buyer=camille, on_account=True)

    assert ship(shop, sale).status == PENDING


def test_the_address_is_kept_as_it_was_when_ordered(shop, jam, camille):
    order = ship(shop, rf.sell(shop, [(jam, 1)], buyer=camille))

    camille.city = "Paris"
    camille.save(update_fields=["city"])

    order.refresh_from_db()
    assert "69001 Lyon" in order.ship_to


def test_a_sale_without_customer_or_address_cannot_be_shipped(shop, jam):
    anonymous = rf.sell(shop, [(jam, 1)])
    refused(shop.account, "The sale has no customer to ship to.", lambda: ship(shop, anonymous))

    no_city = rf.customer(shop, first_name="Paul", last_name="Durand", address_line1="1 place Bellecour")
    to_paul = rf.sell(shop, [(jam, 1)], buyer=no_city)
    refused(shop.account, "Paul Durand has no postal address.", lambda: ship(shop, to_paul))

    no_street = rf.customer(shop, first_name="Léa", last_name="Roux", city="Lyon")
    to_lea = rf.sell(shop, [(jam, 1)], buyer=no_street)
    refused(shop.account, "Léa Roux has no postal address.", lambda: ship(shop, to_lea))


def test_only_finished_sales_are_shipped(shop, jam, camille):
    voided = rf.sell(shop, [(jam, 1)], buyer=camille)
    rf.void(shop, voided)
    refused(shop.account, "Only completed sales can be shipped.", lambda: ship(shop, voided))

    parked = rf.park(shop, [(jam, 1)])
    refused(shop.account, "Only completed sales can be shipped.", lambda: ship(shop, parked))


# ---- moving along -----------------------------------------------------------------------------------------------

@pytest.fixture
def order(shop, jam, camille):
    return ship(shop, rf.sell(shop, [(jam, 1)], buyer=camille))


@pytest.mark.parametrize("path", [
    [PACKED, SHIPPED],
    [CANCELLED],
    [PACKED, CANCELLED],
    [PACKED, PENDING, PACKED, SHIPPED],
])
def test_allowed_steps(shop, order, path):
    for status in path:
        order = move(shop, order, status)

    order.refresh_from_db()
    assert order.status == path[-1]
    events = AuditEvent.objects.filter(account=shop.account, action="fulfilment.status_changed").order_by("id")
    assert [(e.before["status"], e.after["status"]) for e in events] == list(zip([PENDING, *path[:-1]], path,
                                                                                 strict=True))
    assert all(e.actor == shop.actor for e in events)


@pytest.mark.parametrize("path,step,message", [
    ([], SHIPPED, "A pending order cannot become shipped."),
    ([], PENDING, "A pending order cannot become pending."),
    ([], "lost", "A pending order cannot become lost."),
    ([PACKED], PACKED, "A packed order cannot become packed."),
    ([PACKED, SHIPPED], CANCELLED, "A shipped order cannot become cancelled."),
    ([PACKED, SHIPPED], PENDING, "A shipped order cannot become pending."),
    ([CANCELLED], PENDING, "A cancelled order cannot become pending."),
    ([CANCELLED], PACKED, "A cancelled order cannot become packed."),
])
def test_refused_steps_change_nothing(shop, order, path, step, message):
    for status in path:
        order = move(shop, order, status)

    refused(shop.account, message, lambda: move(shop, order, step, tracking_number="6A123"))


def test_the_tracking_number_is_kept_when_shipped(shop, order):
    move(shop, order, PACKED)

    shipped = move(shop, order, SHIPPED, tracking_number="  6A12345678901  ")

    assert (shipped.status, shipped.tracking_number) == (SHIPPED, "6A12345678901")
    event = AuditEvent.objects.filter(action="fulfilment.status_changed").latest("id")
    assert (event.before, event.after) == ({"status": "packed", "tracking_number": ""},
                                           {"status": "shipped", "tracking_number": "6A12345678901"})


def test_another_accounts_order_does_not_exist(shop, order, other_account):
    with pytest.raises(Fulfilment.DoesNotExist):
        fulfilment_set_status(actor=shop.actor, account=other_account, fulfilment_id=order.pk, status=PACKED)
    order.refresh_from_db()
    assert order.status == PENDING


# ---- the page ---------------------------------------------------------------------------------------------------

@pytest.fixture
def orders(shop, jam, camille):
    """One order in each status, by customer first name."""
    made = {}
    for first_name, path in (("Pia", []), ("Kim", [PACKED]), ("Sam", [PACKED, SHIPPED]), ("Cyd", [CANCELLED])):
        buyer = rf.customer(shop, first_name=first_name, last_name="Martin", address_line1="1 rue Haute",
                            postcode="75001", city="Paris")
        order = ship(shop, rf.sell(shop, [(jam, 1)], buyer=buyer))
        for status in path:
            order = move(shop, order, status)
        made[first_name] = order
    return made


@pytest.fixture
def manager_client(client, account):
    client.force_login(member(account, perms.MANAGER, language="en"))
    return client


def shown(response) -> list[str]:
    return sorted(order.customer.first_name for order, _steps in response.context["rows"])


@pytest.mark.parametrize("tab,names", [
    (None, ["Kim", "Pia"]),
    ("open", ["Kim", "Pia"]),
    ("pending", ["Pia"]),
    ("packed", ["Kim"]),
    ("shipped", ["Sam"]),
    ("cancelled", ["Cyd"]),
    ("all", ["Cyd", "Kim", "Pia", "Sam"]),
    ("nonsense", ["Kim", "Pia"]),
])
def test_status_tabs(manager_client, orders, tab, names):
    response = manager_client.get(reverse("retail:fulfilments"), {"status": tab} if tab else {})

    assert response.status_code == 200
    assert shown(response) == names


def test_each_row_offers_its_next_steps(manager_client, orders):
    response = manager_client.get(reverse("retail:fulfilments"), {"status": "all"})

    steps = {order.customer.first_name: [str(label) for _step, label in row_steps]
             for order, row_steps in response.context["rows"]}
    assert steps == {"Pia": ["Mark packed", "Cancel"], "Kim": ["Mark shipped", "Back to pending", "Cancel"],
                     "Sam": [], "Cyd": []}
    text = page_text(response)
    assert "Pia Martin" in text and "1 rue Haute" in text and "Tracking number" in text


def test_the_list_is_this_accounts_only(manager_client, orders, other_account):
    theirs = rf.make_shop(other_account)
    rf.open_register(theirs)
    buyer = rf.customer(theirs, first_name="Zoé", last_name="Ailleurs", address_line1="2 rue Basse", city="Nice")
    ship(theirs, rf.sell(theirs, [(rf.product(theirs, sku="X", name="X", price=100, rate_bp=2000), 1)], buyer=buyer))

    response = manager_client.get(reverse("retail:fulfilments"), {"status": "all"})

    assert "Zoé" not in shown(response) and "Ailleurs" not in page_text(response)


def test_marking_shipped_with_a_tracking_number(manager_client, orders):
    kim = orders["Kim"]

    response = manager_client.post(reverse("retail:fulfilment_status", args=[kim.pk]),
                                   {"status": "shipped", "tracking_number": "6A999", "back": "packed"}, follow=True)

    assert response.redirect_chain == [(reverse("retail:fulfilments") + "?status=packed", 302)]
    assert "Order for Kim Martin: Shipped." in page_text(response)
    kim.refresh_from_db()
    assert (kim.status, kim.tracking_number) == (SHIPPED, "6A999")
    assert shown(response) == []  # nothing left packed


def test_a_refused_step_is_explained_and_changes_nothing(manager_client, orders, account):
    before = pos_state(account)

    response = manager_client.post(reverse("retail:fulfilment_status", args=[orders["Pia"].pk]),
                                   {"status": "shipped", "tracking_number": "6A1", "back": "all"}, follow=True)

    assert response.redirect_chain == [(reverse("retail:fulfilments") + "?status=all", 302)]
    assert "A pending order cannot become shipped." in page_text(response)
    assert pos_state(account) == before


def test_an_unknown_tab_to_go_back_to_is_the_open_one(manager_client, orders):
    response = manager_client.post(reverse("retail:fulfilment_status", args=[orders["Pia"].pk]),
                                   {"status": "packed", "back": "https://evil.example"})

    assert response.url == reverse("retail:fulfilments") + "?status=open"


def test_another_accounts_order_is_not_found(client, orders, other_account, account):
    client.force_login(in_english(owner_of(other_account)))
    before = pos_state(account)

    response = client.post(reverse("retail:fulfilment_status", args=[orders["Pia"].pk]), {"status": "packed"})

    assert response.status_code == 404
    assert pos_state(account) == before


def test_fulfilments_need_their_permission(client, orders, account):
    client.force_login(member(account, perms.CASHIER, language="en"))
    before = pos_state(account)

    assert client.get(reverse("retail:fulfilments")).status_code == 403
    assert client.post(reverse("retail:fulfilment_status", args=[orders["Pia"].pk]),
                       {"status": "packed"}).status_code == 403
    assert pos_state(account) == before
