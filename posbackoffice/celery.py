"""The Celery application: configuration from Django settings (CELERY_*), tasks auto-discovered
from every installed app's tasks.py, and the beat schedule kept here in code."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "posbackoffice.settings")

app = Celery("posbackoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
    "reconcile-payments": {
        "task": "payments.tasks.reconcile_payments",
        "schedule": 120.0,
    },
    "mark-expired-saved-cards": {
        "task": "saved_cards.tasks.mark_expired_cards",
        "schedule": crontab(hour=2, minute=41),  # UTC: after midnight in the shops' time zones (Europe)
    },
}
