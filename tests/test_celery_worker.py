"""The worker path, proven end to end: a task queued on Redis is run by a real Celery worker."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from posbackoffice.celery import app


@pytest.fixture
def redis_worker(settings):
    # A real broker and a real worker (in a thread of this process, so it shares the test's
    # in-memory mailbox); tasks are not run eagerly here.
    app.conf.task_always_eager = False
    app.conf.broker_url = settings.CELERY_BROKER_URL
    assert app.conf.broker_url.startswith("redis://")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"):
        yield
    app.conf.task_always_eager = True


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_email_task_is_delivered_by_a_worker_through_redis(redis_worker):
    from accounts.tasks import send_email

    result = send_email.apply_async(kwargs={"subject": "Bonjour", "body": "Un e-mail du worker.",
                                            "to": ["lea@shop.test"]}, ignore_result=False)
    # No result backend: wait for the worker to have delivered the message.
    deadline = time.monotonic() + 20
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.05)
    assert result.id
    assert [m.subject for m in mail.outbox] == ["Bonjour"]
    assert mail.outbox[0].to == ["lea@shop.test"]
