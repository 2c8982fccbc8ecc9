"""The one rate-limit helper: a fixed-window counter per key in the cache.

    if not ratelimit.hit(f"paylink-open:{client_ip}", limit=30, window=60):
        ...  # answer 429

It fails open: when the cache is unavailable, every hit is allowed and the outage is logged (once per
burst). A rate limit guards against abuse; it must never take the pages it guards down with the cache.
"""

import logging
import time

from django.core.cache import cache

from posbackoffice.cache import BurstLog

logger = logging.getLogger(__name__)
not_counted_log = BurstLog(logger)


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one hit for `key` in the current `window` (seconds); True while the window's hits are at
    most `limit`."""
    bucket = f"ratelimit:{key}:{int(time.time() // window)}"
    try:
        if cache.add(bucket, 1, timeout=window + 1):
            count = 1
        else:
            count = cache.incr(bucket)
    except ValueError:
        # No such bucket: it expired between add and incr, or the cache is down (a miss) — allowed.
        not_counted_log.warning("rate limit %s not counted: the cache did not keep the counter", key.split(":")[0])
        return True
    return count <= limit
