"""Start-up configuration: wrong or missing environment values stop the process with the variable
named; with DEBUG off and production values, Django's deployment check reports nothing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "SECRET_KEY": "x" * 20 + "production-secret-value-0123456789-abcdefghij",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "shop.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/posbackoffice",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/1",
    "EMAIL_URL": "smtp://mailer:secret@mail.example.com:587",
    "PAYMENTS_GATEWAY": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_production-secret",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_production-publishable",
    "STRIPE_WEBHOOK_SECRET": "whsec_production-webhook-secret",
    "PLATFORM_PAYMENTS_GATEWAY": "stripe",
    "PLATFORM_STRIPE_SECRET_KEY": "sk_live_platform-secret",
    "PLATFORM_STRIPE_PUBLISHABLE_KEY": "pk_live_platform-publishable",
    "PLATFORM_STRIPE_WEBHOOK_SECRET": "whsec_platform-webhook-secret",
}


def run_manage(*args, **env_changes):
    test_only = ("HTTPS", "STATIC_MANIFEST", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in GOOD and k not in test_only}
    env.update(GOOD)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env["VAR_DIR"] = str(ROOT / "var" / "test-settings")
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_deploy_check_reports_nothing_with_debug_off():
    result = run_manage("check", "--deploy")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize("changes,expected", [
    ({"SECRET_KEY": None}, "SECRET_KEY is required when DEBUG is off"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY must be at least 50 characters"),
    ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
    ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS is required when DEBUG is off"),
    ({"PAYMENTS_GATEWAY": "paypal"}, "PAYMENTS_GATEWAY must be one of sandbox, stripe"),
    ({"STRIPE_SECRET_KEY": None}, "STRIPE_SECRET_KEY is required when PAYMENTS_GATEWAY is stripe"),
    ({"PLATFORM_PAYMENTS_GATEWAY": "paypal"}, "PLATFORM_PAYMENTS_GATEWAY must be one of sandbox, stripe"),
    ({"PLATFORM_STRIPE_WEBHOOK_SECRET": None},
     "PLATFORM_STRIPE_WEBHOOK_SECRET is required when PLATFORM_PAYMENTS_GATEWAY is stripe"),
    ({"EMAIL_URL": "pigeon://loft"}, "EMAIL_URL has an unknown scheme"),
    ({"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
    ({"AXES_FAILURE_LIMIT": "many"}, "AXES_FAILURE_LIMIT must be a whole number"),
    ({"REDIS_URL": "nonsense"}, "REDIS_URL must be an address starting with redis://"),
    ({"CELERY_BROKER_URL": "foo://bar"}, "CELERY_BROKER_URL must be an address starting with"),
    ({"CELERY_BROKER_URL": "redis://"}, "CELERY_BROKER_URL has no host name"),
    ({"SITE_URL": "shop.example.com"}, "SITE_URL must be an address starting with http:// or https://"),
    ({"STRIPE_API_BASE": "notaurl"}, "STRIPE_API_BASE must be an address"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR"),
    ({"SANDBOX_FAILURE_RATE": "often"}, "SANDBOX_FAILURE_RATE must be a number"),
    ({"SANDBOX_FAILURE_RATE": "1.5"}, "SANDBOX_FAILURE_RATE must be between 0.0 and 1.0, got 1.5"),
])
def test_bad_environment_stops_start_up_naming_the_variable(changes, expected):
    result = run_manage("check", **changes)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert expected in result.stderr


def test_deploy_check_warns_about_forgotten_production_variables():
    result = run_manage("check", "--deploy", DATABASE_URL=None, CELERY_BROKER_URL=None, EMAIL_URL=None)
    output = result.stdout + result.stderr
    assert "posbackoffice.W001" in output and "DATABASE_URL is not set" in output
    assert "posbackoffice.W002" in output and "posbackoffice.W003" in output


def test_deploy_check_warns_when_production_takes_cards_with_the_sandbox():
    """The sandbox's tokenizer answers and its payments "succeed" with no money moving: in production that is
    a forgotten PAYMENTS_GATEWAY, said as plainly as SQLite is."""
    result = run_manage("check", "--deploy", PAYMENTS_GATEWAY=None, STRIPE_SECRET_KEY=None,
                        STRIPE_PUBLISHABLE_KEY=None, STRIPE_WEBHOOK_SECRET=None)
    output = result.stdout + result.stderr
    assert "posbackoffice.W004" in output and "card payments go to the offline sandbox" in output
    assert "posbackoffice.W001" not in output and "posbackoffice.W005" not in output


def test_deploy_check_warns_when_the_platform_bills_merchants_with_the_sandbox():
    result = run_manage("check", "--deploy", PLATFORM_PAYMENTS_GATEWAY=None, PLATFORM_STRIPE_SECRET_KEY=None,
                        PLATFORM_STRIPE_PUBLISHABLE_KEY=None, PLATFORM_STRIPE_WEBHOOK_SECRET=None)
    output = result.stdout + result.stderr
    assert "posbackoffice.W005" in output and "merchants pay the platform goes to the offline sandbox" in output
    assert "posbackoffice.W004" not in output


def sandbox_webhook_secret(**env_changes) -> str:
    result = run_manage("shell", "--no-imports", "-c",
                        "from django.conf import settings; print(settings.SANDBOX_WEBHOOK_SECRET)", **env_changes)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_sandbox_webhook_secret_reveals_nothing_of_the_secret_key():
    """Derived one way (HMAC-SHA256) from SECRET_KEY: stable, different for another key, and no run of six
    characters of the key appears in it. SANDBOX_WEBHOOK_SECRET, when set, is used as it is."""
    key, other_key = GOOD["SECRET_KEY"], "y" * 20 + "another-production-secret-9876543210-klmnopqrst"
    secret = sandbox_webhook_secret()

    assert secret.startswith("whsec_") and len(secret) >= 40
    assert not [key[i:i + 6] for i in range(len(key) - 5) if key[i:i + 6] in secret]
    assert sandbox_webhook_secret() == secret
    assert sandbox_webhook_secret(SECRET_KEY=other_key) not in ("", secret)
    assert sandbox_webhook_secret(SANDBOX_WEBHOOK_SECRET="whsec_chosen_by_the_operator") == \
        "whsec_chosen_by_the_operator"
