"""posbackoffice settings: one module, configured only through environment variables.

Every variable is documented in README.md ("Environment variables"). Defaults are the embedded
development setup used by `make run`: SQLite and a no-server Celery broker under var/, e-mails kept
in var/mail, the offline sandbox payment processor.
"""

import hashlib
import hmac
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from posbackoffice.env import env_bool, env_choice, env_float, env_int, env_list, env_str, env_url
from posbackoffice.mailconfig import mailers_from_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
# HTTPS-only cookies, HSTS and the HTTPS redirect: on whenever DEBUG is off, unless told otherwise
# (tests and local runs without a certificate set HTTPS=false).
HTTPS = env_bool("HTTPS", not DEBUG)


def _secret_key() -> str:
    key = env_str("SECRET_KEY", None)
    if key:
        if len(key) < 50:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long.")
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    # Development: generate once and keep it, so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

# The public base address: the one source of every absolute link we hand out (QR codes, card-update
# links, password resets, pay links), whatever address the page that shows or sends it was opened with.
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=["http", "https"]).rstrip("/")
# In development the SITE_URL's host is served too (`make run HOST=0.0.0.0 SITE_URL=http://192.168.1.20:8000`).
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", list(dict.fromkeys(["127.0.0.1", "localhost", urlsplit(SITE_URL).hostname]))
                         if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is off (comma-separated host names).")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "posbackoffice",
    "accounts",
    "billing",
    "retail",
    "payments",
    "payments.sandbox",
    "saved_cards",
    "subscriptions",
    "paylinks",
    "terminal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "posbackoffice.middleware.PrivatePagesMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.tenancy.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "posbackoffice.urls"
WSGI_APPLICATION = "posbackoffice.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.shell",
            ],
            "builtins": ["posbackoffice.templatetags.shell"],
        },
    }
]

# Database: DATABASE_URL (postgres://user:pass@host:5432/name), or SQLite under var/ by default.
_database_url = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
try:
    # A kept connection (DB_CONN_MAX_AGE > 0) is checked before its first use in each request or task, so
    # that one broken by a PostgreSQL restart is replaced rather than failing that request or task.
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
                                                  conn_health_checks=True)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database address: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and immediate transactions let the web server and the Celery worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when REDIS_URL is set, process memory otherwise.
REDIS_URL = env_url("REDIS_URL", None, schemes=["redis", "rediss", "unix"])
# A cache outage is a cache miss (posbackoffice.cache): short socket timeouts, nothing raised.
CACHES = {
    "default": (
        {"BACKEND": "posbackoffice.cache.FailOpenRedisCache", "LOCATION": REDIS_URL,
         "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

# Repeated failed logins: five failures for one e-mail address from one IP lock it for 15 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The login form posts the e-mail address in its "username" field (Django's AuthenticationForm); failures
# count against the address in its one lower-case form, however it was typed.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.login.lockout_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("PROXY_COUNT", 0, minimum=0) or None

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie, but keep it simple
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy: only our own scripts, styles and images; no inline script anywhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-src": [CSP.SELF],
    "frame-ancestors": [CSP.SELF],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = DEBUG

# E-mail
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "posbackoffice <no-reply@posbackoffice.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MAILERS, EMAIL_OUTBOX_DIR = mailers_from_url(env_str("EMAIL_URL", "outbox://"), default_outbox=VAR_DIR / "mail")

# Celery: a no-server broker (kombu's filesystem transport under var/) unless CELERY_BROKER_URL is set.
CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", "filesystem://",
                            schemes=["filesystem", "redis", "rediss", "amqp", "amqps", "memory"])
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A message is acknowledged once its task is done (acks_late). A message taken by a worker that
        # died without acknowledging it (SIGKILL, power loss) goes back to the queue after this long,
        # restored by any running worker; a pool child killed under a live worker is requeued at once
        # (reject_on_worker_lost). Longer than any task and any retry's countdown (jobs.backoff caps are
        # below it), or a message would be delivered twice — which a row's claim would refuse anyway.
        "visibility_timeout": 15 * 60,
        # A broker that disappears must not hang a request that publishes (posbackoffice.jobs.publish).
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
    }
elif CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    (VAR_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        # Without it kombu writes its broadcast (control) files to ./control wherever the process runs.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Payments: two payees, each with its own processor account (payments.gateway.get_gateway). The merchant's
# (PAYMENTS_GATEWAY, STRIPE_*) takes the shop's customers' money; the platform's (PLATFORM_*) takes the
# merchant's own payments to us, the POS vendor (billing).
PAYMENTS_GATEWAY = env_choice("PAYMENTS_GATEWAY", ["sandbox", "stripe"], "sandbox")
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
PLATFORM_PAYMENTS_GATEWAY = env_choice("PLATFORM_PAYMENTS_GATEWAY", ["sandbox", "stripe"], "sandbox")
PLATFORM_STRIPE_SECRET_KEY = env_str("PLATFORM_STRIPE_SECRET_KEY", "")
PLATFORM_STRIPE_PUBLISHABLE_KEY = env_str("PLATFORM_STRIPE_PUBLISHABLE_KEY", "")
PLATFORM_STRIPE_WEBHOOK_SECRET = env_str("PLATFORM_STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_url("STRIPE_API_BASE", "https://api.stripe.com", schemes=["http", "https"]).rstrip("/")
for _prefix in ("", "PLATFORM_"):
    if globals()[f"{_prefix}PAYMENTS_GATEWAY"] == "stripe":
        for _name in (f"{_prefix}STRIPE_{key}" for key in ("SECRET_KEY", "PUBLISHABLE_KEY", "WEBHOOK_SECRET")):
            if not globals()[_name]:
                raise ImproperlyConfigured(f"{_name} is required when {_prefix}PAYMENTS_GATEWAY is stripe.")
# The accounting integration (Setup › Integrations): `sandbox` (offline, deterministic) or `xero` (the
# xero-python SDK, with the platform's Xero app's OAuth2 client; the merchant consents on Xero's page).
ACCOUNTING_ADAPTER = env_choice("ACCOUNTING_ADAPTER", ["sandbox", "xero"], "sandbox")
XERO_CLIENT_ID = env_str("XERO_CLIENT_ID", "")
XERO_CLIENT_SECRET = env_str("XERO_CLIENT_SECRET", "")
if ACCOUNTING_ADAPTER == "xero" and not (XERO_CLIENT_ID and XERO_CLIENT_SECRET):
    raise ImproperlyConfigured("XERO_CLIENT_ID and XERO_CLIENT_SECRET are required when ACCOUNTING_ADAPTER is xero.")
# The sandbox signs its webhook events like Stripe does, with this secret. Derived one way from SECRET_KEY
# (HMAC-SHA256 of a fixed label), so knowing it reveals nothing of SECRET_KEY.
SANDBOX_WEBHOOK_SECRET = env_str("SANDBOX_WEBHOOK_SECRET", "whsec_" + hmac.new(
    SECRET_KEY.encode(), b"posbackoffice.sandbox-webhook-secret", hashlib.sha256).hexdigest())
# The processor's rate limit, per processor account, in requests a second (payments.gateway.pacing): every
# worker and web process of the machine shares the count through Redis and waits for the next second when it
# is spent.
# 0 (the default): unpaced. With Stripe live, 95 (its limit is 100). The sandbox can play a live processor
# for the benchmarks: SANDBOX_LATENCY_MS per request, and a 429 above SANDBOX_RATE_LIMIT requests a second.
PROCESSOR_RATE_LIMIT = env_int("PROCESSOR_RATE_LIMIT", 0, minimum=0)
SANDBOX_LATENCY_MS = env_int("SANDBOX_LATENCY_MS", 0, minimum=0)
SANDBOX_RATE_LIMIT = env_int("SANDBOX_RATE_LIMIT", 0, minimum=0)
# Fault runs with real worker processes (bench/faults/processor_failures.py): the share of sandbox processor
# calls that fail at random (a request lost, an answer lost, a rate limit; payments.gateway.sandbox), and the
# seed of each process's sequence of failures (empty: a new sequence each run). Never set in production.
SANDBOX_FAILURE_RATE = env_float("SANDBOX_FAILURE_RATE", 0.0, minimum=0.0, maximum=1.0)
SANDBOX_FAILURE_SEED = env_str("SANDBOX_FAILURE_SEED", "")
# Card readers: how many sell screens may wait at once for their reader's result (a long-poll of at most
# 10 s each, terminal.live); 0 (the default) leaves every screen polling every 500 ms. Each waiting request
# holds a web worker while it waits: keep it below the web server's capacity (docs/architecture.md,
# terminal, "Live status").
TERMINAL_LIVE_WAITERS = env_int("TERMINAL_LIVE_WAITERS", 0, minimum=0)
# With Stripe, the pages that take a card add Stripe.js's origins to this policy, and only those pages
# (payments.card_entry.card_entry_page); the sandbox default needs none.

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"without_permission_denied": {"()": "posbackoffice.log.WithoutPermissionDenied"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", ["DEBUG", "INFO", "WARNING", "ERROR"], "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # Django's lines through the root's handler only: its own console handler printed each twice in DEBUG.
        "django": {"handlers": []},
        # A refused page is one line of posbackoffice.refused (posbackoffice.views.permission_denied).
        "django.request": {"filters": ["without_permission_denied"]},
    },
}
