"""The payments tests' session plumbing: localstripe for the stripe adapter's contract scenarios, and the
`adapter_cannot` marker.

`@pytest.mark.adapter_cannot("stripe", reason="…", covered_by="test_…")` on a contract scenario (or on one
of its parameters) leaves that scenario out for that adapter's test processor (deselected, with the
reason in the run's output): `covered_by` must name the test of tests/payments/test_stripe_recorded.py
that checks the same behaviour of the adapter with recorded Stripe responses, and collection stops if it
does not. Nothing is skipped: every behaviour runs against one processor or the other.

Also the fixtures the payments tests share: quick inline retries, a shop with an open register, a cart.
"""

import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from retail.models import Sale
from tests.retail import report_factories as rf

LOCALSTRIPE_SERVER = Path(__file__).with_name("localstripe_server.py")
LOCALSTRIPE_SECRET_KEY = "sk_test_localstripe"  # localstripe accepts any sk_… key
LOCALSTRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"
START_TIMEOUT_SECONDS = 20


def _adapter_cannot(item, adapter: str):
    for marker in item.iter_markers("adapter_cannot"):
        if adapter in marker.args:
            return marker
    return None


def pytest_collection_modifyitems(config, items):
    kept, left_out = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        adapter = callspec.params.get("gateway") if callspec else None
        marker = _adapter_cannot(item, adapter) if adapter else None
        if marker is None:
            kept.append(item)
            continue
        from tests.payments import test_stripe_recorded

        reason, covered_by = marker.kwargs.get("reason"), marker.kwargs.get("covered_by")
        if not reason or not covered_by or not callable(getattr(test_stripe_recorded, covered_by, None)):
            raise pytest.UsageError(f"{item.nodeid}: adapter_cannot needs a reason and covered_by naming a test "
                                    f"of tests/payments/test_stripe_recorded.py (got {covered_by!r})")
        left_out.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def _answers(base: str) -> bool:
    request = urllib.request.Request(f"{base}/v1/customers?limit=1",
                                     headers={"Authorization": f"Bearer {LOCALSTRIPE_SECRET_KEY}"})
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    """localstripe on 127.0.0.1 at a free port, with an empty store; its address. Stopped at the end."""
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, str(LOCALSTRIPE_SERVER)], stdout=subprocess.PIPE, stderr=log,
                                   text=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_SECONDS)
        port = process.stdout.readline().strip() if ready else ""
        if not port.isdigit():
            raise RuntimeError(f"localstripe did not start: {log_path.read_text()[-2000:]}")
        base = f"http://127.0.0.1:{port}"
        while not _answers(base):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"localstripe does not answer at {base}: {log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch):
    """The inline retries of an unknown outcome, without their waits."""
    monkeypatch.setattr("payments.services.attempts.RETRY_DELAYS", (0, 0))


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
