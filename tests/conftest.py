"""Test session set-up: real PostgreSQL and Redis (checked first, failing fast), Debian's chromium
for Playwright, and the shared fixtures.

`make test` runs the suite in parallel processes (pytest-xdist, `--dist loadgroup`). Each has its own test
database (pytest-django), cache keys, export files and live server; what they cannot share runs in one
process: the tests with a real Celery worker on the shared broker (`worker` marker, group "celery-broker"),
and a module-scoped fixture's tests (`xdist_group` in the module, e.g. the i18n extraction)."""

import functools
import os
from pathlib import Path

import pytest

from tests import system_check

GROUP_LOST = pytest.StashKey[bool]()  # a test whose xdist_group was dropped

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_configure(config):
    problems = system_check.service_problems()
    if problems:
        pytest.exit("\n".join(problems), returncode=3)

    # Parallel test processes share one Redis and one VAR_DIR: keep their cache keys and files apart.
    from django.conf import settings

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    settings.CACHES["default"]["KEY_PREFIX"] = f"test-{worker}"
    settings.MEDIA_ROOT = Path(settings.VAR_DIR) / f"media-{worker}"
    # Hashing passwords the production way costs ~0.3 s per user; tests create hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _catalogues_survive_flushes()


# The platform's catalogues seeded by data migrations (billing's plans and prices, accounts' third-party
# apps). A test that commits (transaction=True, the browser journeys' live server) ends with Django's
# flush, which empties every table, these included, and the tests after it in the same process would
# find no plan (Django documents this caveat of TransactionTestCase). They are put back right after
# each such flush, the way the migrations wrote them.
CATALOGUE_SEEDS = ("billing.migrations.0002_seed_catalogue", "accounts.migrations.0009_third_party_app_catalogue")


def _catalogues_survive_flushes():
    import importlib

    from django.apps import apps
    from django.test import TransactionTestCase

    flush = TransactionTestCase._fixture_teardown

    @functools.wraps(flush)
    def flush_then_reseed(self):
        flush(self)
        for module in CATALOGUE_SEEDS:
            importlib.import_module(module).seed(apps, None)

    TransactionTestCase._fixture_teardown = flush_then_reseed


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": system_check.CHROMIUM, "args": BROWSER_ARGS}


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    for item in items:  # before pytest-xdist reads the groups
        if item.get_closest_marker("worker"):
            item.add_marker(pytest.mark.xdist_group("celery-broker"))
    yield
    # pytest-xdist marks a test's group by suffixing its id; where pytest no longer lets it change ids
    # (pytest 9.2, pytest-xdist#1386) every group is silently dropped: such tests fail, saying so.
    if getattr(config.option, "loadgroup", False):
        for item in items:
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
                item.stash[GROUP_LOST] = True


def pytest_runtest_setup(item):
    if item.stash.get(GROUP_LOST, False):
        pytest.fail("--dist loadgroup dropped this test's xdist_group: this pytest and pytest-xdist cannot group "
                    "(pytest-xdist#1386; pyproject.toml pins pytest below 9.2 for it)", pytrace=False)


@functools.cache
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url)


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Every test starts with an empty cache: its own process's keys deleted (not FLUSHDB, which would
    empty the cache of a test running in a parallel process)."""
    from django.conf import settings
    from django.core.cache import cache

    config = settings.CACHES["default"]
    if config["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        cache.clear()
    else:
        client = _redis(config["LOCATION"])
        keys = list(client.scan_iter(match=f"{config['KEY_PREFIX']}:*", count=1000))
        if keys:
            client.delete(*keys)
    yield


pytest_plugins = ["tests.fixtures"]


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language. A request through the test client leaves its user's
    language active in the test's thread (the tenancy middleware activates it, as LocaleMiddleware does,
    for the next request to replace), so without this a test's outcome would depend on the one before."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
