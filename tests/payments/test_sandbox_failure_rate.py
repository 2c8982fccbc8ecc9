"""SANDBOX_FAILURE_RATE: the sandbox adapter failing a share of its calls at random, for fault runs with
real worker processes (bench/faults/processor_failures.py), which a `faults()` block cannot reach."""

import pytest
from django.test import override_settings

from payments.gateway import sandbox
from payments.gateway.base import PaymentStatus
from payments.gateway.errors import ProcessorUnavailable
from payments.gateway.sandbox import SandboxGateway
from payments.sandbox import services
from payments.sandbox.models import SandboxPaymentIntent

pytestmark = pytest.mark.django_db


def card() -> str:
    return services.payment_method_create(number="4242424242424242", expiry="12/40", cvc="123")["id"]


def failures(rate: float, seed: str, calls: int) -> list[str | None]:
    with override_settings(SANDBOX_FAILURE_RATE=rate, SANDBOX_FAILURE_SEED=seed):
        return [sandbox._random_failure("charge_saved_card") for _ in range(calls)]


def test_off_by_default_nothing_fails():
    assert failures(0.0, "", 200) == [None] * 200


def test_the_share_of_failures_is_the_rate_and_all_three_kinds_occur():
    drawn = failures(0.2, "13", 2000)

    failed = [kind for kind in drawn if kind is not None]
    assert 0.17 < len(failed) / len(drawn) < 0.23
    assert set(failed) == {sandbox.BEFORE, sandbox.AFTER, sandbox.RATE_LIMITED}


def test_a_seed_repeats_the_same_sequence():
    first = failures(0.5, "42", 100)
    failures(0.5, "7", 10)  # another seed in between starts its own sequence

    assert failures(0.5, "42", 100) == first


def test_each_kind_fails_the_call_as_the_processor_would_and_a_retry_with_the_key_charges_once():
    gateway, method = SandboxGateway(), card()
    seen = set()
    with override_settings(SANDBOX_FAILURE_RATE=0.6, SANDBOX_FAILURE_SEED="3"):
        for attempt in range(40):
            key = f"order-{attempt}"
            for _ in range(100):  # retried with its key until it goes through, as our tasks do
                try:
                    payment = gateway.create_card_payment(
                        amount=1000, currency="EUR", payment_method_id=method, idempotency_key=key
                    )
                    break
                except ProcessorUnavailable as error:
                    seen.add(error.code)
            assert payment.status == PaymentStatus.SUCCEEDED
            assert SandboxPaymentIntent.objects.filter(idempotency_key=key).count() == 1

    assert seen == {"processor_unavailable", "rate_limited"}
    assert SandboxPaymentIntent.objects.count() == 40


@pytest.mark.parametrize("kind", [sandbox.BEFORE, sandbox.RATE_LIMITED, sandbox.AFTER])
def test_before_and_rate_limited_record_nothing_after_records_the_charge(monkeypatch, kind):
    gateway, method = SandboxGateway(), card()
    monkeypatch.setattr(sandbox, "_random_failure", lambda operation: kind)

    with pytest.raises(ProcessorUnavailable) as lost:
        gateway.create_card_payment(amount=1000, currency="EUR", payment_method_id=method, idempotency_key="order-1")

    assert lost.value.code == ("rate_limited" if kind == sandbox.RATE_LIMITED else "processor_unavailable")
    assert SandboxPaymentIntent.objects.filter(idempotency_key="order-1").exists() == (kind == sandbox.AFTER)
