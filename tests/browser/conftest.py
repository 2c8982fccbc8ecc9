import logging

import pytest

from accounts.models import Account
from tests.browser import accessibility
from tests.browser.card_numbers import found_in_database, found_in_logs
from tests.browser.steps import sign_in


@pytest.fixture
def shop(demo_shop):
    return Account.objects.get(name="Boutique Léa")


@pytest.fixture
def login(page, live_server):
    """Sign in as one of the demo shop's staff (password "demo")."""
    def _login(email, password="demo"):
        sign_in(page, live_server.url, email, password)
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


@pytest.fixture(autouse=True)
def _accessible(context, monkeypatch):
    """axe on every page the journey opens, in its own context and in those it opens (a customer's phone):
    no serious or critical violation (tests/browser/accessibility.py)."""
    from playwright.sync_api import Browser

    reports, contexts = [], [context]
    accessibility.watch(context, reports)
    new_context = Browser.new_context

    def watched_context(self, *args, **kwargs):
        opened = new_context(self, *args, **kwargs)
        accessibility.watch(opened, reports)
        contexts.append(opened)
        return opened

    monkeypatch.setattr(Browser, "new_context", watched_context)
    yield reports
    accessibility.finish(contexts)
    problems = accessibility.problems(reports)
    assert problems == [], "\n".join(problems)
    assert reports, "axe checked no page"


class _EveryLine(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture(autouse=True)
def _no_card_numbers_kept(live_server):
    """After each journey, before its data is flushed: no test card number in any table or log line
    (the web server runs in this process, so its logging is the session's)."""
    handler = _EveryLine()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(handler)
    root.setLevel(level)
    assert found_in_logs(handler.lines) == []
    assert found_in_database() == []
