"""The randomized money-integrity run (tests/integrity/machine.py), short: about 200 steps. The long run
(10,000 steps, with the counts) is `make -C bench integrity`."""

import os

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.integrity.machine import COUNTS, MoneyMachine

pytestmark = pytest.mark.django_db

STEPS = int(os.environ.get("INTEGRITY_STEPS", "200"))
# A run is a new shop (about 2 s to set up): long runs, few of them.
STEPS_PER_RUN = int(os.environ.get("INTEGRITY_STEPS_PER_RUN", "40"))


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch):
    monkeypatch.setattr("payments.services.attempts.RETRY_DELAYS", (0, 0))


def test_money_is_never_lost_doubled_or_invented():
    COUNTS.clear()
    # Hypothesis ends some runs before STEPS_PER_RUN steps (a sequence it judges done), so runs go on until
    # STEPS steps were taken: `make -C bench integrity` promises that many.
    while True:
        taken = COUNTS["steps"]
        run_state_machine_as_test(MoneyMachine, settings=settings(
            max_examples=(STEPS - taken) // STEPS_PER_RUN + 1, stateful_step_count=STEPS_PER_RUN, deadline=None,
            # `make test` runs the same sequence every time; the bench (INTEGRITY_RANDOM=1) new ones each run.
            database=None, derandomize=not os.environ.get("INTEGRITY_RANDOM"),
            suppress_health_check=list(HealthCheck),
            # Shrinking a failing run of services on PostgreSQL takes minutes: INTEGRITY_SHRINK=1 asks for it.
            phases=list(Phase) if os.environ.get("INTEGRITY_SHRINK") else [Phase.explicit, Phase.generate]))
        if COUNTS["steps"] >= STEPS or COUNTS["steps"] == taken:  # enough, or no step more could be taken
            break
    print("integrity:", dict(sorted(COUNTS.items())))
    assert COUNTS["discrepancies"] == 0 and COUNTS["steps"] > 0
