"""The sell screen's live status (terminal.live): a long-poll answered when the driver announces a change
(Redis publish on commit), bounded in time and in how many requests may wait at once, with the 500 ms
htmx poll as the fallback (off, full, or Redis unavailable)."""

import threading
import time
import uuid

import pytest
from django.urls import reverse

from accounts import permissions as perms
from terminal import driver, live, services
from terminal.models import ReaderAction
from tests.factories import member, owner_of
from tests.retail.builders import choose_register
from tests.terminal.builders import present

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiters(settings, monkeypatch):
    """Long-polls on, with places of this test's own (the suite's processes share the Redis database)."""
    settings.TERMINAL_LIVE_WAITERS = 2
    monkeypatch.setattr(live, "WAITERS_KEY", f"{live.WAITERS_KEY}:test:{uuid.uuid4().hex}")
    yield settings
    live.redis_client().delete(live.WAITERS_KEY)


def later(seconds, call):
    thread = threading.Thread(target=lambda: (time.sleep(seconds), call()))
    thread.start()
    return thread


def test_off_by_default_nothing_waits(settings):
    settings.TERMINAL_LIVE_WAITERS = 0
    started = time.monotonic()
    assert live.wait_for_change(1, lambda: True) is False
    assert time.monotonic() - started < 0.5


def test_an_announced_change_answers_the_waiting_request_at_once(waiters):
    thread = later(0.3, lambda: live._publish(4242))
    started = time.monotonic()
    assert live.wait_for_change(4242, lambda: True) is True
    assert 0.25 < time.monotonic() - started < 3
    thread.join()


def test_a_change_committed_before_the_subscription_is_not_missed(waiters):
    started = time.monotonic()
    assert live.wait_for_change(4243, lambda: False) is True
    assert time.monotonic() - started < 2


def test_a_wait_is_bounded(waiters, monkeypatch):
    monkeypatch.setattr(live, "WAIT_SECONDS", 0.4)
    started = time.monotonic()
    assert live.wait_for_change(4244, lambda: True) is True
    assert 0.35 < time.monotonic() - started < 3
    assert live.redis_client().zcard(live.WAITERS_KEY) == 0  # its place is given back


def test_beyond_the_allowed_waiters_the_request_answers_at_once(waiters):
    waiters.TERMINAL_LIVE_WAITERS = 1
    results = []
    first = threading.Thread(target=lambda: results.append(live.wait_for_change(4245, lambda: True)))
    first.start()
    deadline = time.monotonic() + 10
    while live.redis_client().zcard(live.WAITERS_KEY) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)  # the first one has taken the only place
    started = time.monotonic()
    assert live.wait_for_change(4246, lambda: True) is False  # full: the screen polls instead
    assert time.monotonic() - started < 1
    live._publish(4245)
    first.join(5)
    assert results == [True]


def test_the_driver_announces_the_end_of_an_action_once_committed(waiters, cart, reader,
                                                                    django_capture_on_commit_callbacks):
    action = services.sale_payment_start(actor=owner_of(cart.account), account=cart.account, sale_id=cart.pk,
                                         register_id=reader.register_id)
    with django_capture_on_commit_callbacks() as sent:
        driver.action_send(action_id=action.pk)
    assert len(sent) == 1  # queued → on the reader
    present(reader)
    with django_capture_on_commit_callbacks() as ended:
        driver.action_check(action_id=action.pk)
    assert len(ended) == 1
    pubsub = live.redis_client().pubsub()
    pubsub.subscribe(live.channel(action.pk))
    assert pubsub.get_message(timeout=2)["type"] == "subscribe"
    ended[0]()
    assert pubsub.get_message(timeout=2)["type"] == "message"
    pubsub.close()


@pytest.fixture
def cashier(client, shop):
    client.force_login(member(shop.account, perms.CASHIER, language="en"))
    choose_register(client, shop.register)
    return client


def test_the_status_part_long_polls_when_allowed_and_polls_otherwise(cashier, cart, reader, settings):
    cashier.post(reverse("terminal:sell_card_start"))
    action = ReaderAction.objects.get()
    url = reverse("terminal:sell_card_status", args=[action.pk])

    settings.TERMINAL_LIVE_WAITERS = 0
    polling = cashier.get(url).content.decode()
    assert 'hx-trigger="every 500ms"' in polling and "?wait=1" not in polling

    settings.TERMINAL_LIVE_WAITERS = 2
    page = cashier.get(url).content.decode()
    assert f'{url}?wait=1" hx-trigger="load, every 15s"' in page


def test_a_long_poll_answers_with_the_result(cashier, cart, reader, waiters, monkeypatch):
    monkeypatch.setattr(live, "WAIT_SECONDS", 0.5)
    cashier.post(reverse("terminal:sell_card_start"))
    action = ReaderAction.objects.get()
    url = reverse("terminal:sell_card_status", args=[action.pk]) + "?wait=1"

    waited = cashier.get(url, headers={"HX-Request": "true"}).content.decode()  # nothing happened: bounded
    assert 'data-status="in_progress"' in waited and "?wait=1" in waited

    cashier.post(reverse("terminal:simulator_card", args=[reader.pk]), {"card": "4242424242424242"},
                 headers={"HX-Request": "true"})
    done = cashier.get(url, headers={"HX-Request": "true"})
    assert 'data-status="succeeded"' in done.content.decode() and done["HX-Trigger"] == "reader-done"
    assert "hx-get" not in done.content.decode()


def test_a_full_long_poll_falls_back_to_polling(cashier, cart, reader, waiters, monkeypatch):
    monkeypatch.setattr(live, "wait_for_change", lambda action_id, unchanged: False)
    cashier.post(reverse("terminal:sell_card_start"))
    action = ReaderAction.objects.get()
    url = reverse("terminal:sell_card_status", args=[action.pk]) + "?wait=1"

    answered = cashier.get(url, headers={"HX-Request": "true"}).content.decode()

    assert 'hx-trigger="every 500ms"' in answered and "?wait=1" not in answered


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kept_seconds", [0, 60])
def test_a_waiting_request_holds_no_database_connection_unless_they_are_kept(waiters, monkeypatch, kept_seconds):
    """Fifty screens waiting must not hold fifty PostgreSQL connections (max_connections is 100 here) when
    each request closes its own anyway (DB_CONN_MAX_AGE=0); a kept connection stays with its thread."""
    from django.db import connection

    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", kept_seconds)

    def unchanged():
        return not ReaderAction.objects.filter(pk=4247).exists()  # the re-read opens the connection

    thread = later(0.3, lambda: live._publish(4247))
    assert live.wait_for_change(4247, unchanged) is True
    thread.join()
    assert (connection.connection is None) is (kept_seconds == 0)  # not reopened since
