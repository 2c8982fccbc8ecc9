import re

import pytest

from accounts.models import Account


@pytest.fixture
def shop(demo_shop):
    return Account.objects.get(name="Boutique Léa")


@pytest.fixture
def login(page, live_server):
    def _login(email, password="demo"):
        page.goto(f"{live_server.url}/login/")
        page.locator("input[name=username]").fill(email)
        page.locator("input[name=password]").fill(password)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(re.compile(r"^(?!.*/login/).*$"))
        return page

    return _login


@pytest.fixture(autouse=True)
def _no_outside_requests(page, live_server):
    """Every request a page makes must go to our own server."""
    outside = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith((live_server.url, "data:", "about:")) else None)
    yield
    assert outside == [], f"requests outside the server: {outside}"
