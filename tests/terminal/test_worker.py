"""The driver's event-driven loop with a real worker: once the reader is in standalone mode, nothing in
this process checks the reader again — each thing the person does at the simulated WisePOS E becomes the
processor's webhook event, which the worker handles (payments stores it, terminal's handler settles the
action and sends the next step): amount → payment → receipt → amount. No task waits on the reader."""

import pytest

from payments.models import Payment
from payments.settings_services import payment_settings_update
from terminal import services
from terminal.models import ReaderAction
from tests.jobs.conftest import private_redis, start_worker  # noqa: F401 - the jobs tests' worker fixtures
from tests.jobs.workers import celery_app_on, eventually
from tests.retail import report_factories as rf
from tests.terminal.builders import answer, present, reader_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def open_step(reader, kind):
    return ReaderAction.objects.filter(reader=reader, status="in_progress", kind=kind).exists()


def test_one_worker_drives_the_standalone_loop_from_webhook_events(account, private_redis, start_worker):  # noqa: F811
    shop = rf.make_shop(account, cheque=False)
    rf.open_register(shop)
    reader = reader_for(shop)
    worker = start_worker(concurrency=2)
    with celery_app_on(private_redis.url(1)):
        payment_settings_update(actor=shop.actor, account=account, processor="integrated",
                                cash_discount_enabled=False, payout_schedule="daily", standalone_enabled=True)
        services.reader_set_mode(actor=shop.actor, account=account, reader_id=reader.pk, mode="standalone")
        assert open_step(reader, "amount")

        answer(reader, "7,50")
        eventually(lambda: open_step(reader, "payment"), what="the payment sent to the reader", logs=[worker.log])
        present(reader)
        eventually(lambda: open_step(reader, "receipt"), what="the receipt screen", logs=[worker.log])
        answer(reader, None)
        eventually(lambda: ReaderAction.objects.filter(reader=reader, kind="amount").count() == 2
                   and open_step(reader, "amount"), what="the next amount", logs=[worker.log])

    payment = Payment.objects.get(mode="standalone")
    assert (payment.amount, payment.status, payment.sale_id) == (750, "succeeded", None)
