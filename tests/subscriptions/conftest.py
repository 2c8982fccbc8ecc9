import pytest

from payments import services as payment_services
from tests.subscriptions.builders import subs_shop


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch):
    """The payments core's inline retries of an unknown outcome, without their waits."""
    monkeypatch.setattr(payment_services, "RETRY_DELAYS", (0, 0))


@pytest.fixture
def shop(account):
    return subs_shop(account)
