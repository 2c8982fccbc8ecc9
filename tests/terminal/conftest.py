import pytest

from terminal import driver
from tests.payments.conftest import _quick_retries as _quick_payment_retries  # noqa: F401 - autouse
from tests.payments.conftest import cart, shop  # noqa: F401 - the same shop and sale in progress
from tests.terminal.builders import reader_for


@pytest.fixture(autouse=True)
def _quick_reader_retries(monkeypatch):
    """The driver's inline retries of a reader timeout, without their waits."""
    monkeypatch.setattr(driver, "RETRY_DELAYS", (0, 0))


@pytest.fixture
def reader(shop):  # noqa: F811
    return reader_for(shop)
