"""The account guard on money: while a merchant's account is suspended no new charge or refund of its
customers starts — services refuse with a clear message, tasks skip with a log line — and payments and
refunds already under way are still reconciled and settle."""

import datetime
import logging

import pytest
import time_machine
from celery import shared_task
from django.utils import timezone, translation

from accounts.guard import AccountInactive, money_task_may_run
from payments.gateway import sandbox
from payments.models import Payment, Refund
from payments.sandbox.models import SandboxPaymentIntent, SandboxRefund
from payments.services.charges import payment_charge, payment_create
from payments.services.refunds import payment_refund
from payments.tasks import reconcile_payments
from retail.models import Sale
from tests.factories import suspend, with_addons
from tests.payments.builders import card, payments_state
from tests.retail.builders import pos_state

pytestmark = pytest.mark.django_db

REFUSAL = ("The account “Boutique Test” is suspended. No card payment or refund can be made for its customers "
           "until it is active again.")


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


@shared_task(name="tests.payments.take_the_balance_by_card")
def take_the_balance_by_card(*, sale_id: int, payment_method_id: str) -> str:
    """The shape of every task that moves a customer's money (a subscription cycle, say): it asks the
    guard first, then charges."""
    sale = Sale.objects.select_related("account", "created_by").get(pk=sale_id)
    if not money_task_may_run(sale.account, task="take_the_balance_by_card", sale=sale_id):
        return "skipped"
    payment = payment_create(actor=sale.created_by, account=sale.account, amount=sale.balance_due,
                             currency=sale.currency, method=Payment.Method.CARD_NOT_PRESENT,
                             mode=Payment.Mode.INTEGRATED, sale_id=sale.pk,
                             payment_method_id=payment_method_id)
    return payment_charge(payment_id=payment.pk).status


def start(shop, sale) -> Payment:
    return payment_create(actor=shop.actor, account=shop.account, amount=sale.balance_due, currency="EUR",
                          method=Payment.Method.CARD_NOT_PRESENT, mode=Payment.Mode.INTEGRATED,
                          sale_id=sale.pk, payment_method_id=card())


def everything(account) -> tuple:
    return payments_state(account), pos_state(account), SandboxPaymentIntent.objects.count()


def test_a_card_payment_is_refused_while_suspended_and_nothing_changes(shop, cart):
    suspend(shop.account)
    before = everything(shop.account)

    with pytest.raises(AccountInactive) as refused:
        start(shop, cart)

    assert refused.value.message == REFUSAL
    assert everything(shop.account) == before


def test_a_refund_is_refused_while_suspended_and_nothing_changes(shop, cart):
    payment = payment_charge(payment_id=start(shop, cart).pk)
    suspend(shop.account)
    before = everything(shop.account), SandboxRefund.objects.count()

    with pytest.raises(AccountInactive, match="No card payment or refund"):
        payment_refund(actor=shop.actor, account=shop.account, payment_id=payment.pk, amount=1000)

    assert (everything(shop.account), SandboxRefund.objects.count()) == before


def suspend_then_reconcile(account, run_on_commit) -> None:
    """The account is suspended; two minutes later the beat's reconciliation sweep runs, and the tasks it
    queues once committed."""
    suspend(account)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)), run_on_commit(execute=True):
        reconcile_payments.delay()


def test_a_payment_under_way_is_still_reconciled_and_pays_its_sale(shop, cart, django_capture_on_commit_callbacks):
    payment = start(shop, cart)
    with sandbox.hold_events(), sandbox.faults("after", operation="create_card_payment", times=None):
        payment = payment_charge(payment_id=payment.pk)
    assert payment.status == Payment.Status.PENDING

    suspend_then_reconcile(shop.account, django_capture_on_commit_callbacks)

    payment.refresh_from_db()
    cart.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and cart.balance_due == 0  # paid, for "Complete sale"
    assert SandboxPaymentIntent.objects.count() == 1  # charged once, as the customer agreed before


def test_a_refund_under_way_still_settles(shop, cart, django_capture_on_commit_callbacks):
    payment = payment_charge(payment_id=start(shop, cart).pk)
    with sandbox.hold_events(), sandbox.faults("before", operation="refund", times=None):
        refund = payment_refund(actor=shop.actor, account=shop.account, payment_id=payment.pk, amount=1000)
    assert refund.status == Refund.Status.PENDING

    suspend_then_reconcile(shop.account, django_capture_on_commit_callbacks)

    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED and payment.amount_refunded == 1000


def test_a_money_task_skips_a_suspended_account_says_so_and_changes_nothing(shop, cart, caplog):
    method = card()
    suspend(shop.account)
    before = everything(shop.account)

    with caplog.at_level(logging.INFO, logger="accounts.guard"):
        outcome = take_the_balance_by_card.delay(sale_id=cart.pk, payment_method_id=method).get()

    assert outcome == "skipped"
    assert caplog.messages == [
        f"take_the_balance_by_card skipped (sale={cart.pk}): account {shop.account.pk} is not active (suspended)"]
    assert everything(shop.account) == before


def test_the_same_task_charges_for_an_active_account(shop, cart):
    assert take_the_balance_by_card.delay(sale_id=cart.pk, payment_method_id=card()).get() == "succeeded"
    cart.refresh_from_db()
    assert cart.balance_due == 0 and [p.processor_payment_id for p in cart.payments.all()] != []


def test_a_task_of_an_add_on_runs_only_while_the_add_on_is_on(account, caplog):
    with caplog.at_level(logging.INFO, logger="accounts.guard"):
        assert not money_task_may_run(account, task="charge_cycle", addon="subscriptions", subscription=7)
    assert caplog.messages == [f"charge_cycle skipped (subscription=7): the subscriptions add-on is off for "
                               f"account {account.pk}"]

    with_addons(account, "subscriptions")

    assert money_task_may_run(account.pk, task="charge_cycle", addon="subscriptions", subscription=7)
