"""The background-work pattern (posbackoffice.jobs) against real faults, with real workers on a Redis of
each test's own: a worker killed with SIGKILL mid-charge loses nothing and never charges twice; Redis
stopped during a sale: the sale completes and its receipt arrives once Redis is back; two sweeps at once
enqueue duplicates that claim once; a failed delivery comes back through Celery's retry."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import permissions as perms
from accounts.models import AuditEvent, OutgoingEmail
from payments.models import Payment, PaymentAttempt
from payments.sandbox import services as processor
from payments.sandbox.models import SandboxIdempotencyKey, SandboxPaymentIntent
from payments.services.charges import charge_key, payment_create
from posbackoffice import outbox
from retail.models import Sale
from tests.factories import member
from tests.jobs.workers import celery_app_on, eventually
from tests.retail import report_factories as rf
from tests.retail.builders import choose_register, page_text

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
HX = {"HX-Request": "true"}


def pending_card_payment(account, *, waited: datetime.timedelta) -> Payment:
    """A card payment of a sale in progress at a register of its own, written (our row first) `waited`
    ago and never sent: the cashier's request died before its processor call."""
    shop = new_shop(account)
    scarf = rf.product(shop, sku=f"ECH-{shop.register.pk}", name="Écharpe", price=2450, rate_bp=2000)
    sale = rf.leave_in_progress(shop, [(scarf, 1)])
    method = processor.payment_method_create(number="4242424242424242", expiry="12/40", cvc="123")["id"]
    payment = payment_create(actor=shop.actor, account=shop.account, amount=2450, currency="EUR",
                             method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.INTEGRATED,
                             sale_id=sale.pk, payment_method_id=method)
    PaymentAttempt.objects.filter(payment=payment).update(created_at=timezone.now() - waited)
    return payment


def charges_with_key(key: str) -> int:
    return SandboxPaymentIntent.objects.filter(idempotency_key=key).count()


def new_shop(account) -> rf.Shop:
    shop = rf.make_shop(account, cheque=False)
    rf.open_register(shop)
    return shop


def test_a_worker_killed_mid_charge_loses_nothing_and_never_charges_twice(account, private_redis, start_worker):
    from payments.tasks import reconcile_payments

    payment = pending_card_payment(account, waited=datetime.timedelta(minutes=2))
    key = charge_key(payment)
    slow = start_worker(JOBS_TEST_CHARGE_PAUSE="60")
    with celery_app_on(private_redis.url(1)):
        assert reconcile_payments() == 1  # beat's sweep: one task for the payment

    # The worker claimed the attempt and sent the charge; the processor took it. Then kill -9.
    eventually(lambda: charges_with_key(key), what="the charge reaching the processor", logs=[slow.log])
    slow.kill()
    payment.refresh_from_db()
    attempt = PaymentAttempt.objects.get(payment=payment)
    assert payment.status == Payment.Status.PENDING and attempt.tries == 1
    assert attempt.lease_until > timezone.now()  # still claimed by the dead worker: nobody else sends

    # Time passes: the dead worker's claim expires. Its message comes back to the queue (visibility
    # timeout, short here) and beat's next sweep finds the payment due again: two tasks, one claim.
    PaymentAttempt.objects.filter(pk=attempt.pk).update(lease_until=timezone.now() - datetime.timedelta(seconds=1))
    fresh = start_worker(JOBS_TEST_VISIBILITY_TIMEOUT="1")
    with celery_app_on(private_redis.url(1)):
        assert reconcile_payments() == 1

    eventually(lambda: Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED,
               what="the payment settling", logs=[fresh.log])
    sale = Sale.objects.get(pk=payment.sale_id)
    assert sale.balance_due == 0 and sale.payments.count() == 1  # paid once, left for "Complete sale"
    assert charges_with_key(key) == 1 and SandboxIdempotencyKey.objects.filter(key=key).count() == 1
    assert PaymentAttempt.objects.get(pk=attempt.pk).tries == 1  # found at the processor, never sent again
    assert AuditEvent.objects.filter(action="payment.succeeded").count() == 1


def test_two_sweeps_at_once_enqueue_duplicates_that_claim_once(account, private_redis, start_worker):
    from payments.tasks import reconcile_payments

    payments = [pending_card_payment(account, waited=datetime.timedelta(minutes=2)) for _ in range(3)]
    with celery_app_on(private_redis.url(1)):
        # Two beats (a misconfigured second one, or a sweep overlapping a slow one): every row twice.
        assert reconcile_payments() == 3
        assert reconcile_payments() == 3
    worker = start_worker(JOBS_TEST_CHARGE_PAUSE="1", concurrency=4)

    eventually(lambda: not Payment.objects.filter(status=Payment.Status.PENDING).exists(),
               what="every payment settling", logs=[worker.log])
    for payment in payments:
        key = charge_key(payment)
        assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
        assert charges_with_key(key) == 1
        assert PaymentAttempt.objects.get(payment=payment).tries == 1  # one claim sent it, F() counted it
    assert AuditEvent.objects.filter(action="payment.succeeded").count() == 3
    for sale in Sale.objects.filter(pk__in=[payment.sale_id for payment in payments]):
        assert sale.balance_due == 0 and sale.payments.count() == 1  # each paid once


def test_redis_stopped_during_a_sale_the_sale_completes_and_its_receipt_arrives_after(
        client, account, private_redis, start_worker, settings, caplog):
    from accounts.tasks import send_due_emails

    shop = new_shop(account)
    # The web process's cache and broker are this test's Redis, which stops before the sale starts.
    settings.CACHES = {"default": {**settings.CACHES["default"], "BACKEND": "posbackoffice.cache.FailOpenRedisCache",
                                   "LOCATION": private_redis.url(0)}}
    cashier = member(account, perms.CASHIER, language="en")
    jam = rf.product(shop, sku="CONF-1", name="Confiture d'abricot", price=333, rate_bp=550)
    client.force_login(cashier)
    choose_register(client, shop.register)
    private_redis.stop()

    with celery_app_on(private_redis.url(1)):
        added = client.post(reverse("retail:sell_add"), {"product": jam.pk, "quantity": 3}, headers=HX)
        assert added.status_code == 200
        sale = Sale.objects.get(register=shop.register, status=Sale.Status.OPEN)
        assert client.post(reverse("retail:sell_pay"), {"payment_type": shop.cash.pk, "amount": "10"},
                           headers=HX).status_code == 200
        done = client.post(reverse("retail:sell_complete"), {"receipt_email": "lea@exemple.fr"}, headers=HX)

    assert done.status_code == 200 and "Sale 1 completed." in page_text(done)
    assert Sale.objects.get(pk=sale.pk).status == Sale.Status.COMPLETED
    receipt = OutgoingEmail.objects.get()
    assert receipt.recipients == ["lea@exemple.fr"] and receipt.status == OutgoingEmail.Status.QUEUED
    assert "the next sweep queues it" in caplog.text  # the lost enqueue was logged, not raised
    assert mail.outbox == []

    # Redis is back; beat's next sweep finds the receipt waiting and a worker delivers it.
    private_redis.start()
    OutgoingEmail.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=1))
    worker = start_worker()
    with celery_app_on(private_redis.url(1)):
        assert send_due_emails() == 1

    eventually(lambda: OutgoingEmail.objects.get().status == OutgoingEmail.Status.SENT,
               what="the receipt being delivered", logs=[worker.log])
    settings.EMAIL_OUTBOX_DIR = worker.mail_dir  # what /dev/mail/ lists
    [message] = outbox.list_messages()
    assert (message.to, message.subject) == ("lea@exemple.fr", "Votre ticket 1 — Boutique Test")  # the shop's language
    assert OutgoingEmail.objects.get().tries == 1


def test_a_failed_delivery_is_retried_through_celery_after_its_backoff(private_redis, start_worker, settings):
    from accounts.services import email_queue

    worker = start_worker(JOBS_TEST_MAIL_FAILURES="1")  # the mail server refuses the first try
    with celery_app_on(private_redis.url(1)):
        email = email_queue(to=["lea@shop.test"], subject="Bonjour", text="Un e-mail du worker.",
                            attachments=[("facture.pdf", b"%PDF-1.7 test", "application/pdf")])

    # No sweep runs here: the second try is the task's own Celery retry, after its countdown.
    eventually(lambda: OutgoingEmail.objects.get(pk=email.pk).status == OutgoingEmail.Status.SENT,
               what="the e-mail being delivered", logs=[worker.log])
    email.refresh_from_db()
    assert (email.tries, email.last_error) == (2, "")
    settings.EMAIL_OUTBOX_DIR = worker.mail_dir
    [message] = outbox.list_messages()
    assert (message.subject, message.to, message.attachments) == ("Bonjour", "lea@shop.test", ["facture.pdf"])
