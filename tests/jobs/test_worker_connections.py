"""The worker's database connections follow DB_CONN_MAX_AGE (posbackoffice/celery.py): Celery's Django
fix-up would close them before and after every task, so that each task opened a new PostgreSQL
connection. Driven here through the fix-up's own handlers and ours, as a worker runs them around a task."""

from types import SimpleNamespace

import psycopg
import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import connection

from posbackoffice.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


class Task:
    """What the handlers read of a task run by a worker (a signal's sender must be hashable)."""
    name = "a task"
    request = SimpleNamespace(is_eager=False)


def around_a_task(fixup: DjangoWorkerFixup) -> None:
    task = Task()
    for signal, fixup_handler in ((task_prerun, fixup.on_task_prerun), (task_postrun, fixup.on_task_postrun)):
        fixup_handler(sender=task)
        signal.send(sender=task, task_id="1", task=task, args=(), kwargs={})


@pytest.mark.parametrize("kept_seconds", [60, 0])
def test_a_task_keeps_the_connection_only_when_connections_may_be_kept(monkeypatch, kept_seconds):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", kept_seconds)
    connection.close()
    connection.ensure_connection()
    backend = connection.cursor().connection.info.backend_pid
    fixup = DjangoWorkerFixup(app)

    for _ in range(3):
        around_a_task(fixup)
        if kept_seconds:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                assert cursor.fetchone()[0] == backend  # the same PostgreSQL backend, task after task
        else:
            assert connection.connection is None  # closed after the task, as Django's default says
            connection.ensure_connection()


def test_a_broken_kept_connection_is_replaced_before_the_next_task(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    connection.close()
    connection.ensure_connection()
    broken = connection.cursor().connection.info.backend_pid
    settings = connection.settings_dict
    with psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
                         dbname=settings["NAME"], autocommit=True) as other:  # PostgreSQL ends it (a restart)
        other.execute("SELECT pg_terminate_backend(%s)", [broken])
    around_a_task(DjangoWorkerFixup(app))

    with connection.cursor() as cursor:  # the health check finds it gone and opens another
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != broken
