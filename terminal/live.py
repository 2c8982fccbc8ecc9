"""The sell screen learns a reader's result when it happens, not at its next poll (issue 11, performance).

The status part of Pay › Card asks with `?wait=1` (a long-poll): the view answers as soon as the action's
state changes, or after WAIT_SECONDS with the state unchanged, and the part it renders asks again. The
driver announces every change of an action (`announce`, once its transaction commits) on a Redis channel
of that action; a waiting request listens on it and reads nothing from the database while it waits. Unless
database connections are kept (DB_CONN_MAX_AGE), it gives its connection back before waiting, so that
waiting screens do not count against PostgreSQL's max_connections for up to WAIT_SECONDS each (Django
opens one again for the answer, as the next request would).

The htmx poll every 500 ms stays, as the fallback: when long-polls are off (settings.TERMINAL_LIVE_WAITERS
= 0, the default), when that many requests are already waiting, or when Redis does not answer, the view
answers at once and renders the part that polls (`can_wait` says which part to render next).

Bounded, so that a long-poll never pins a web worker for long (docs/architecture.md, terminal, "Live
status"): one request waits at most WAIT_SECONDS (under gunicorn's 30 s timeout), and at most
TERMINAL_LIVE_WAITERS requests wait at once across the site — each takes a place in a Redis sorted set,
scored with the moment it must be gone, and gives it back when it answers; places left by a killed
worker expire by themselves.
"""

import logging
import secrets
import threading
import time

import redis
from django.conf import settings
from django.db import transaction

from posbackoffice.cache import UNAVAILABLE, BurstLog

logger = logging.getLogger(__name__)
outage_log = BurstLog(logger)

WAIT_SECONDS = 10.0
WAITERS_KEY = "terminal:live:waiters"
_client = None
_client_lock = threading.Lock()


def channel(action_id: int) -> str:
    return f"terminal:reader-action:{action_id}"


def redis_client():
    """One client (and its connection pool) per process; None without Redis."""
    global _client
    if not settings.REDIS_URL:
        return None
    with _client_lock:
        if _client is None:
            _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5,
                                           socket_timeout=WAIT_SECONDS + 2)
        return _client


def can_wait() -> bool:
    """Whether the status part may ask with a long-poll (else it polls every 500 ms)."""
    return settings.TERMINAL_LIVE_WAITERS > 0 and bool(settings.REDIS_URL)


def announce(action_id: int) -> None:
    """The action's state changed: tell whoever waits on it, once the change is committed. Whenever Redis
    is there, whatever this process's TERMINAL_LIVE_WAITERS (the worker announces, the web waits): a
    publish nobody listens to costs Redis next to nothing."""
    if settings.REDIS_URL:
        transaction.on_commit(lambda: _publish(action_id), robust=True)


def _publish(action_id: int) -> None:
    client = redis_client()
    if client is None:
        return
    try:
        client.publish(channel(action_id), b"changed")
    except UNAVAILABLE as error:  # the waiting screens answer at their bound and poll again
        outage_log.warning("reader action %s: the change was not announced (%s)", action_id, type(error).__name__)


def _release_database_connection() -> None:
    """Only a connection the request would close at its end anyway (DB_CONN_MAX_AGE=0, Django's default):
    a kept one stays with its thread (opening another costs PostgreSQL a new backend). Outside a
    transaction only (a request's atomic block keeps its connection)."""
    from django.db import connection

    if connection.settings_dict.get("CONN_MAX_AGE") == 0 and not connection.in_atomic_block:
        connection.close()


def wait_for_action(action_id: int, status: str) -> bool:
    """The sell screen's long-poll: wait while the action is still in `status` (wait_for_change)."""
    from terminal.models import ReaderAction

    return wait_for_change(action_id, lambda: ReaderAction.objects.filter(pk=action_id, status=status).exists())


def wait_for_change(action_id: int, unchanged) -> bool:
    """Wait until the action is announced as changed or WAIT_SECONDS passed. `unchanged()` reads our row
    again once subscribed (a change committed just before is not missed). False when no waiting was done
    (off, too many waiting, Redis unavailable): the caller renders the polling part."""
    client = redis_client()
    if not can_wait() or client is None:
        return False
    token = secrets.token_hex(8)
    try:
        now = time.time()
        pipe = client.pipeline()
        pipe.zremrangebyscore(WAITERS_KEY, "-inf", now)
        pipe.zadd(WAITERS_KEY, {token: now + WAIT_SECONDS + 5})
        pipe.zcard(WAITERS_KEY)
        pipe.expire(WAITERS_KEY, int(WAIT_SECONDS) + 60)
        waiting = pipe.execute()[2]
        if waiting > settings.TERMINAL_LIVE_WAITERS:
            return False
        pubsub = client.pubsub()
        try:
            pubsub.subscribe(channel(action_id))
            deadline = time.monotonic() + WAIT_SECONDS
            subscribed = False
            while (left := deadline - time.monotonic()) > 0:
                message = pubsub.get_message(timeout=left)
                if message is None:
                    continue
                if message["type"] == "subscribe" and not subscribed:
                    subscribed = True
                    if not unchanged():
                        return True
                    _release_database_connection()
                elif message["type"] == "message":
                    return True
            return True
        finally:
            pubsub.close()
    except UNAVAILABLE as error:
        outage_log.warning("reader action %s: long-poll unavailable (%s)", action_id, type(error).__name__)
        return False
    finally:
        try:
            client.zrem(WAITERS_KEY, token)
        except UNAVAILABLE:
            pass
