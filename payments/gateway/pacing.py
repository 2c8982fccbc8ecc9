"""Staying under the processor's rate limit.

Stripe answers 429 (rate limited) above about 100 requests a second in live mode. A billing run of
100,000 renewals in a pool of threads would pass that at once: every 429 is a charge left pending for the
next sweep, and a run that keeps passing the limit slows itself down. So when PROCESSOR_RATE_LIMIT is set,
`get_gateway` wraps the adapter in a `PacedGateway`: every processor request first takes a slot of the
current second, counted in the cache (Redis in production, so every worker process and thread of the
machine shares the same count), and a caller whose second is full sleeps until the next one.

One-second windows, not a sliding log: one INCR per request is all it costs, and a burst at a window's
edge is at most twice the limit over two half seconds, which Stripe's own limiter (a token bucket) absorbs.
Set the limit a little under the processor's (95 for Stripe's 100) for that margin. When the cache is
unavailable the request goes through unpaced: a few 429s (retried with the same key) cost less than
stopping every payment.

Sleeping here is the point of the limit and happens only in background workers (a threads pool: the other
threads keep going); a cashier's request waits at most until the next second.
"""

import time
from collections.abc import Callable

from django.core.cache import cache

from payments.gateway.base import OPERATIONS


class RateWindow:
    """A shared count of requests per one-second window, `per_second` allowed in each."""

    def __init__(self, name: str, per_second: int, *, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        if per_second < 1:
            raise ValueError("per_second must be at least 1")
        self.name, self.per_second = name, per_second
        self.clock, self.sleep = clock, sleep

    def take(self) -> None:
        """Take a slot of the current second, sleeping until a second with a free slot."""
        while not self.try_take():
            now = self.clock()
            self.sleep(max(int(now) + 1 - now, 0.001))

    def try_take(self) -> bool:
        """Take a slot of the current second if one is left (always, when the cache is unavailable)."""
        key = f"processor-rate:{self.name}:{int(self.clock())}"
        cache.add(key, 0, timeout=5)
        try:
            return cache.incr(key) <= self.per_second
        except ValueError:  # the cache is unavailable (or the key just expired): go unpaced
            return True


class PacedGateway:
    """The adapter `inner`, each of whose processor requests first takes a slot of `window`."""

    def __init__(self, inner, window: RateWindow):
        self._inner, self._window = inner, window

    def __getattr__(self, attribute: str):
        value = getattr(self._inner, attribute)
        if attribute not in OPERATIONS:
            return value

        def paced(*args, **kwargs):
            self._window.take()
            return value(*args, **kwargs)

        return paced
