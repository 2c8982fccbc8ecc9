"""Fault injection in the sandbox adapter: a request lost before the processor saw it, or an answer
lost after the processor recorded it; a retry with the same key never charges twice."""

import pytest

from payments.gateway import sandbox
from payments.gateway.base import PaymentStatus
from payments.gateway.errors import CardDeclined, ProcessorUnavailable
from payments.gateway.sandbox import SandboxGateway
from payments.sandbox import services
from payments.sandbox.models import SandboxEvent, SandboxIdempotencyKey, SandboxPaymentIntent, SandboxRefund

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway():
    return SandboxGateway()


def card(number="4242424242424242") -> str:
    return services.payment_method_create(number=number, expiry="12/40", cvc="123")["id"]


def pay(gateway, method, key="order-1", amount=1000):
    return gateway.create_card_payment(amount=amount, currency="EUR", payment_method_id=method, idempotency_key=key)


def test_a_request_lost_before_the_processor_records_nothing(gateway):
    method = card()
    with sandbox.faults("before") as plan:
        with pytest.raises(ProcessorUnavailable):
            pay(gateway, method)

    assert plan.triggered == 1 and plan.broken == ["create_card_payment"]
    assert not SandboxPaymentIntent.objects.exists() and not SandboxIdempotencyKey.objects.exists()
    assert not SandboxEvent.objects.exists()
    assert gateway.find_payment(idempotency_key="order-1") is None

    payment = pay(gateway, method)  # the retry, same key: charged once

    assert payment.status == PaymentStatus.SUCCEEDED
    assert SandboxPaymentIntent.objects.count() == 1


def test_an_answer_lost_after_the_processor_recorded_it_is_found_and_replayed(gateway):
    method = card()
    with sandbox.faults("after"):
        with pytest.raises(ProcessorUnavailable):
            pay(gateway, method)

    recorded = SandboxPaymentIntent.objects.get()
    assert recorded.status == "succeeded" and recorded.idempotency_key == "order-1"
    assert gateway.find_payment(idempotency_key="order-1").id == recorded.id

    retry = pay(gateway, method)

    assert retry.id == recorded.id and retry.status == PaymentStatus.SUCCEEDED
    assert SandboxPaymentIntent.objects.count() == 1


def test_a_decline_whose_answer_was_lost_is_the_same_decline_on_retry(gateway):
    method = card("4000000000000002")
    with sandbox.faults("after"), pytest.raises(ProcessorUnavailable):
        pay(gateway, method)
    failed = SandboxPaymentIntent.objects.get()

    with pytest.raises(CardDeclined) as again:
        pay(gateway, method)

    assert again.value.payment_id == failed.id and SandboxPaymentIntent.objects.count() == 1


def test_a_refund_whose_answer_was_lost_refunds_once(gateway):
    payment = pay(gateway, card())
    with sandbox.faults("after", operation="refund"), pytest.raises(ProcessorUnavailable):
        gateway.refund(payment_id=payment.id, amount=300, idempotency_key="refund-1")

    refund = gateway.refund(payment_id=payment.id, amount=300, idempotency_key="refund-1")

    assert SandboxRefund.objects.get().id == refund.id
    assert gateway.retrieve_payment(payment.id).amount_refunded == 300


def test_faults_break_only_the_named_operation_and_only_as_many_times_as_asked(gateway):
    method = card()
    with sandbox.faults("before", operation="retrieve_payment", times=2) as plan:
        payment = pay(gateway, method)  # not a retrieve: goes through
        for _ in range(2):
            with pytest.raises(ProcessorUnavailable):
                gateway.retrieve_payment(payment.id)
        assert gateway.retrieve_payment(payment.id).id == payment.id

    assert plan.triggered == 2


def test_a_processor_down_for_a_while(gateway):
    method = card()
    with sandbox.faults("before", times=None) as plan:
        for key in ("a", "b", "c"):
            with pytest.raises(ProcessorUnavailable):
                pay(gateway, method, key=key)
    assert plan.triggered == 3 and not SandboxPaymentIntent.objects.exists()

    assert pay(gateway, method, key="a").status == PaymentStatus.SUCCEEDED  # back once the block ends


def test_a_lost_request_then_a_lost_answer(gateway):
    method = card()
    with sandbox.faults("before"), sandbox.faults("after"):
        with pytest.raises(ProcessorUnavailable) as lost:
            pay(gateway, method)
        assert "before the processor" in lost.value.message
        assert not SandboxPaymentIntent.objects.exists()
        with pytest.raises(ProcessorUnavailable) as lost:
            pay(gateway, method)
        assert "answer was lost" in lost.value.message
        assert SandboxPaymentIntent.objects.count() == 1
        recorded = pay(gateway, method)

    assert recorded.id == SandboxPaymentIntent.objects.get().id


def test_bad_fault_plans_are_refused():
    with pytest.raises(ValueError), sandbox.faults("during"):
        pass
    with pytest.raises(ValueError), sandbox.faults("before", operation="charge"):
        pass
    with pytest.raises(ValueError), sandbox.faults("before", times=0):
        pass
