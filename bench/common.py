"""What every benchmark script shares: the environment the settings need, pointed at the bench
database, and Django set up with it. Any variable already set in the environment wins."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pos_bench"
OWNER_EMAIL = "owner@bench.test"
OWNER_PASSWORD = "bench"

# The same list as the pytest env in pyproject.toml, with the bench database, Redis databases 10/11
# (apart from the tests' 0/1) and DEBUG off, as in production.
ENVIRONMENT = {
    "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "DEBUG": "false",
    "HTTPS": "false",
    "STATIC_MANIFEST": "false",
    "ALLOWED_HOSTS": "testserver,localhost",
    "DATABASE_URL": BENCH_DATABASE_URL,
    "REDIS_URL": "redis://127.0.0.1:6379/10",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/11",
    "CELERY_TASK_ALWAYS_EAGER": "true",
    "EMAIL_URL": "memory://",
    "PAYMENTS_GATEWAY": "sandbox",
    "VAR_DIR": str(ROOT / "var" / "bench"),
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "posbackoffice.settings",
}


def setup_django() -> None:
    for name, value in ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django

    django.setup()
