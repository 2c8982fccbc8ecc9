"""The randomized money-integrity run (tests/integrity/machine.py), short: about 200 steps. The long run
(10,000 steps, with the counts) is `make -C bench integrity`."""

import os

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from payments import services
from tests.integrity.machine import COUNTS, MoneyMachine

pytestmark = pytest.mark.django_db

STEPS = int(os.environ.get("INTEGRITY_STEPS", "200"))
STEPS_PER_RUN = 20


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch):
    monkeypatch.setattr(services, "RETRY_DELAYS", (0, 0))


def test_money_is_never_lost_doubled_or_invented():
    COUNTS.clear()
    run_state_machine_as_test(MoneyMachine, settings=settings(
        max_examples=max(STEPS // STEPS_PER_RUN, 1), stateful_step_count=STEPS_PER_RUN, deadline=None,
        database=None, derandomize=os.environ.get("INTEGRITY_SEED") is None,
        suppress_health_check=list(HealthCheck),
        # Shrinking a failing run of services on PostgreSQL takes minutes: INTEGRITY_SHRINK=1 asks for it.
        phases=list(Phase) if os.environ.get("INTEGRITY_SHRINK") else [Phase.explicit, Phase.generate]))
    assert COUNTS["discrepancies"] == 0 and COUNTS["steps"] > 0
