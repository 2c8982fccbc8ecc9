"""Deployment checks of our own: with DEBUG off, the embedded development defaults (SQLite, the
file-system broker, e-mails kept on disk, the sandbox payment processor) are almost certainly a
forgotten variable."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def embedded_defaults_in_production(app_configs, **kwargs):
    if settings.DEBUG:
        return []
    found = []
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        found.append(checks.Warning(
            "DATABASE_URL is not set: the database is the development SQLite file.",
            hint="Set DATABASE_URL=postgres://user:password@host:5432/name.", id="posbackoffice.W001"))
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        found.append(checks.Warning(
            "CELERY_BROKER_URL is not set: tasks go through the development file-system queue.",
            hint="Set CELERY_BROKER_URL=redis://host:6379/1.", id="posbackoffice.W002"))
    if settings.EMAIL_OUTBOX_DIR is not None:
        found.append(checks.Warning(
            "EMAIL_URL is not set: e-mails are kept on disk instead of being sent.",
            hint="Set EMAIL_URL=smtp://user:password@host:587.", id="posbackoffice.W003"))
    if settings.PAYMENTS_GATEWAY == "sandbox":
        found.append(checks.Warning(
            "PAYMENTS_GATEWAY is not set: card payments go to the offline sandbox, which accepts test cards "
            "and moves no money.",
            hint="Set PAYMENTS_GATEWAY=stripe with STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY and "
                 "STRIPE_WEBHOOK_SECRET.", id="posbackoffice.W004"))
    if settings.PLATFORM_PAYMENTS_GATEWAY == "sandbox":
        found.append(checks.Warning(
            "PLATFORM_PAYMENTS_GATEWAY is not set: what merchants pay the platform goes to the offline sandbox, "
            "which moves no money.",
            hint="Set PLATFORM_PAYMENTS_GATEWAY=stripe with PLATFORM_STRIPE_SECRET_KEY, "
                 "PLATFORM_STRIPE_PUBLISHABLE_KEY and PLATFORM_STRIPE_WEBHOOK_SECRET.", id="posbackoffice.W005"))
    return found
