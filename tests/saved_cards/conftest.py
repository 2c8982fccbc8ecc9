import pytest

from tests.retail import report_factories as rf
from tests.saved_cards.builders import enable


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch):
    """The payments core's inline retries of an unknown outcome, without their waits."""
    monkeypatch.setattr("payments.services.attempts.RETRY_DELAYS", (0, 0))


@pytest.fixture
def till_shop(account):
    """The account with saved payment methods on, and an outlet whose register is open."""
    enable(account)
    shop = rf.make_shop(account, cheque=False)
    rf.open_register(shop)
    return shop
