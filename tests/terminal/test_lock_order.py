"""Many readers' payments settling at the same moment on PostgreSQL: each payment is settled twice at
once, as the processor's payment_intent.succeeded webhook and the reader's action_succeeded do, from
separate threads with their own connections. Every path takes its locks in the documented order
(docs/architecture.md, "Lock order"), so none deadlocks: every payment succeeds once and pays its sale
once."""

import threading

import pytest
from django.db import connection, transaction

from payments.gateway import get_gateway
from payments.models import Payment
from payments.sandbox.events import hold_events
from payments.services.settling import payment_settle
from retail.models import SalePayment
from retail.services import sales as sale_services
from terminal import driver, services
from terminal.models import ReaderAction
from tests.retail import report_factories as rf
from tests.terminal.builders import present, reader_for

pytestmark = pytest.mark.django_db(transaction=True)

READERS = 10


def _paying_readers(account, count=READERS):
    pairs = []
    for number in range(count):
        shop = rf.make_shop(account, cheque=False)
        rf.open_register(shop)
        scarf = rf.product(shop, sku=f"L-{number}", name="Écharpe", price=2450, rate_bp=2000)
        sale = rf.leave_in_progress(shop, [(scarf, 1)])
        reader = reader_for(shop, label=f"Reader {number}")
        action = services.sale_payment_start(actor=shop.actor, account=account, sale_id=sale.pk,
                                             register_id=shop.register.pk)
        assert driver.action_send(action_id=action.pk).status == "in_progress"
        pairs.append((reader, action, sale))
    return pairs


def _at_once(calls):
    start, errors = threading.Barrier(len(calls)), []

    def run(call):
        start.wait()
        try:
            call()
        except Exception as error:  # noqa: BLE001 - collected and shown by the assertion
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def _settle_as_webhook(payment):
    result = get_gateway(payment.payee).retrieve_payment(payment.processor_payment_id)
    return payment_settle(payment_id=payment.pk, result=result, source="webhook")


def test_a_settlement_never_waits_for_another_sale_of_the_account(account, monkeypatch):
    """No row is shared by two readers' settlements: the first one held open (inside its sale's handler)
    does not hold up the second, not even for the account's row (before: locked by every settlement)."""
    (first_reader, first, _s1), (second_reader, second, _s2) = _paying_readers(account, 2)
    with hold_events():
        present(first_reader)
        present(second_reader)
    inside, release = threading.Event(), threading.Event()
    real = sale_services.sale_add_payment

    def held(**kwargs):
        if kwargs["processor_payment_id"] == first.payment_id:
            inside.set()
            release.wait(30)
        return real(**kwargs)

    monkeypatch.setattr(sale_services, "sale_add_payment", held)
    errors = []

    def settle_first():
        try:
            _settle_as_webhook(Payment.objects.get(pk=first.payment_id))
        except Exception as error:  # noqa: BLE001 - shown by the assertion
            errors.append(repr(error))
        finally:
            inside.set()
            connection.close()

    thread = threading.Thread(target=settle_first)
    thread.start()
    try:
        assert inside.wait(30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '3s'")
            settled = _settle_as_webhook(Payment.objects.get(pk=second.payment_id))
    finally:
        release.set()
        thread.join(30)
    assert errors == []
    assert settled.status == "succeeded"
    assert Payment.objects.get(pk=first.payment_id).status == "succeeded"


def test_simultaneous_settlements_of_many_readers_never_deadlock(account):
    pairs = _paying_readers(account)
    with hold_events():  # the processor's webhooks are played by the threads below
        for reader, _action, _sale in pairs:
            present(reader)
    calls = []
    for _reader, action, _sale in pairs:
        payment = Payment.objects.get(pk=action.payment_id)
        calls += [lambda payment=payment: _settle_as_webhook(payment),
                  lambda action=action: driver.action_check(action_id=action.pk)]
    errors = _at_once(calls)

    assert errors == []
    assert Payment.objects.filter(account=account, status="succeeded").count() == READERS
    for _reader, _action, sale in pairs:
        assert SalePayment.objects.filter(sale=sale).count() == 1
        sale.refresh_from_db()
        assert sale.balance_due == 0
    assert set(ReaderAction.objects.filter(pk__in=[a.pk for _r, a, _s in pairs]).values_list("status", flat=True)) \
        <= {"succeeded", "in_progress"}


def test_a_mode_change_while_the_driver_finishes_a_step_never_deadlocks(shop, reader, monkeypatch):
    """The driver finishing a standalone step and the merchant switching the reader's mode at that moment
    both lock the reader, then its action (before: the driver locked the action, then the reader)."""
    from tests.terminal.test_driver import standalone

    standalone(shop, reader)
    amount = ReaderAction.objects.get(reader=reader, status="in_progress")
    inside, release = threading.Event(), threading.Event()
    real_save = ReaderAction.save
    finishing = threading.local()

    def held_save(self, *args, **kwargs):
        if getattr(finishing, "on", False) and self.pk == amount.pk:
            inside.set()
            release.wait(30)
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(ReaderAction, "save", held_save)

    def finish():
        finishing.on = True
        driver.finish(amount.pk, failure_code="invalid_amount")

    def switch():
        assert inside.wait(30)
        services.reader_set_mode(actor=shop.actor, account=shop.account, reader_id=reader.pk, mode="integrated")

    def let_go():
        assert inside.wait(30)
        threading.Event().wait(1.5)  # the switch is waiting by now
        release.set()

    errors = _at_once([finish, switch, let_go])

    assert errors == []
    reader.refresh_from_db()
    assert reader.mode == "integrated"
    assert ReaderAction.objects.get(pk=amount.pk).status == "failed"
