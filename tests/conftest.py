"""Test session set-up: real PostgreSQL and Redis (checked first, failing fast), Debian's chromium
for Playwright, and the shared fixtures."""

import os
import socket
from urllib.parse import urlsplit

import pytest

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _reachable(url: str, default_port: int) -> tuple[bool, str]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return True, f"{host}:{port}"
    except OSError:
        return False, f"{host}:{port}"


def pytest_configure(config):
    problems = []
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        ok, where = _reachable(database_url, 5432)
        if not ok:
            problems.append(f"PostgreSQL is not reachable at {where} (DATABASE_URL). "
                            "Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        url = os.environ.get(name, "")
        if url.startswith("redis"):
            ok, where = _reachable(url, 6379)
            if not ok:
                problems.append(f"Redis is not reachable at {where} ({name}). Start it: redis-server --daemonize yes")
                break
    if problems:
        pytest.exit("\n".join(problems), returncode=3)

    # Parallel test processes share one Redis: keep their cache keys apart.
    from django.conf import settings

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    settings.CACHES["default"]["KEY_PREFIX"] = f"test-{worker}"
    # Hashing passwords the production way costs ~0.3 s per user; tests create hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": BROWSER_ARGS}


@pytest.fixture(autouse=True)
def _isolated_cache():
    from django.core.cache import cache

    cache.clear()
    yield


pytest_plugins = ["tests.fixtures"]
