"""A thread-safe token bucket shared by every request of one client."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """Paces requests so that no window of ``window`` seconds holds more than ``limit``.

    A bucket of capacity C refilled at r tokens/s admits at most C + r*W requests in any
    window W, so the burst is a tenth of the limit and the refill rate takes the rest:
    Cloudflare counts a sliding five-minute window, and a full-size burst followed by a
    full refill would double it.

    ``pause_until`` lets a 429's ``Retry-After`` hold back every thread, not only the
    one that saw it: Cloudflare's limit is per token, so the others would be refused too.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.capacity = max(1.0, limit / 10)
        self.rate = max(limit - self.capacity, 1.0) / window
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping as needed; return the seconds slept."""
        slept = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                wait = self._paused_until - now
                if wait <= 0:
                    # The epsilon absorbs float rounding, which could otherwise leave a
                    # caller sleeping for ever-smaller amounts without a full token.
                    if self._tokens >= 1 - 1e-9:
                        self._tokens = max(0.0, self._tokens - 1)
                        return slept
                    wait = (1 - self._tokens) / self.rate
            self._sleep(wait)
            slept += wait

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` from now (a 429's ``Retry-After``)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
