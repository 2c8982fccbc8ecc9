"""Registers: opening with a cash float, closing with what was counted against what the sales say (per
payment type), the close form on the sell screen and the closure page."""

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import AuditEvent
from posbackoffice.errors import DomainError
from retail.models import RegisterClosureLine, RegisterSession, Sale
from retail.services import registers as services
from retail.services import sales as sale_services
from retail.services.shop import payment_type_create
from tests.factories import RegisterFactory, member
from tests.retail import report_factories as rf
from tests.retail.builders import choose_register, in_english, page_text, paris, pos_state, staff_with

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    """Services build their messages in the active language, and a request in an earlier test of this process
    may have left French active: the assertions below read the English source strings."""
    with translation.override("en"):
        yield


@pytest.fixture
def shop(account):
    return rf.make_shop(account)


@pytest.fixture
def jam(shop):
    return rf.product(shop, sku="CONF-1", name="Confiture", price=333, rate_bp=550)


@pytest.fixture
def mug(shop):
    return rf.product(shop, sku="MUG-1", name="Mug", price=1250, rate_bp=2000)


def open_register(shop, opening_float=5000):
    return services.register_open(actor=shop.actor, account=shop.account, register_id=shop.register.pk,
                                  opening_float=opening_float)


def refused(account, message, action):
    before = pos_state(account)
    with pytest.raises(DomainError) as caught:
        action()
    assert str(caught.value.message) == message
    assert pos_state(account) == before


def closure_rows(session):
    return [(line.payment_type.name, line.expected, line.counted, line.difference)
            for line in session.closure_lines.select_related("payment_type")]


# ---- opening ----------------------------------------------------------------------------------------------

def test_opening_with_a_float(shop):
    session = open_register(shop, 5000)

    assert (session.register, session.status, session.opening_float, session.opened_by) == (
        shop.register, RegisterSession.Status.OPEN, 5000, shop.actor)
    event = AuditEvent.objects.get(account=shop.account, action="register.opened")
    assert (event.actor, event.object_id) == (shop.actor, str(session.pk))
    assert (event.after["status"], event.after["opening_float"]) == ("open", 5000)


def test_a_register_cannot_be_opened_twice(shop):
    open_register(shop)

    refused(shop.account, f"{shop.register.name} is already open.", lambda: open_register(shop, 1000))
    assert RegisterSession.objects.filter(register=shop.register).count() == 1


def test_a_negative_float_is_refused(shop):
    refused(shop.account, "The opening float cannot be negative.", lambda: open_register(shop, -1))
    assert not RegisterSession.objects.filter(register=shop.register).exists()


def test_a_switched_off_register_cannot_be_opened(shop):
    shop.register.is_active = False
    shop.register.save(update_fields=["is_active"])

    refused(shop.account, "This register is switched off.", lambda: open_register(shop))


def test_each_register_of_an_outlet_opens_on_its_own(shop):
    open_register(shop)
    second = RegisterFactory(outlet=shop.outlet, account=shop.account)

    other = services.register_open(actor=shop.actor, account=shop.account, register_id=second.pk, opening_float=0)

    assert other.status == RegisterSession.Status.OPEN
    assert RegisterSession.objects.filter(account=shop.account, status="open").count() == 2


# ---- closing ----------------------------------------------------------------------------------------------

def test_closing_compares_counted_with_expected_per_payment_type(shop, jam, mug):
    voucher = payment_type_create(actor=shop.actor, account=shop.account, name="Bon cadeau")
    session = open_register(shop, 5000)
    buyer = rf.customer(shop)
    rf.sell(shop, [(jam, 3)], payments=[(shop.cash, 2000)])  # 9,99 € in the drawer, change given
    rf.sell(shop, [(mug, 1)], payments=[(shop.cheque, 1250)])
    returned = rf.sell(shop, [(jam, 1)])
    rf.give_back(shop, returned, {jam: 1}, shop.cash)  # 3,33 € in then out
    rf.sell(shop, [(mug, 1)], payments=[(shop.cash, 300)], buyer=buyer, on_account=True)

    closed = services.register_close(actor=shop.actor, account=shop.account, session_id=session.pk,
                                     counted={shop.cash.pk: 6200, voucher.pk: 500}, note="  manque 0,99 €  ")

    # Cash: 50,00 + 9,99 + 3,33 − 3,33 + 3,00 = 62,99 €; the cheques were not counted (taken as expected).
    assert closure_rows(closed) == [("Espèces", 6299, 6200, -99), ("Bon cadeau", 0, 500, 500),
                                    ("Chèque", 1250, 1250, 0)]
    assert (closed.status, closed.closed_by, closed.closing_note) == (RegisterSession.Status.CLOSED, shop.actor,
                                                                      "manque 0,99 €")
    assert closed.closed_at is not None
    event = AuditEvent.objects.get(account=shop.account, action="register.closed")
    assert event.actor == shop.actor
    assert (event.before["status"], event.after["status"]) == ("open", "closed")
    assert event.after["lines"] == {str(shop.cash.pk): [6299, 6200], str(voucher.pk): [0, 500],
                                    str(shop.cheque.pk): [1250, 1250]}


def test_a_closed_session_counts_only_its_own_payments(shop, jam):
    first = open_register(shop, 1000)
    rf.sell(shop, [(jam, 1)])
    rf.close_register(shop, first, counted={shop.cash.pk: 1333})

    second = open_register(shop, 2000)
    rf.sell(shop, [(jam, 3)])
    closed = services.register_close(actor=shop.actor, account=shop.account, session_id=second.pk,
                                     counted={shop.cash.pk: 2999})

    assert closure_rows(closed) == [("Espèces", 2999, 2999, 0)]
    assert closure_rows(first) == [("Espèces", 1333, 1333, 0)]


def test_a_later_payment_counts_in_the_session_open_when_it_is_taken(shop, jam):
    first = open_register(shop, 0)
    buyer = rf.customer(shop)
    sale = rf.sell(shop, [(jam, 3)], payments=[], buyer=buyer, on_account=True)
    rf.close_register(shop, first, counted={})
    second = open_register(shop, 0)

    sale_services.sale_take_payment(actor=shop.actor, account=shop.account, sale_id=sale.pk,
                                    payment_type_id=shop.cash.pk, amount=999)
    closed = services.register_close(actor=shop.actor, account=shop.account, session_id=second.pk, counted={})

    assert closure_rows(closed) == [("Espèces", 999, 999, 0)]
    assert closure_rows(first) == [("Espèces", 0, 0, 0)]


def test_closing_is_refused_while_a_sale_with_lines_is_in_progress(shop, jam):
    session = open_register(shop)
    rf.leave_in_progress(shop, [(jam, 1)])

    refused(shop.account, "A sale is in progress on this register: complete, park or discard it before closing.",
            lambda: services.register_close(actor=shop.actor, account=shop.account, session_id=session.pk,
                                            counted={shop.cash.pk: 5000}))
    assert not RegisterClosureLine.objects.exists()


def test_an_empty_cart_or_a_parked_sale_does_not_hold_the_register_open(shop, jam):
    session = open_register(shop)
    rf.park(shop, [(jam, 1)])
    sale_services.sale_start(actor=shop.actor, account=shop.account, register_id=shop.register.pk)

    closed = services.register_close(actor=shop.actor, account=shop.account, session_id=session.pk,
                                     counted={shop.cash.pk: 5000})

    assert closed.status == RegisterSession.Status.CLOSED


def test_closing_twice_or_with_a_negative_count_where_nothing_was_paid_out_is_refused(shop):
    session = open_register(shop)
    refused(shop.account, "Espèces cannot be counted below zero: only a payment type that paid out more than it "
                          "took in during this session can.", lambda: services.register_close(
        actor=shop.actor, account=shop.account, session_id=session.pk, counted={shop.cash.pk: -1}))
    assert not RegisterClosureLine.objects.exists()

    rf.close_register(shop, session, counted={shop.cash.pk: 5000})
    refused(shop.account, "This register is already closed.", lambda: services.register_close(
        actor=shop.actor, account=shop.account, session_id=session.pk, counted={shop.cash.pk: 5000}))


@pytest.fixture
def refund_day(shop, jam, mug):
    """Yesterday's session sold a mug by cheque and jam in cash; today's session (no float) only gives
    them back: it pays out more than it takes in, in both types. Returns today's open session."""
    yesterday = open_register(shop, 0)
    by_cheque = rf.sell(shop, [(mug, 1)], payments=[(shop.cheque, 1250)])
    in_cash = rf.sell(shop, [(jam, 1)])
    rf.close_register(shop, yesterday, counted={})
    today = open_register(shop, 0)
    rf.give_back(shop, by_cheque, {mug: 1}, shop.cheque)
    rf.give_back(shop, in_cash, {jam: 1}, shop.cash)
    return today


def test_a_day_of_refunds_closes_below_zero_with_the_difference(shop, refund_day):
    assert services.expected_amounts(refund_day) == {shop.cash.pk: -333, shop.cheque.pk: -1250}

    closed = services.register_close(actor=shop.actor, account=shop.account, session_id=refund_day.pk,
                                     counted={shop.cash.pk: -300})

    # 3,33 € went out of the drawer, 3,00 € are missing from it: 0,33 € more than the sales say.
    assert closure_rows(closed) == [("Espèces", -333, -300, 33), ("Chèque", -1250, -1250, 0)]
    event = AuditEvent.objects.get(account=shop.account, action="register.closed", object_id=str(refund_day.pk))
    assert event.after["lines"] == {str(shop.cash.pk): [-333, -300], str(shop.cheque.pk): [-1250, -1250]}


def test_after_closing_the_register_opens_again_and_the_empty_cart_follows(shop, jam):
    first = open_register(shop)
    cart = sale_services.sale_start(actor=shop.actor, account=shop.account, register_id=shop.register.pk)
    rf.close_register(shop, first, counted={})

    with pytest.raises(DomainError, match="Open the register before selling."):
        sale_services.sale_start(actor=shop.actor, account=shop.account, register_id=shop.register.pk)
    second = open_register(shop, 0)

    again = sale_services.sale_start(actor=shop.actor, account=shop.account, register_id=shop.register.pk)
    assert (again.pk, again.session) == (cart.pk, second)


# ---- the close form and the closure page -------------------------------------------------------------------

@pytest.fixture
def owner_en(shop):
    return in_english(shop.actor)


@pytest.fixture
def till_client(client, shop, owner_en):
    client.force_login(owner_en)
    choose_register(client, shop.register)
    return client


def test_the_close_form_closes_and_shows_the_closure(till_client, shop, jam):
    session = open_register(shop, 5000)
    rf.sell(shop, [(jam, 3)], payments=[(shop.cash, 999)])
    rf.sell(shop, [(jam, 1)], payments=[(shop.cheque, 333)])

    form = till_client.get(reverse("retail:sell_close"))
    assert form.status_code == 200
    assert "€59.99" in page_text(form)  # what the drawer should hold

    response = till_client.post(reverse("retail:sell_close"), {
        f"counted_{shop.cash.pk}": "59.50", f"counted_{shop.cheque.pk}": "3.33", "note": "Fin de journée"})

    assert response.status_code == 302
    assert response.url == reverse("retail:sell_closure", args=[session.pk])
    session.refresh_from_db()
    assert session.status == RegisterSession.Status.CLOSED
    assert closure_rows(session) == [("Espèces", 5999, 5950, -49), ("Chèque", 333, 333, 0)]

    page = till_client.get(response.url)
    text = page_text(page)
    assert page.status_code == 200
    for shown in (f"Closure of {shop.register}", "Espèces", "€59.99", "€59.50", "-€0.49", "Chèque", "€3.33",
                  "€63.32", "€62.83", "Fin de journée", "€50.00"):
        assert shown in text, shown


def test_the_close_form_refuses_with_a_sale_in_progress(till_client, shop, jam):
    session = open_register(shop)
    rf.leave_in_progress(shop, [(jam, 1)])
    before = pos_state(shop.account)

    response = till_client.post(reverse("retail:sell_close"), {f"counted_{shop.cash.pk}": "50.00"})

    assert response.status_code == 422
    assert "A sale is in progress on this register: complete, park or discard it before closing." in page_text(
        response)
    assert pos_state(shop.account) == before
    session.refresh_from_db()
    assert session.status == RegisterSession.Status.OPEN


def test_the_close_form_needs_the_cash_count(till_client, shop):
    open_register(shop)
    before = pos_state(shop.account)

    response = till_client.post(reverse("retail:sell_close"), {f"counted_{shop.cash.pk}": ""})
    assert response.status_code == 422
    assert "This field is required." in page_text(response)

    response = till_client.post(reverse("retail:sell_close"), {f"counted_{shop.cash.pk}": "-3"})
    assert response.status_code == 422
    assert ("Espèces cannot be counted below zero: only a payment type that paid out more than it took in during "
            "this session can.") in page_text(response)
    assert pos_state(shop.account) == before
    session = RegisterSession.objects.get(register=shop.register)
    assert session.status == RegisterSession.Status.OPEN and not RegisterClosureLine.objects.exists()


def test_the_close_form_takes_negative_counts_and_every_page_shows_them(till_client, shop, refund_day):
    form = till_client.get(reverse("retail:sell_close"))
    assert "-€3.33" in page_text(form) and "-€12.50" in page_text(form)  # what the sales say went out

    response = till_client.post(reverse("retail:sell_close"), {
        f"counted_{shop.cash.pk}": "-3.00", f"counted_{shop.cheque.pk}": "-12.50"})

    assert response.status_code == 302
    closure = page_text(till_client.get(response.url))
    for shown in ("-€3.33", "-€3.00", "€0.33", "-€12.50", "-€15.83", "-€15.50"):
        assert shown in closure, shown
    till_client.force_login(in_english(staff_with(shop.account, "view_reports", "export_data")))
    report = page_text(till_client.get(reverse("retail:report_closures")))
    assert "-€15.83" in report and "-€15.50" in report and "€0.33" in report
    detail = page_text(till_client.get(reverse("retail:report_closure_detail", args=[refund_day.pk])))
    assert "-€3.33" in detail and "-€3.00" in detail and "-€12.50" in detail
    export = till_client.get(reverse("retail:report_closures"), {"export": "csv"})
    rows = b"".join(export.streaming_content).decode("utf-8-sig").splitlines() if export.streaming \
        else export.content.decode("utf-8-sig").splitlines()
    assert [row.rsplit(",", 4)[1:] for row in rows[1:3]] == [["Espèces", "-3.33", "-3.00", "0.33"],
                                                             ["Chèque", "-12.50", "-12.50", "0.00"]]


def test_a_register_that_is_not_open_cannot_be_closed(till_client, shop):
    response = till_client.get(reverse("retail:sell_close"))

    assert response.status_code == 302 and response.url == reverse("retail:sell")


def test_the_closure_page_of_an_open_session_or_another_account_is_not_found(till_client, shop, other_account):
    session = open_register(shop)
    assert till_client.get(reverse("retail:sell_closure", args=[session.pk])).status_code == 404

    elsewhere = rf.make_shop(other_account)
    theirs = rf.open_register(elsewhere)
    rf.close_register(elsewhere, theirs, counted={})
    assert till_client.get(reverse("retail:sell_closure", args=[theirs.pk])).status_code == 404


def test_the_closure_page_needs_the_sell_permission(client, shop):
    session = open_register(shop)
    rf.close_register(shop, session, counted={})
    client.force_login(staff_with(shop.account, "view_reports"))

    assert client.get(reverse("retail:sell_closure", args=[session.pk])).status_code == 403

    client.force_login(member(shop.account))  # a cashier may see it
    assert client.get(reverse("retail:sell_closure", args=[session.pk])).status_code == 200


def test_other_sales_statuses_are_untouched_by_closing(shop, jam):
    session = open_register(shop)
    parked = rf.park(shop, [(jam, 2)])

    rf.close_register(shop, session, counted={})

    assert Sale.objects.get(pk=parked.pk).status == Sale.Status.PARKED


def test_opening_and_closing_at_given_moments(shop):
    opened = services.register_open(actor=shop.actor, account=shop.account, register_id=shop.register.pk,
                                    opening_float=5000, now=paris(2026, 3, 10, 9, 50))
    closed = services.register_close(actor=shop.actor, account=shop.account, session_id=opened.pk,
                                     counted={shop.cash.pk: 4950}, now=paris(2026, 3, 10, 19, 10))

    assert (closed.opened_at, closed.closed_at) == (paris(2026, 3, 10, 9, 50), paris(2026, 3, 10, 19, 10))
    events = AuditEvent.objects.filter(account=shop.account, object_type="retail.registersession",
                                       object_id=str(opened.pk)).order_by("pk")
    assert [event.created_at for event in events] == [paris(2026, 3, 10, 9, 50), paris(2026, 3, 10, 19, 10)]
