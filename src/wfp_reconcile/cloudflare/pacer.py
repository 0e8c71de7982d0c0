"""Pacing every request of one client by the budget the server reports.

* Before any answer with rate-limit headers, and whenever answers stop carrying them,
  the ``TokenBucket`` paces as before (a tenth of the configured limit as a burst).
* Once the server has said how much is left (``Ratelimit: r=…;t=…``), the client spends
  exactly that — minus the requests already in flight, which the server will count —
  and then waits for the reset the server announced. After the reset one request goes
  alone and its answer tells the new budget, so a sliding window is never overrun.
* A limit the user set (``WFP_RATE_LIMIT`` over ``WFP_RATE_WINDOW``) is a hard ceiling on
  top of that: never more than N requests in any window.
* A 429 pauses every thread for its ``Retry-After``.

One ``Pacer`` is shared by all threads of a client: Cloudflare counts per token.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from collections.abc import Callable, Mapping

from .pacing import TokenBucket
from .ratelimit import RateBudget, parse_ratelimit

__all__ = ["Pacer", "SlidingWindow"]

_PROBE_POLL = 0.02  # how often waiting threads look whether the probe has been answered


class SlidingWindow:
    """At most ``limit`` acquisitions in any ``window`` seconds (exact, full burst)."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._times: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        slept = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._times and self._times[0] <= now - self.window:
                    self._times.popleft()
                if len(self._times) < self.limit:
                    self._times.append(now)
                    return slept
                wait = self._times[0] + self.window - now
            self._sleep(wait)
            slept += wait


@dataclasses.dataclass
class _Server:
    available: int
    reset_at: float
    budget: RateBudget
    observed_at: float


class Pacer:
    """Admits requests as fast as the server's budget (or the fallback bucket) allows."""

    def __init__(
        self,
        *,
        fallback_limit: int,
        window: float,
        user_limit: int | None,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self.bucket = TokenBucket(fallback_limit, window, clock=clock, sleep=sleep)
        self._cap = (
            SlidingWindow(user_limit, window, clock=clock, sleep=sleep) if user_limit else None
        )
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._in_flight = 0
        self._probing = False
        self._paused_until = 0.0

    def acquire(self) -> float:
        """Wait for a turn; return the seconds slept. Pair every call with ``finish``."""
        slept = self._cap.acquire() if self._cap is not None else 0.0
        while True:
            use_bucket = False
            with self._lock:
                now = self._clock()
                wait = self._paused_until - now
                if wait <= 0:
                    server = self._server
                    if server is None:
                        self._in_flight += 1
                        use_bucket = True
                    else:
                        if server.available > 0:
                            server.available -= 1
                            self._in_flight += 1
                            return slept
                        if now >= server.reset_at and not self._probing:
                            self._probing = True  # this request learns the new budget
                            self._in_flight += 1
                            return slept
                        wait = max(server.reset_at - now, _PROBE_POLL)
            if use_bucket:
                return slept + self.bucket.acquire()
            self._sleep(wait)
            slept += wait

    def finish(self, headers: Mapping[str, str] | None) -> None:
        """Record the answer to an admitted request (``None``: no answer came)."""
        budget = parse_ratelimit(headers) if headers is not None else None
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            now = self._clock()
            if budget is not None:
                fresh = max(0, budget.remaining - self._in_flight)
                old = self._server
                if old is not None and now < old.reset_at and not self._probing:
                    # Answers of concurrent requests arrive in any order: within one
                    # window, never believe an older, larger number over a newer one.
                    fresh = min(fresh, old.available)
                self._server = _Server(fresh, now + budget.reset_seconds, budget, now)
                self._probing = False
            elif headers is not None and self._probing:
                # The probe came back without headers: pace by the bucket again.
                self._server = None
                self._probing = False
            elif headers is None and self._probing:
                self._probing = False  # the probe was lost: let another one go

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` from now (a 429's ``Retry-After``)."""
        with self._lock:
            now = self._clock()
            self._paused_until = max(self._paused_until, now + seconds)
            if self._server is not None:
                self._server.available = 0
                self._server.reset_at = max(self._server.reset_at, now + seconds)
        self.bucket.pause(seconds)

    def budget(self) -> RateBudget | None:
        """The server's last word on the budget, aged to now; ``None`` before any."""
        with self._lock:
            server = self._server
            if server is None:
                return None
            now = self._clock()
            left = max(0.0, server.reset_at - now)
            if left <= 0 and server.budget.quota is not None:
                remaining = server.budget.quota
            else:
                remaining = server.available
            return dataclasses.replace(server.budget, remaining=remaining, reset_seconds=left)
