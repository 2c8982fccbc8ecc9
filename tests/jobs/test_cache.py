"""A cache outage is a cache miss: the Redis cache answers as an empty cache while its Redis (this test's
own) is stopped, logging the outage once; the rate limit counts while the cache works and lets every hit
through while it does not."""

import logging

import pytest
from django.core.cache import cache

import posbackoffice.cache
from posbackoffice import ratelimit
from posbackoffice.cache import BurstLog


@pytest.fixture
def redis_cache(private_redis, settings, monkeypatch):
    # Fresh burst logs: an outage seen by an earlier test in this process must not silence this one's.
    monkeypatch.setattr(posbackoffice.cache, "outage_log", BurstLog(posbackoffice.cache.logger))
    monkeypatch.setattr(ratelimit, "not_counted_log", BurstLog(ratelimit.logger))
    settings.CACHES = {"default": {"BACKEND": "posbackoffice.cache.FailOpenRedisCache",
                                   "LOCATION": private_redis.url(0),
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    return private_redis


def test_the_cache_answers_misses_while_redis_is_down_and_logs_it_once(redis_cache, caplog):
    cache.set("greeting", "bonjour")
    assert cache.get("greeting") == "bonjour"
    caplog.set_level(logging.WARNING, logger="posbackoffice.cache")

    redis_cache.stop()
    assert cache.get("greeting") is None and cache.get("greeting", "default") == "default"
    cache.set("greeting", "salut")  # does nothing, raises nothing
    assert cache.add("other", 1) is False and cache.get_many(["greeting", "other"]) == {}
    assert cache.has_key("greeting") is False and cache.delete("greeting") is False
    assert cache.get_or_set("computed", lambda: 42) == 42  # computed, not kept
    with pytest.raises(ValueError):
        cache.incr("counter")  # as for a missing key
    assert caplog.text.count("cache unavailable") == 1  # one line for the whole burst

    redis_cache.start()
    cache.set("greeting", "rebonjour")
    assert cache.get("greeting") == "rebonjour"


def test_the_rate_limit_counts_while_the_cache_works_and_fails_open_when_it_does_not(redis_cache, caplog):
    assert [ratelimit.hit("paylink-open:203.0.113.9", limit=3, window=60) for _ in range(4)] == [
        True, True, True, False]
    assert ratelimit.hit("paylink-open:198.51.100.7", limit=3, window=60)  # another key, its own count

    caplog.set_level(logging.WARNING)
    redis_cache.stop()
    assert all(ratelimit.hit("paylink-open:203.0.113.9", limit=3, window=60) for _ in range(5))
    assert "rate limit paylink-open not counted" in caplog.text
    assert "203.0.113.9" not in caplog.text  # the key's details stay out of the log
