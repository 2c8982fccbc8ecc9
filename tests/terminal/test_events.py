"""A reader's two webhook events (issue 11, performance): the payment's own event (payment_intent.*) ends
the reader's action in the same task (payments.event_handlers.PAYMENT_FOLLOWERS → driver.follow_payment),
and the reader's event (terminal.reader.action_*) then costs next to nothing; whichever comes first, the
reader is not read back from the processor when the signed event already shows the action ended, a
settled payment is not read again, and nothing is settled twice."""

import pytest

from payments.gateway.sandbox import SandboxGateway
from payments.models import Payment, WebhookEvent
from payments.sandbox.events import event_deliver
from payments.sandbox.models import SandboxEvent
from payments.webhook_events import webhook_event_process
from retail.models import SalePayment
from terminal import driver, services
from terminal.models import ReaderAction
from tests.factories import owner_of
from tests.terminal.builders import answer, present
from tests.terminal.test_driver import standalone

pytestmark = pytest.mark.django_db


def start(cart, reader):
    action = services.sale_payment_start(actor=owner_of(cart.account), account=cart.account, sale_id=cart.pk,
                                         register_id=reader.register_id)
    return driver.action_send(action_id=action.pk)


def handle(event_type: str) -> WebhookEvent:
    """Deliver the sandbox's newest event of this type to our endpoint and handle it, as the worker does."""
    sent = SandboxEvent.objects.filter(type=event_type).order_by("-pk").first()
    assert event_deliver(event_pk=sent.pk)
    stored = WebhookEvent.objects.get(event_id=sent.event_id)
    webhook_event_process(event_id=stored.pk)
    stored.refresh_from_db()
    return stored


@pytest.fixture
def no_reader_reads(monkeypatch):
    def refused(self, reader_id):
        raise AssertionError("the reader was read back from the processor")

    monkeypatch.setattr(SandboxGateway, "retrieve_reader", refused)


def test_the_payments_event_alone_ends_the_readers_action(cart, reader, no_reader_reads):
    action = start(cart, reader)
    present(reader)

    event = handle("payment_intent.succeeded")

    action.refresh_from_db()
    assert event.outcome == "payment succeeded"
    assert action.status == ReaderAction.Status.SUCCEEDED and action.finished_at is not None
    assert Payment.objects.get(pk=action.payment_id).status == Payment.Status.SUCCEEDED
    assert SalePayment.objects.filter(sale=cart).count() == 1


def test_the_readers_event_afterwards_changes_nothing(cart, reader, no_reader_reads, monkeypatch):
    action = start(cart, reader)
    present(reader)
    handle("payment_intent.succeeded")
    finished = ReaderAction.objects.get(pk=action.pk).finished_at
    monkeypatch.setattr(SandboxGateway, "retrieve_payment", lambda self, payment_id: pytest.fail("read again"))

    event = handle("terminal.reader.action_succeeded")

    assert event.outcome == "no open action" and event.failure_code == ""
    assert ReaderAction.objects.get(pk=action.pk).finished_at == finished
    assert SalePayment.objects.filter(sale=cart).count() == 1


def test_a_declined_cards_event_ends_the_action_with_the_reason(cart, reader, no_reader_reads):
    action = start(cart, reader)
    present(reader, "4000000000009995")

    handle("payment_intent.payment_failed")

    action.refresh_from_db()
    assert action.status == ReaderAction.Status.FAILED and action.failure_code == "insufficient_funds"
    assert Payment.objects.get(pk=action.payment_id).status == Payment.Status.FAILED
    assert not SalePayment.objects.filter(sale=cart).exists()


def test_the_readers_event_first_is_settled_from_its_payload(cart, reader, no_reader_reads, monkeypatch):
    """The reader's event handled before the payment's: the payment is read once (money is never taken
    from the reader's word), the reader is not; the payment's event then reads nothing and settles
    nothing again."""
    action = start(cart, reader)
    present(reader)

    event = handle("terminal.reader.action_succeeded")

    action.refresh_from_db()
    assert event.outcome == "reader action succeeded"
    assert action.status == ReaderAction.Status.SUCCEEDED
    monkeypatch.setattr(SandboxGateway, "retrieve_payment", lambda self, payment_id: pytest.fail("read again"))
    late = handle("payment_intent.succeeded")
    assert late.outcome == "payment succeeded"
    assert SalePayment.objects.filter(sale=cart).count() == 1


def test_a_standalone_readers_late_event_leaves_its_next_step_alone(shop, reader, no_reader_reads):
    """Standalone: the payment's event ends the payment step and starts the receipt; the reader's event of
    the payment step, arriving after, is about an earlier action and does nothing to the receipt."""
    standalone(shop, reader)
    answer(reader, "12,50")
    handle("terminal.reader.action_succeeded")  # the amount, from the event
    present(reader)

    handle("payment_intent.succeeded")
    receipt = ReaderAction.objects.get(reader=reader, status="in_progress")
    assert receipt.kind == ReaderAction.Kind.RECEIPT

    event = handle("terminal.reader.action_succeeded")

    assert event.outcome == "earlier reader action"
    receipt.refresh_from_db()
    assert receipt.status == ReaderAction.Status.IN_PROGRESS and receipt.checked_at is None


def test_a_collected_amount_is_read_from_the_readers_event(shop, reader, no_reader_reads):
    standalone(shop, reader)
    amount = ReaderAction.objects.get(reader=reader, status="in_progress")
    answer(reader, "7,25")

    event = handle("terminal.reader.action_succeeded")

    amount.refresh_from_db()
    assert event.outcome == "reader action succeeded"
    assert amount.status == ReaderAction.Status.SUCCEEDED and amount.amount == 725
    following = ReaderAction.objects.get(reader=reader, status="in_progress")
    assert following.kind == ReaderAction.Kind.PAYMENT and following.payment.amount == 725


def test_an_event_that_does_not_say_which_action_is_checked_with_the_processor(cart, reader):
    action = start(cart, reader)
    present(reader)
    sent = SandboxEvent.objects.filter(type="terminal.reader.action_succeeded").order_by("-pk").first()
    obj = sent.payload["data"]["object"]
    assert driver._event_about(ReaderAction.objects.select_related("payment").get(pk=action.pk), obj) is True
    assert driver._event_about(action, {**obj, "action": None}) is None
    assert driver._event_about(action, {**obj, "action": {"type": "collect_inputs", "collect_inputs": {}}}) is None

    outcome, _payment = driver.reader_event({**obj, "action": None}, processor="sandbox", payee="")

    assert outcome == "reader action succeeded"  # read from the processor, as before
