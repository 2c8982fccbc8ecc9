import pytest

from payments import services
from retail.models import Sale
from tests.retail import report_factories as rf


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch):
    """The inline retries of an unknown outcome, without their waits."""
    monkeypatch.setattr(services, "RETRY_DELAYS", (0, 0))


@pytest.fixture
def shop(account):
    """An outlet whose register is open."""
    shop = rf.make_shop(account, cheque=False)
    rf.open_register(shop)
    return shop


@pytest.fixture
def cart(shop):
    """A sale in progress on the shop's register: 2 × 24,50 € of scarves for Léa Roux."""
    scarf = rf.product(shop, sku="ECH-1", name="Écharpe", price=2450, rate_bp=2000)
    sale = rf.leave_in_progress(shop, [(scarf, 2)])
    buyer = rf.customer(shop, first_name="Léa", last_name="Roux", email="lea@exemple.fr")
    Sale.objects.filter(pk=sale.pk).update(customer=buyer)
    sale.refresh_from_db()
    return sale
