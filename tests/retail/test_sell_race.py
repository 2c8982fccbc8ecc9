"""Two first actions on the same register at once (two tabs, two cashiers on one till): each runs in its
own thread with its own database connection, so the locks are PostgreSQL's own. One sale is started,
both actions land in it, and neither answers an error."""

import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from accounts import permissions as perms
from accounts.models import AuditEvent
from retail.models import Sale
from retail.services.sales import sale_add_product
from tests.factories import member
from tests.retail import report_factories as rf
from tests.retail.builders import choose_register

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 10  # seconds; far more than any step takes


@pytest.fixture
def till(account):
    """The shop with its register open and no sale yet, and a jam to sell."""
    shop = rf.make_shop(account)
    rf.open_register(shop)
    return shop, rf.product(shop, sku="CONF-1", name="Confiture d'abricot", price=333, rate_bp=550)


def in_thread(target) -> tuple[threading.Thread, list]:
    """Run `target` in a thread of its own (its own connection, closed at the end); exceptions are kept."""
    errors = []

    def run():
        try:
            target()
        except Exception as error:  # noqa: BLE001 - the test reports whatever the thread raised
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def the_sale_of(shop) -> Sale:
    return Sale.objects.get(register=shop.register, status=Sale.Status.OPEN)


def test_the_second_first_action_waits_for_the_first_and_adds_to_its_sale(till):
    shop, jam = till
    first_added, release = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():  # the first tab's action, not committed yet
            sale_add_product(actor=shop.actor, account=shop.account, product_id=jam.pk,
                             register_id=shop.register.pk)
            first_added.set()
            assert release.wait(WAIT)

    def second():
        assert first_added.wait(WAIT)
        sale_add_product(actor=shop.actor, account=shop.account, product_id=jam.pk, register_id=shop.register.pk)

    first_thread, first_errors = in_thread(first)
    second_thread, second_errors = in_thread(second)
    assert first_added.wait(WAIT)
    second_thread.join(timeout=1)
    assert second_thread.is_alive()  # queued on the register session's lock while the first is uncommitted
    release.set()
    first_thread.join(WAIT)
    second_thread.join(WAIT)

    assert first_errors == second_errors == []
    sale = the_sale_of(shop)
    assert sale.lines.get().quantity == 2
    assert AuditEvent.objects.filter(account=shop.account, action="sale.started").count() == 1


def test_two_tabs_adding_at_the_same_moment_share_one_sale(till):
    shop, jam = till
    cashier = member(shop.account, perms.CASHIER, language="en")
    tabs = []
    for _ in range(2):
        tab = Client()
        tab.force_login(cashier)
        choose_register(tab, shop.register)
        assert tab.get(reverse("retail:sell")).status_code == 200
        tabs.append(tab)
    assert not Sale.objects.exists()
    together = threading.Barrier(len(tabs))
    statuses = []

    def add(tab):
        def action():
            together.wait(WAIT)
            statuses.append(tab.post(reverse("retail:sell_add"), {"product": jam.pk},
                                     headers={"HX-Request": "true"}).status_code)
        return action

    threads = [in_thread(add(tab)) for tab in tabs]
    for thread, _errors in threads:
        thread.join(WAIT)

    assert [errors for _thread, errors in threads] == [[], []]
    assert statuses == [200, 200]
    assert Sale.objects.count() == 1 and the_sale_of(shop).lines.get().quantity == 2
