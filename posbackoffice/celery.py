"""The Celery application: configuration from Django settings (CELERY_*), tasks auto-discovered
from every installed app's tasks.py, and the beat schedule kept here in code."""

import os
import sys

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "posbackoffice.settings")

app = Celery("posbackoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Database connections in the worker follow Django's CONN_MAX_AGE (DB_CONN_MAX_AGE), as in the web:
# Celery's Django fix-up closes every connection before and after each task whatever it says (celery
# 5.7: `conn.close()`), so that each task opened a new PostgreSQL connection (a backend started, its
# caches cold: about as much CPU again as a card payment's settlement). Its own reuse count is set out of
# reach here, and before and after each task Django's `close_old_connections` closes those that have
# outlived CONN_MAX_AGE (all of them with the default 0) or broke (a restarted PostgreSQL). The fix-up
# still closes them in each new pool process (connections are not shared across a fork).
app.conf.CELERY_DB_REUSE_MAX = sys.maxsize


@task_prerun.connect
@task_postrun.connect
def _close_old_database_connections(sender=None, **kwargs) -> None:
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()

# The sweeps of posbackoffice.jobs: each finds its due rows (an indexed query) and enqueues one task per
# row. Whatever a lost message, a dead worker or a broker outage left behind is picked up here.
app.conf.beat_schedule = {
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
    "send-due-emails": {
        "task": "accounts.tasks.send_due_emails",
        "schedule": 60.0,
    },
    "reconcile-payments": {
        "task": "payments.tasks.reconcile_payments",
        "schedule": 120.0,
    },
    "sweep-webhook-events": {
        "task": "payments.tasks.sweep_webhook_events",
        "schedule": 60.0,
    },
    "sweep-card-detachments": {
        "task": "saved_cards.tasks.sweep_card_detachments",
        "schedule": 300.0,
    },
    "sweep-pay-link-emails": {
        "task": "paylinks.tasks.sweep_pay_link_emails",
        "schedule": 60.0,
    },
    "remind-pay-links": {
        "task": "paylinks.tasks.remind_pay_links",
        "schedule": crontab(minute=23),  # hourly: a reminder is due days after the link was sent
    },
    "sweep-processor-customers": {
        "task": "saved_cards.tasks.sweep_processor_customers",
        "schedule": 300.0,
    },
    "sweep-exports": {
        "task": "posbackoffice.tasks.sweep_exports",
        "schedule": 60.0,
    },
    "check-reader-actions": {
        "task": "terminal.tasks.check_reader_actions",
        "schedule": 30.0,
    },
    "bill-due-subscriptions": {
        "task": "subscriptions.tasks.sweep_due_subscriptions",
        "schedule": 60.0,
    },
    "send-subscription-renewal-reminders": {
        "task": "subscriptions.tasks.send_renewal_reminders",
        "schedule": crontab(hour=7, minute=13),
    },
    "bill-merchants": {
        "task": "billing.tasks.sweep_billing",
        "schedule": 300.0,  # the merchants' periods, hold fees and retries with us
    },
    "send-hold-reminders": {
        "task": "billing.tasks.send_hold_reminders",
        "schedule": crontab(hour=7, minute=43),
    },
    "mark-expired-saved-cards": {
        "task": "saved_cards.tasks.mark_expired_cards",
        "schedule": crontab(hour=2, minute=41),  # UTC: after midnight in the shops' time zones (Europe)
    },
}
