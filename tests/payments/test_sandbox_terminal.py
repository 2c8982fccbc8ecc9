"""The gateway port's terminal operations on the sandbox adapter: the same scenarios the stripe adapter
plays on recorded responses (test_stripe_recorded.py, "Terminal"), in the port's terms, plus what the
simulated WisePOS E does (heartbeat, present a card, type into a collect_inputs screen)."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from payments.gateway.base import PaymentStatus, ReaderActionStatus
from payments.gateway.errors import InvalidRequest, NotFound, ReaderBusy, ReaderOffline
from payments.gateway.sandbox import SandboxGateway
from payments.sandbox import terminal as device

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway():
    return SandboxGateway()


@pytest.fixture
def reader(gateway):
    location = gateway.create_terminal_location(display_name="Lyon", address={"line1": "1 rue", "city": "Lyon",
                                                "country": "FR"}, idempotency_key="loc-1")
    return gateway.register_reader(registration_code="simulated-wpe", label="Caisse 1", location_id=location.id,
                                   idempotency_key="reader-1")


def test_a_card_present_payment_on_a_registered_reader(gateway, reader):
    assert (reader.device_type, reader.status) == ("simulated_wisepos_e", "online")
    intent = gateway.create_terminal_payment(amount=4900, currency="EUR", idempotency_key="payment-7-charge")
    assert intent.status == PaymentStatus.REQUIRES_PAYMENT_METHOD
    sent = gateway.process_payment_on_reader(reader_id=reader.id, payment_id=intent.id, idempotency_key="a-1")
    assert (sent.action.type, sent.action.status, sent.action.payment_id) == (
        "process_payment_intent", ReaderActionStatus.IN_PROGRESS, intent.id)
    again = gateway.process_payment_on_reader(reader_id=reader.id, payment_id=intent.id, idempotency_key="a-1")
    assert again == sent  # the same key is the first answer, not "busy"

    device.reader_present_card(reader_id=reader.id, number="4242424242424242")
    assert gateway.retrieve_reader(reader.id).action.status == ReaderActionStatus.SUCCEEDED
    paid = gateway.retrieve_payment(intent.id)
    assert paid.status == PaymentStatus.SUCCEEDED and paid.card.last4 == "4242"


@pytest.mark.parametrize(("amount", "number", "decline"), [
    (4900, "4000000000000002", "generic_decline"), (1001, "4242424242424242", "call_issuer"),
    (1055, "4242424242424242", "incorrect_pin")])
def test_declines_by_test_card_and_by_test_amount(gateway, reader, amount, number, decline):
    intent = gateway.create_terminal_payment(amount=amount, currency="EUR", idempotency_key=f"p-{amount}")
    gateway.process_payment_on_reader(reader_id=reader.id, payment_id=intent.id, idempotency_key=f"a-{amount}")
    device.reader_present_card(reader_id=reader.id, number=number)
    action = gateway.retrieve_reader(reader.id).action
    assert (action.status, action.failure_code) == (ReaderActionStatus.FAILED, "card_declined")
    failed = gateway.retrieve_payment(intent.id)
    assert failed.status == PaymentStatus.REQUIRES_PAYMENT_METHOD and failed.failure_code == decline


def test_busy_offline_and_unknown_codes(gateway, reader):
    first = gateway.create_terminal_payment(amount=100, currency="EUR", idempotency_key="p-1")
    second = gateway.create_terminal_payment(amount=200, currency="EUR", idempotency_key="p-2")
    gateway.process_payment_on_reader(reader_id=reader.id, payment_id=first.id, idempotency_key="a-1")
    with pytest.raises(ReaderBusy):
        gateway.process_payment_on_reader(reader_id=reader.id, payment_id=second.id, idempotency_key="a-2")
    gateway.cancel_reader_action(reader.id)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2, seconds=1)):
        assert gateway.retrieve_reader(reader.id).status == "offline"
        with pytest.raises(ReaderOffline):
            gateway.process_payment_on_reader(reader_id=reader.id, payment_id=second.id, idempotency_key="a-3")
    with pytest.raises(InvalidRequest):
        gateway.register_reader(registration_code="bad-code", label="X", location_id=reader.location_id,
                                idempotency_key="reader-2")


def test_collect_inputs_answers_the_typed_value_and_cancel_clears_the_action(gateway, reader):
    asked = gateway.collect_inputs_on_reader(reader_id=reader.id, idempotency_key="c-1", inputs=[
        {"type": "numeric", "required": True, "custom_text": {"title": "Total amount"}}])
    assert asked.action.type == "collect_inputs" and asked.action.status == "in_progress"
    device.reader_enter_inputs(reader_id=reader.id, values=["12.50"])
    answered = gateway.retrieve_reader(reader.id)
    assert [(i.type, i.value, i.skipped) for i in answered.action.inputs] == [("numeric", "12.50", False)]
    gateway.collect_inputs_on_reader(reader_id=reader.id, idempotency_key="c-2", inputs=[
        {"type": "email", "custom_text": {"title": "Receipt", "skip_button": "Skip"}}])
    assert gateway.cancel_reader_action(reader.id).action is None
    with pytest.raises(InvalidRequest):
        gateway.collect_inputs_on_reader(reader_id=reader.id, idempotency_key="c-3", inputs=[
            {"type": "email", "custom_text": {"title": "Receipt", "skip_button": "Skip to complete sale"}}])


def test_rename_and_delete(gateway, reader):
    assert gateway.update_reader(reader.id, label="Avant").label == "Avant"
    gateway.delete_reader(reader.id)
    with pytest.raises(NotFound):
        gateway.retrieve_reader(reader.id)
