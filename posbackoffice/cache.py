"""A cache outage is a cache miss.

`FailOpenRedisCache` is Django's Redis cache whose every operation, when Redis cannot be reached or does
not answer in time, answers as an empty cache would (get: the default, add: not added, incr: the key is
missing) and does nothing, instead of raising into the request. It logs the outage once per burst, not
once per call.
"""

import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class BurstLog:
    """A warning logged at most once per `interval` seconds: one line for a burst of the same failure
    (a Redis outage seen by every request), then one a minute while it lasts."""

    def __init__(self, log: logging.Logger, interval: float = 60.0):
        self.log, self.interval = log, interval
        self._last = None
        self._lock = threading.Lock()

    def warning(self, message: str, *args) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._last is not None and now - self._last < self.interval:
                return False
            self._last = now
        self.log.warning(message, *args)
        return True


outage_log = BurstLog(logger)


def _missing(*args, **kwargs):
    raise ValueError("the cache is unavailable: the key is treated as missing")  # Django's missing key


def _fail_open(name: str, miss):
    """The client operation `name`, answering `miss(*args)` when Redis is unavailable."""

    def operation(self, *args, **kwargs):
        try:
            return getattr(super(FailOpenRedisClient, self), name)(*args, **kwargs)
        except UNAVAILABLE as error:
            outage_log.warning("cache unavailable (%s): answering as a cache miss", type(error).__name__)
            return miss(*args, **kwargs)

    operation.__name__ = name
    return operation


def _answer(value):
    return lambda *args, **kwargs: value


class FailOpenRedisClient(RedisCacheClient):
    add = _fail_open("add", _answer(False))
    get = _fail_open("get", lambda key, default: default)
    set = _fail_open("set", _answer(None))
    touch = _fail_open("touch", _answer(False))
    delete = _fail_open("delete", _answer(False))
    get_many = _fail_open("get_many", lambda *args: {})
    has_key = _fail_open("has_key", _answer(False))
    incr = _fail_open("incr", _missing)
    set_many = _fail_open("set_many", lambda *args: [])
    delete_many = _fail_open("delete_many", _answer(None))
    clear = _fail_open("clear", _answer(False))


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailOpenRedisClient
