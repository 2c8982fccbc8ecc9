"""The billing cycle with real workers on a Redis of the test's own (tests/jobs): beat's sweep, one task
per due subscription claimed with a conditional UPDATE; a worker killed mid-charge and two beats at
once: each period charged once, exactly one sale per succeeded payment, none without one."""

import datetime

import pytest
from django.utils import timezone

from payments import services as payment_services
from payments.models import Payment, PaymentAttempt
from payments.sandbox.models import SandboxPaymentIntent
from retail.models import Sale
from subscriptions.models import Subscription
from tests.jobs.workers import celery_app_on, eventually
from tests.subscriptions.builders import monthly_box, subs_shop, subscribe, subscriber

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def due_now(shop, customer, plan) -> Subscription:
    """A subscription whose start date has come (subscribed earlier for today: no fast-path task ran)."""
    sub = subscribe(shop, customer, plan, start_date=timezone.localdate() + datetime.timedelta(days=1))
    Subscription.objects.filter(pk=sub.pk).update(start_date=timezone.localdate(), due_at=timezone.now(),
                                                  next_billing_date=timezone.localdate())
    return sub


def charges(payment: Payment) -> int:
    return SandboxPaymentIntent.objects.filter(idempotency_key=payment_services.charge_key(payment)).count()


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
