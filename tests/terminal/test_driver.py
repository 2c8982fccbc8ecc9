"""The driver's state machine on the sandbox's simulated WisePOS E: integrated payments for a sale
(approved, declined, cancelled, busy, offline, timed out, retried with the same key) and the standalone
loop (amount → payment → receipt → amount)."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from accounts.models import OutgoingEmail
from payments.gateway import sandbox
from payments.models import Payment
from payments.sandbox.models import SandboxPaymentIntent, SandboxReader
from payments.settings_services import payment_settings_update
from posbackoffice.errors import DomainError
from retail.models import Sale
from terminal import driver, services
from terminal.models import Reader, ReaderAction
from tests.factories import owner_of
from tests.terminal.builders import answer, present, reader_for

pytestmark = pytest.mark.django_db


def start(cart, reader):
    action = services.sale_payment_start(actor=owner_of(cart.account), account=cart.account, sale_id=cart.pk,
                                         register_id=reader.register_id)
    return driver.action_send(action_id=action.pk)


def test_an_approved_card_pays_the_sale_which_stays_open_for_complete_sale(cart, reader):
    action = start(cart, reader)
    assert action.status == ReaderAction.Status.IN_PROGRESS
    payment = Payment.objects.get(pk=action.payment_id)
    assert (payment.method, payment.mode, payment.status, payment.amount) == ("card_present", "integrated",
                                                                              "pending", 4900)

    present(reader)
    action = driver.action_check(action_id=action.pk)

    payment.refresh_from_db()
    cart.refresh_from_db()
    assert action.status == ReaderAction.Status.SUCCEEDED
    assert payment.status == Payment.Status.SUCCEEDED and payment.card_last4 == "4242"
    assert cart.status == Sale.Status.OPEN and cart.balance_due == 0


def test_a_declined_card_leaves_the_sale_open_with_the_reason(cart, reader):
    action = start(cart, reader)
    present(reader, "4000000000009995")
    action = driver.action_check(action_id=action.pk)

    payment = Payment.objects.get(pk=action.payment_id)
    cart.refresh_from_db()
    assert action.status == ReaderAction.Status.FAILED and action.failure_code == "insufficient_funds"
    assert payment.status == Payment.Status.FAILED and cart.balance_due == 4900


def test_cancel_stops_the_reader_and_nothing_is_taken(cart, reader):
    action = start(cart, reader)
    action = services.action_cancel(actor=owner_of(cart.account), account=cart.account, action_id=action.pk)

    payment = Payment.objects.get(pk=action.payment_id)
    assert action.status == ReaderAction.Status.CANCELED
    assert payment.status == Payment.Status.FAILED and payment.failure_code == "canceled"
    assert SandboxPaymentIntent.objects.get(pk=payment.processor_payment_id).status == "canceled"
    assert SandboxReader.objects.get(pk=reader.processor_reader_id).action is None


def test_a_busy_reader_is_refused_before_anything_is_written(cart, reader):
    start(cart, reader)
    before = Payment.objects.count()
    with pytest.raises(DomainError, match="busy"):
        start(cart, reader)
    assert Payment.objects.count() == before


def test_an_offline_reader_fails_the_payment_with_a_clear_code(cart, reader):
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
        action = start(cart, reader)
    assert action.status == ReaderAction.Status.FAILED and action.failure_code == "terminal_reader_offline"
    assert Payment.objects.get(pk=action.payment_id).status == Payment.Status.FAILED


def test_a_reader_that_stops_answering_times_out(cart, reader):
    action = start(cart, reader)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=6)):
        action = driver.action_check(action_id=action.pk)
    assert action.status == ReaderAction.Status.FAILED
    assert action.failure_code in ("terminal_reader_offline", "terminal_reader_timeout")
    assert Payment.objects.get(pk=action.payment_id).status == Payment.Status.FAILED


def test_a_lost_answer_is_sent_again_with_the_same_key_and_charges_once(cart, reader):
    action = services.sale_payment_start(actor=owner_of(cart.account), account=cart.account, sale_id=cart.pk,
                                         register_id=reader.register_id)
    with sandbox.faults("after", operation="process_payment_on_reader", times=None):
        action = driver.action_send(action_id=action.pk)
    assert action.status == ReaderAction.Status.QUEUED  # unknown outcome: left for the next try

    action = driver.action_check(action_id=action.pk)  # the sweep's check sends it again
    assert action.status == ReaderAction.Status.IN_PROGRESS
    present(reader)
    driver.action_check(action_id=action.pk)
    assert SandboxPaymentIntent.objects.filter(payment_method_type="card_present").count() == 1
    assert Payment.objects.get(pk=action.payment_id).status == Payment.Status.SUCCEEDED


def test_the_webhook_of_the_reader_settles_the_action(cart, reader):
    from payments.models import WebhookEvent
    from payments.sandbox.events import events_deliver_pending
    from payments.webhook_events import webhook_event_process

    action = start(cart, reader)
    present(reader)
    events_deliver_pending()
    for event in WebhookEvent.objects.filter(processed_at__isnull=True).order_by("pk"):
        webhook_event_process(event_id=event.pk)
    action.refresh_from_db()
    assert action.status == ReaderAction.Status.SUCCEEDED
    assert WebhookEvent.objects.get(type="terminal.reader.action_succeeded").processed_at is not None
    assert Payment.objects.get(pk=action.payment_id).status == Payment.Status.SUCCEEDED


def test_standalone_needs_the_account_switch(shop, reader):
    with pytest.raises(DomainError, match="Standalone mode is off"):
        services.reader_set_mode(actor=shop.actor, account=shop.account, reader_id=reader.pk, mode="standalone")
    assert Reader.objects.get(pk=reader.pk).mode == "integrated"


def standalone(shop, reader):
    payment_settings_update(actor=shop.actor, account=shop.account, processor="integrated",
                            cash_discount_enabled=False, payout_schedule="daily", standalone_enabled=True)
    services.reader_set_mode(actor=shop.actor, account=shop.account, reader_id=reader.pk, mode="standalone")


def step(reader):
    return driver.reader_follow(account=reader.account, reader_id=reader.pk)


def test_the_standalone_loop_amount_payment_receipt_and_over_again(shop, reader):
    standalone(shop, reader)
    assert ReaderAction.objects.get(reader=reader, status="in_progress").kind == "amount"

    answer(reader, "12,50")
    payment_action = step(reader)
    assert payment_action.kind == "payment" and payment_action.status == "in_progress"
    present(reader)
    receipt = step(reader)
    assert receipt.kind == "receipt" and receipt.status == "in_progress"
    answer(reader, "client@example.test")
    step(reader)

    payment = Payment.objects.get(mode="standalone")
    assert (payment.amount, payment.status, payment.purpose, payment.sale_id) == (1250, "succeeded", "none", None)
    assert payment.receipt_email == "client@example.test"
    assert OutgoingEmail.objects.filter(recipients__icontains="client@example.test").exists()
    assert ReaderAction.objects.get(reader=reader, status="in_progress").kind == "amount"  # it starts over

    answer(reader, "3,00")
    step(reader)
    present(reader)
    step(reader)
    answer(reader, None)  # Skip to complete sale
    step(reader)
    skipped = Payment.objects.filter(mode="standalone").order_by("-pk").first()
    assert skipped.amount == 300 and skipped.receipt_email == ""


def test_an_amount_of_zero_or_above_the_limit_is_asked_again(shop, reader):
    standalone(shop, reader)
    for bad in ("0", "1000000,00"):
        answer(reader, bad)
        action = step(reader)
        assert action.kind == "amount" and action.status == "in_progress"
    assert not Payment.objects.filter(mode="standalone").exists()


def test_switching_mode_during_a_standalone_payment_is_refused(shop, reader):
    standalone(shop, reader)
    answer(reader, "5,00")
    step(reader)
    with pytest.raises(DomainError, match="payment is in progress"):
        services.reader_set_mode(actor=shop.actor, account=shop.account, reader_id=reader.pk, mode="integrated")
    assert Reader.objects.get(pk=reader.pk).mode == "standalone"


def test_the_sell_screen_refuses_a_standalone_reader(cart, reader):
    standalone(cart and reader and type("S", (), {"actor": owner_of(cart.account), "account": cart.account})(),
               reader)
    with pytest.raises(DomainError, match="standalone mode"):
        services.sale_payment_start(actor=owner_of(cart.account), account=cart.account, sale_id=cart.pk,
                                    register_id=reader.register_id)


def test_registration_codes_are_checked_and_a_register_has_one_reader(shop, reader):
    with pytest.raises(DomainError, match="registration code"):
        services.reader_register(actor=shop.actor, account=shop.account, outlet_id=shop.outlet.pk,
                                 register_id=None, registration_code="bad-code", label="X")
    with pytest.raises(DomainError, match="already has a card reader"):
        reader_for(shop, label="Second")
    assert Reader.objects.count() == 1


def take_standalone(shop, reader, amount):
    """A standalone payment on the reader, its receipt skipped."""
    answer(reader, amount)
    step(reader)
    present(reader)
    step(reader)
    answer(reader, None)
    step(reader)
    return Payment.objects.filter(mode="standalone").order_by("-pk").first()


def test_a_standalone_payment_is_refunded_once_the_original_card_is_confirmed(shop, reader):
    standalone(shop, reader)
    payment = take_standalone(shop, reader, "20,00")

    with pytest.raises(DomainError, match="at most"):
        services.standalone_refund_start(actor=shop.actor, account=shop.account, payment_id=payment.pk,
                                         amount=2001)
    action = services.standalone_refund_start(actor=shop.actor, account=shop.account, payment_id=payment.pk,
                                              amount=500, comment="Retour")
    assert ReaderAction.objects.get(pk=action.pk).status == "in_progress"
    answer(reader, "absent")
    step(reader)
    payment.refresh_from_db()
    assert payment.amount_refunded == 0 and ReaderAction.objects.get(pk=action.pk).failure_code == "card_not_present"

    action = services.standalone_refund_start(actor=shop.actor, account=shop.account, payment_id=payment.pk,
                                              amount=500, comment="Retour")
    answer(reader, "present")
    after = step(reader)
    payment.refresh_from_db()
    assert payment.amount_refunded == 500 and payment.status == Payment.Status.PARTIALLY_REFUNDED
    assert payment.refunds.get().comment == "Retour"
    assert (after.kind, after.amount, after.status) == ("refund_rec", 500, "in_progress")  # a receipt is issued
    answer(reader, "client@example.test")
    assert step(reader).kind == "amount"  # back to the standalone loop
    receipt = OutgoingEmail.objects.get(subject__startswith="Your refund receipt")
    assert receipt.recipients == ["client@example.test"] and "5.00" in receipt.text
    payment.refresh_from_db()
    assert payment.receipt_email == ""  # the payment's own receipt was skipped; the refund's is its own


def test_the_refund_receipt_can_be_skipped_and_an_integrated_reader_goes_back_to_waiting(shop, reader):
    standalone(shop, reader)
    payment = take_standalone(shop, reader, "8,00")
    services.reader_set_mode(actor=shop.actor, account=shop.account, reader_id=reader.pk, mode="integrated")
    services.standalone_refund_start(actor=shop.actor, account=shop.account, payment_id=payment.pk, amount=800)
    answer(reader, "present")
    receipt = step(reader)
    assert receipt.kind == "refund_rec" and receipt.status == "in_progress"
    answer(reader, None)  # Skip
    assert step(reader).status == "succeeded"
    assert ReaderAction.objects.filter(reader=reader, status__in=ReaderAction.OPEN).count() == 0
    assert not OutgoingEmail.objects.filter(subject__startswith="Your refund receipt").exists()
