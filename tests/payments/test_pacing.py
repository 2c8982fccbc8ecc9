"""The processor's rate limit: our side paces its requests (PROCESSOR_RATE_LIMIT), the sandbox can refuse
like a live processor above its limit (SANDBOX_RATE_LIMIT) and answer late (SANDBOX_LATENCY_MS)."""

import datetime
import time
import uuid

import pytest
import time_machine
from django.core.cache import cache
from django.test import override_settings

from payments.gateway import MERCHANT, PLATFORM, get_gateway, pacing, reset_gateway_cache
from payments.gateway import sandbox as sandbox_adapter
from payments.gateway.errors import ProcessorUnavailable
from payments.gateway.pacing import PacedGateway, RateWindow
from payments.gateway.sandbox import SandboxGateway
from payments.sandbox.models import SandboxCustomer

pytestmark = pytest.mark.django_db


class FakeClock:
    def __init__(self, now: float):
        self.now, self.slept = now, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def _window(per_second: int, clock: FakeClock) -> RateWindow:
    return RateWindow(f"test-{uuid.uuid4().hex}", per_second, clock=clock, sleep=clock.sleep)


def test_requests_within_the_limit_go_at_once_and_the_next_waits_for_the_next_second():
    clock = FakeClock(1_000_000.25)
    window = _window(2, clock)

    window.take()
    window.take()
    assert clock.slept == []

    window.take()
    assert clock.slept == [0.75]  # until 1,000,001.0, the next second's first slot
    assert clock.now == 1_000_001.0


def test_every_process_shares_the_count():
    clock = FakeClock(2_000_000.5)
    name = f"test-{uuid.uuid4().hex}"
    one, other = (RateWindow(name, 3, clock=clock, sleep=clock.sleep) for _ in range(2))

    assert [one.try_take(), other.try_take(), one.try_take(), other.try_take()] == [True, True, True, False]


def test_without_the_cache_requests_go_unpaced(monkeypatch):
    class Unavailable:  # what FailOpenRedisCache answers during a Redis outage
        def add(self, *args, **kwargs):
            return False

        def incr(self, *args, **kwargs):
            raise ValueError("the cache is unavailable")

    monkeypatch.setattr(pacing, "cache", Unavailable())
    clock = FakeClock(3_000_000.0)
    window = _window(1, clock)

    for _ in range(5):
        window.take()
    assert clock.slept == []


def test_the_gateway_is_paced_when_a_limit_is_set():
    reset_gateway_cache()
    try:
        with override_settings(PROCESSOR_RATE_LIMIT=95):
            gateway = get_gateway(MERCHANT)
            assert isinstance(gateway, PacedGateway)
            assert gateway.name == "sandbox"
            # Both payees on one processor account (the sandbox) share the adapter and its count: reconciliation
            # reads each processor account once, telling them apart by the adapter they get.
            assert get_gateway(PLATFORM) is gateway
            key = f"processor-rate:{gateway._window.name}:{{}}"
            with time_machine.travel(datetime.datetime(2031, 5, 4, 10, 0, 0, tzinfo=datetime.UTC), tick=False):
                cache.delete(key.format(int(time.time())))
                gateway.browser_config()  # read locally: no slot taken
                assert cache.get(key.format(int(time.time()))) is None
                customer = gateway.create_customer(email="a@example.test", name="A", idempotency_key="paced-1")
                assert cache.get(key.format(int(time.time()))) == 1
            assert SandboxCustomer.objects.filter(id=customer.id).exists()
        reset_gateway_cache()
        assert isinstance(get_gateway(MERCHANT), SandboxGateway)  # no limit, no pacing
    finally:
        reset_gateway_cache()


@override_settings(SANDBOX_RATE_LIMIT=1)
def test_the_sandbox_refuses_above_its_limit_before_recording_anything():
    gateway = SandboxGateway()
    with time_machine.travel(datetime.datetime(2031, 5, 4, 11, 0, 0, tzinfo=datetime.UTC), tick=False) as traveller:
        cache.delete(f"processor-rate:sandbox-processor:{int(time.time())}")
        gateway.create_customer(email="a@example.test", name="A", idempotency_key="limited-1")
        before = SandboxCustomer.objects.count()

        with pytest.raises(ProcessorUnavailable) as refused:
            gateway.create_customer(email="b@example.test", name="B", idempotency_key="limited-2")

        assert refused.value.code == "rate_limited"
        assert SandboxCustomer.objects.count() == before

        traveller.shift(1)  # the next second has a slot again
        gateway.create_customer(email="b@example.test", name="B", idempotency_key="limited-2")
        assert SandboxCustomer.objects.count() == before + 1


@override_settings(SANDBOX_LATENCY_MS=300)
def test_the_sandbox_answers_after_its_latency(monkeypatch):
    waited = []
    monkeypatch.setattr(sandbox_adapter.time, "sleep", waited.append)

    SandboxGateway().create_customer(email="a@example.test", name="A", idempotency_key="late-1")

    assert waited == [0.3]
