import pytest
from django.utils import translation

from tests.subscriptions.builders import subs_shop


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch):
    """The payments core's inline retries of an unknown outcome, without their waits."""
    monkeypatch.setattr("payments.services.attempts.RETRY_DELAYS", (0, 0))


@pytest.fixture(autouse=True)
def _english():
    """Services' messages read in English here, whatever a page activated before."""
    with translation.override("en"):
        yield


@pytest.fixture
def shop(account):
    return subs_shop(account)


# The real-worker tests' Redis and workers (tests/jobs).
from tests.jobs.conftest import private_redis, start_worker  # noqa: E402, F401
