"""The money flow of a card payment for a sale, through the services and the sandbox processor:
our row first, the processor call with a key derived from it, the answer settling the payment and the
sale; lost answers, retries, reconciliation, the cardholder's confirmation, cancelling, bad input."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.db.models import Q
from django.utils import timezone, translation

from accounts.models import AuditEvent
from payments.gateway import sandbox
from payments.messages import failure_message
from payments.models import Payment, PaymentAttempt
from payments.sandbox import services as processor
from payments.sandbox.models import SandboxPaymentIntent, SandboxRefund
from payments.services.attempts import ATTEMPT_LEASE_SECONDS
from payments.services.charges import payment_cancel, payment_charge, payment_create, payment_finish_action
from payments.services.reconciling import payment_check, payment_reconcile, stale_pending_payment_ids
from payments.services.refunds import payment_refund, refund_reconcile
from posbackoffice import jobs
from posbackoffice.errors import DomainError
from retail.models import Sale
from retail.services import sales as sale_services
from tests.payments.builders import card, payments_state
from tests.retail import report_factories as rf
from tests.retail.builders import pos_state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


def start(shop, sale, *, number="4242424242424242", amount=None, **extra) -> Payment:
    return payment_create(actor=shop.actor, account=shop.account, amount=amount or sale.balance_due,
                          currency="EUR", method=Payment.Method.CARD_NOT_PRESENT,
                          mode=Payment.Mode.INTEGRATED, sale_id=sale.pk, payment_method_id=card(number),
                          **extra)


def charges() -> int:
    return SandboxPaymentIntent.objects.count()


def test_an_accepted_card_pays_the_sale_which_the_cashier_then_completes(shop, cart,
                                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        payment = start(shop, cart)
        attempt = payment.attempts.get()
        assert (payment.status, attempt.idempotency_key) == (Payment.Status.PENDING, f"payment-{payment.pk}-charge")
        payment = payment_charge(payment_id=payment.pk)

    cart.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and payment.card_last4 == "4242"
    # Paid, and still the cart: every way of paying ends with "Complete sale" (seed 004, steps 6 and 8).
    assert (cart.status, cart.balance_due, cart.receipt_number) == (Sale.Status.OPEN, 0, None)
    assert [p.processor_payment_id for p in cart.payments.all()] == [payment.pk]
    assert mail.outbox == [] and charges() == 1
    trail = AuditEvent.objects.filter(object_type="payments.payment", object_id=str(payment.pk)).order_by("pk")
    assert list(trail.values_list("action", flat=True)) == ["payment.created", "payment.succeeded"]


def test_a_declined_card_leaves_the_sale_open_and_unpaid(shop, cart):
    payment = payment_charge(payment_id=start(shop, cart, number="4000000000000002").pk)

    cart.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and payment.failure_code == "generic_decline"
    assert cart.status == Sale.Status.OPEN and cart.balance_due == 4900 and not cart.payments.exists()
    assert failure_message(payment.failure_code) == "The card was declined. Ask the customer for another card."
    with translation.override("fr"):
        assert failure_message("insufficient_funds") == "La carte a été refusée : fonds insuffisants."


def test_a_lost_request_is_retried_inline_with_the_same_key(shop, cart):
    payment = start(shop, cart)
    with sandbox.faults("before", operation="create_card_payment") as plan:
        payment = payment_charge(payment_id=payment.pk)

    assert plan.triggered == 1
    assert payment.status == Payment.Status.SUCCEEDED and charges() == 1


def test_a_lost_answer_leaves_the_payment_pending_then_reconciliation_settles_it_once(shop, cart):
    payment = start(shop, cart)
    with sandbox.hold_events(), sandbox.faults("after", operation="create_card_payment", times=None) as plan:
        payment = payment_charge(payment_id=payment.pk)

    assert plan.triggered == 3  # the call and its two retries, all with the same key
    assert payment.status == Payment.Status.PENDING and not payment.processor_payment_id
    assert charges() == 1  # the processor charged once whatever we retried
    cart.refresh_from_db()
    assert cart.status == Sale.Status.OPEN  # the cashier sees the card payment pending
    with pytest.raises(DomainError, match="still pending"):
        start(shop, cart)  # and no second card payment can start meanwhile

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)):
        assert stale_pending_payment_ids() == [payment.pk]
        payment = payment_reconcile(payment_id=payment.pk)

    cart.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and charges() == 1
    assert (cart.status, cart.balance_due) == (Sale.Status.OPEN, 0)  # paid, for the cashier to complete


def test_a_request_that_never_arrived_is_sent_again_with_its_key_by_reconciliation(shop, cart):
    payment = start(shop, cart)
    with sandbox.faults("before", operation="create_card_payment", times=None):
        payment = payment_charge(payment_id=payment.pk)
    assert payment.status == Payment.Status.PENDING and charges() == 0

    payment = payment_check(account=shop.account, payment_id=payment.pk)  # "Check again"

    assert payment.status == Payment.Status.SUCCEEDED and charges() == 1
    assert SandboxPaymentIntent.objects.get().idempotency_key == f"payment-{payment.pk}-charge"


def test_nobody_talks_to_the_processor_about_a_payment_the_reconciliation_holds(shop, cart):
    payment = start(shop, cart)
    with sandbox.faults("before", operation="create_card_payment", times=None):
        payment_charge(payment_id=payment.pk)
    attempt = PaymentAttempt.objects.get(payment=payment)
    later = timezone.now() + datetime.timedelta(minutes=2)
    held = jobs.claim(PaymentAttempt, attempt.pk, seconds=ATTEMPT_LEASE_SECONDS, due=Q(), now=later)

    with time_machine.travel(later):
        assert stale_pending_payment_ids() == []  # the sweep passes it by
        assert payment_check(account=shop.account, payment_id=payment.pk).status == Payment.Status.PENDING
        assert payment_charge(payment_id=payment.pk).status == Payment.Status.PENDING
        assert charges() == 0 and PaymentAttempt.objects.get(pk=attempt.pk).tries == 1
        held.release()
        assert payment_reconcile(payment_id=payment.pk).status == Payment.Status.SUCCEEDED
    assert charges() == 1 and PaymentAttempt.objects.get(pk=attempt.pk).tries == 2


def test_the_reconciliation_makes_one_call_and_leaves_the_payment_due_when_the_processor_is_down(shop, cart):
    payment = start(shop, cart)
    with sandbox.faults("before", operation="create_card_payment", times=None):
        payment_charge(payment_id=payment.pk)

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)), \
            sandbox.faults("before", operation="find_payment", times=None) as plan:
        assert payment_reconcile(payment_id=payment.pk).status == Payment.Status.PENDING
        assert plan.triggered == 1  # no inline retries in a task: nothing sleeps
        assert stale_pending_payment_ids() == [payment.pk]  # due for the next sweep


def test_after_a_day_a_charge_the_processor_never_saw_is_not_sent_again(shop, cart):
    payment = start(shop, cart)
    with sandbox.faults("before", operation="create_card_payment", times=None):
        payment_charge(payment_id=payment.pk)

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=24)):
        payment = payment_reconcile(payment_id=payment.pk)

    assert payment.status == Payment.Status.FAILED and payment.failure_code == "never_arrived"
    assert charges() == 0  # its key may be forgotten by now: a resend could have charged twice
    assert failure_message("never_arrived") == "The card processor never received this payment; nothing was taken."


@pytest.mark.parametrize("lost,expected", [("before", "failed"), ("after", "succeeded")])
def test_after_a_day_a_pending_refund_is_settled_from_what_the_processor_refunded(shop, cart, lost, expected):
    payment = payment_charge(payment_id=start(shop, cart).pk)
    with sandbox.hold_events(), sandbox.faults(lost, operation="refund", times=None):
        refund = payment_refund(actor=shop.actor, account=shop.account, payment_id=payment.pk,
                                amount=1000, comment="Geste commercial")
    assert refund.status == "pending"

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=24)):
        refund = refund_reconcile(refund_id=refund.pk)

    payment.refresh_from_db()
    assert refund.status == expected
    assert payment.amount_refunded == (1000 if expected == "succeeded" else 0)
    assert SandboxRefund.objects.count() == (1 if lost == "after" else 0)  # never sent a second time


def test_the_bank_asks_the_cardholder_then_the_payment_settles(shop, cart):
    payment = payment_charge(payment_id=start(shop, cart, number="4000002500003155").pk)
    assert payment.status == Payment.Status.PENDING and payment.requires_action

    intent = SandboxPaymentIntent.objects.get()
    processor.payment_intent_authenticate(payment_intent_id=intent.id, client_secret=intent.client_secret,
                                          approve=True)
    payment = payment_finish_action(account=shop.account, payment_id=payment.pk)

    cart.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert (cart.status, cart.balance_due) == (Sale.Status.OPEN, 0)


def test_a_cardholder_who_refuses_their_bank_fails_the_payment(shop, cart):
    payment = payment_charge(payment_id=start(shop, cart, number="4000002500003155").pk)
    intent = SandboxPaymentIntent.objects.get()
    processor.payment_intent_authenticate(payment_intent_id=intent.id, client_secret=intent.client_secret,
                                          approve=False)
    payment = payment_finish_action(account=shop.account, payment_id=payment.pk)

    assert payment.status == Payment.Status.FAILED
    assert failure_message(payment.failure_code) == "The cardholder did not confirm the payment with their bank."


def test_cancelling_a_payment_waiting_for_the_cardholder_frees_the_sale(shop, cart):
    payment = payment_charge(payment_id=start(shop, cart, number="4000002500003155").pk)

    payment = payment_cancel(actor=shop.actor, account=shop.account, payment_id=payment.pk)

    assert payment.status == Payment.Status.FAILED and payment.failure_code == "canceled"
    assert SandboxPaymentIntent.objects.get().status == "canceled"  # it can never be taken later
    assert AuditEvent.objects.filter(action="payment.failed", actor=shop.actor).exists()
    second = payment_charge(payment_id=start(shop, cart).pk)  # another card now
    assert second.status == Payment.Status.SUCCEEDED


def test_only_a_payment_waiting_for_the_cardholder_can_be_cancelled(shop, cart, other_account):
    payment = payment_charge(payment_id=start(shop, cart).pk)
    before = payments_state(shop.account)

    with pytest.raises(DomainError, match="Only a card payment waiting for the cardholder can be cancelled."):
        payment_cancel(actor=shop.actor, account=shop.account, payment_id=payment.pk)
    with pytest.raises(DomainError, match="This payment does not exist."):
        payment_cancel(actor=shop.actor, account=other_account, payment_id=payment.pk)
    assert payments_state(shop.account) == before


def test_a_confirmation_nobody_gives_expires_and_the_sale_is_freed(shop, cart):
    payment = payment_charge(payment_id=start(shop, cart, number="4000002500003155").pk)

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        assert payment_reconcile(payment_id=payment.pk).status == Payment.Status.PENDING
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        payment = payment_reconcile(payment_id=payment.pk)

    assert payment.status == Payment.Status.FAILED and payment.failure_code == "canceled"
    assert SandboxPaymentIntent.objects.get().status == "canceled"


@pytest.mark.parametrize("change,message", [
    ({"amount": 0}, "The amount must be more than zero."),
    ({"amount": -100}, "The amount must be more than zero."),
    ({"amount": 5000}, "The amount is more than what is left to pay"),
    ({"currency": "USD"}, "Payments are taken in EUR."),
    ({"payment_method_id": ""}, "Enter the card details."),
    ({"receipt_email": "a@x.fr, b@y.fr"}, "Enter exactly one e-mail address."),
])
def test_bad_input_is_refused_and_changes_nothing(shop, cart, change, message):
    before = payments_state(shop.account)
    arguments = {"actor": shop.actor, "account": shop.account, "amount": 4900, "currency": "EUR",
                 "method": Payment.Method.CARD_NOT_PRESENT, "mode": Payment.Mode.INTEGRATED, "sale_id": cart.pk,
                 "payment_method_id": card()} | change

    with pytest.raises(DomainError, match=message):
        payment_create(**arguments)
    assert payments_state(shop.account) == before and charges() == 0


def test_a_sale_that_is_not_in_progress_takes_no_card_payment(shop, cart, other_account):
    parked = rf.park(shop, [(Sale.objects.get(pk=cart.pk).lines.get().product, 1)])
    for account, sale_id in ((shop.account, parked.pk), (other_account, cart.pk)):
        with pytest.raises(DomainError, match="This sale cannot take a payment now."):
            payment_create(actor=shop.actor, account=account, amount=100, currency="EUR",
                           method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.INTEGRATED,
                           sale_id=sale_id, payment_method_id=card())
    assert not Payment.objects.exists() and not PaymentAttempt.objects.exists()


def test_an_on_account_sale_paid_later_by_card_is_settled_at_once(shop):
    """What pay links will do: the card pays what the customer owes, and the sale is completed when
    nothing is left (sale_take_payment), with no cashier to press "Complete sale"."""
    buyer = rf.customer(shop, first_name="Léa", last_name="Roux", email="lea@exemple.fr")
    scarf = rf.product(shop, sku="ECH-1", name="Écharpe", price=2450, rate_bp=2000)
    owed = rf.sell(shop, [(scarf, 2)], payments=[], buyer=buyer, on_account=True)

    first = payment_charge(payment_id=start(shop, owed, amount=1000).pk)
    owed.refresh_from_db()
    buyer.refresh_from_db()
    assert first.status == Payment.Status.SUCCEEDED
    assert (owed.status, owed.balance_due, buyer.balance) == (Sale.Status.ON_ACCOUNT, 3900, 3900)

    rest = payment_charge(payment_id=start(shop, owed).pk)
    owed.refresh_from_db()
    buyer.refresh_from_db()
    assert (owed.status, owed.balance_due, buyer.balance) == (Sale.Status.COMPLETED, 0, 0)
    assert [payment.processor_payment_id for payment in owed.payments.all()] == [first.pk, rest.pk]


@pytest.mark.parametrize("put_aside", [sale_services.sale_discard, sale_services.sale_park])
def test_a_sale_with_a_card_payment_pending_is_not_put_aside(shop, cart, put_aside):
    with sandbox.hold_events(), sandbox.faults("after", operation="create_card_payment", times=None):
        pending = payment_charge(payment_id=start(shop, cart).pk)
    assert pending.status == Payment.Status.PENDING
    before = payments_state(shop.account), pos_state(shop.account)

    with pytest.raises(DomainError, match="A card payment for this sale is still pending"):
        put_aside(actor=shop.actor, account=shop.account, sale_id=cart.pk)

    assert (payments_state(shop.account), pos_state(shop.account)) == before
