"""The billing cycle with real workers on a Redis of the test's own (tests/jobs): beat's sweep, one task
per due subscription claimed with a conditional UPDATE; a worker killed mid-charge and two beats at
once: each period charged once, exactly one sale per succeeded payment, none without one."""

import datetime

import pytest
from django.utils import timezone

from payments.models import Payment, PaymentAttempt
from payments.sandbox.models import SandboxPaymentIntent
from payments.services.charges import charge_key
from retail.models import Sale
from subscriptions.models import Subscription
from subscriptions.periods import shop_today
from tests.jobs.workers import celery_app_on, eventually
from tests.subscriptions.builders import monthly_box, subs_shop, subscribe, subscriber

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def due_now(shop, customer, plan) -> Subscription:
    """A subscription whose start date has come (subscribed earlier for today: no fast-path task ran).
    Today in the shop's time zone: between 23:00 and midnight UTC, Paris is already tomorrow."""
    today = shop_today(shop.account, timezone.now())
    sub = subscribe(shop, customer, plan, start_date=today + datetime.timedelta(days=1))
    Subscription.objects.filter(pk=sub.pk).update(start_date=today, due_at=timezone.now(), next_billing_date=today)
    return sub


def charges(payment: Payment) -> int:
    return SandboxPaymentIntent.objects.filter(idempotency_key=charge_key(payment)).count()


def cycle_payments():
    return Payment.objects.filter(purpose=Payment.Purpose.SUBSCRIPTION_CYCLE)


def test_a_worker_killed_mid_cycle_charges_once_and_the_sale_follows(account, private_redis, start_worker):
    from subscriptions.tasks import sweep_due_subscriptions

    shop = subs_shop(account)
    sub = due_now(shop, subscriber(shop), monthly_box(shop))
    slow = start_worker(JOBS_TEST_CHARGE_PAUSE="60")
    with celery_app_on(private_redis.url(1)):
        assert sweep_due_subscriptions() == 1

    # The worker claimed the subscription, wrote the payment and sent the charge; the processor took it.
    eventually(lambda: cycle_payments().exists() and charges(cycle_payments().get()), logs=[slow.log],
               what="the charge reaching the processor")
    slow.kill()
    payment = cycle_payments().get()
    assert payment.status == Payment.Status.PENDING and not Sale.objects.filter(account=account).exists()
    assert Subscription.objects.get(pk=sub.pk).lease_until > timezone.now()  # held by the dead worker

    # Its claims expire; its message comes back, and two beats sweep again: three tasks, one claim.
    past = timezone.now() - datetime.timedelta(seconds=1)
    Subscription.objects.filter(pk=sub.pk).update(lease_until=past)
    PaymentAttempt.objects.filter(payment=payment).update(lease_until=past)
    fresh = start_worker(JOBS_TEST_VISIBILITY_TIMEOUT="1")
    with celery_app_on(private_redis.url(1)):
        assert sweep_due_subscriptions() == 1
        sweep_due_subscriptions()

    eventually(lambda: Subscription.objects.get(pk=sub.pk).cycles_billed == 1,
               what="the subscription renewed", logs=[fresh.log])
    eventually(lambda: Subscription.objects.get(pk=sub.pk).lease_until is None, what="the claim released",
               logs=[fresh.log])
    assert cycle_payments().count() == 1 and charges(payment) == 1
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    sale = Sale.objects.get(account=account)
    assert sale.payments.get().processor_payment_id == payment.pk


def test_two_beats_at_once_bill_each_subscription_once(account, private_redis, start_worker):
    from subscriptions.tasks import sweep_due_subscriptions

    shop = subs_shop(account)
    plan = monthly_box(shop, ships=False)
    subs = [due_now(shop, subscriber(shop, first_name=f"Client{n}"), plan) for n in range(4)]
    with celery_app_on(private_redis.url(1)):
        assert sweep_due_subscriptions() == 4
        assert sweep_due_subscriptions(batch=2) == 4  # a second beat, batching its ids
    worker = start_worker(JOBS_TEST_CHARGE_PAUSE="0.5", concurrency=6)

    eventually(lambda: Subscription.objects.filter(cycles_billed=1, lease_until=None).count() == 4,
               what="every subscription billed", logs=[worker.log])
    assert cycle_payments().count() == 4
    assert all(charges(payment) == 1 for payment in cycle_payments())
    assert Sale.objects.filter(account=account).count() == 4
    for sub in subs:
        assert Sale.objects.filter(customer_id=sub.customer_id).count() == 1


def test_redis_restarted_during_a_billing_run_charges_each_due_subscription_once(
        account, private_redis, start_worker):
    """The broker (its own redis-server, no persistence) stops and comes back empty while the workers are
    mid-run: the messages it held are lost, the charges in flight finish on the database, and the next
    beats' sweeps bill what is still due — every subscription charged exactly once, one sale per paid
    cycle, no sale without its payment."""
    from subscriptions.tasks import sweep_due_subscriptions

    shop = subs_shop(account)
    plan = monthly_box(shop, ships=False)
    subs = [due_now(shop, subscriber(shop, first_name=f"Client{n}"), plan) for n in range(8)]
    worker = start_worker(JOBS_TEST_CHARGE_PAUSE="0.5", JOBS_TEST_VISIBILITY_TIMEOUT="1", concurrency=2)
    with celery_app_on(private_redis.url(1)):
        assert sweep_due_subscriptions() == 8

    eventually(lambda: cycle_payments().exists(), what="the billing run under way", logs=[worker.log])
    private_redis.stop()  # mid-run: some charges made, some in flight, the rest still queued
    private_redis.start()  # back, empty: the queued messages are gone
    assert Subscription.objects.filter(cycles_billed=1).count() < 8

    def all_billed() -> bool:
        if Subscription.objects.filter(cycles_billed=1, lease_until=None).count() == 8:
            return True
        with celery_app_on(private_redis.url(1)):
            sweep_due_subscriptions()  # the beat, every minute in production
        return False

    eventually(all_billed, timeout=90, what="every subscription billed after the restart", logs=[worker.log])
    assert cycle_payments().count() == 8
    assert cycle_payments().filter(status=Payment.Status.SUCCEEDED).count() == 8
    assert all(charges(payment) == 1 for payment in cycle_payments())
    sales = Sale.objects.filter(account=account)
    assert sales.count() == 8
    for sub in subs:
        sale = sales.get(customer_id=sub.customer_id)
        paid_by = sale.payments.get().processor_payment_id
        assert cycle_payments().get(pk=paid_by).customer_id == sub.customer_id
