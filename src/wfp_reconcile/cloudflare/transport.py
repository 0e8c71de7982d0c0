"""Sending one API request: pacing, retries with backoff, error mapping and counters.

Retry policy:

* Pacing: by the server's ``Ratelimit`` headers when it sends them, else a token bucket
  (``pacer.py``).
* 429: wait for ``retry-after-ms`` / ``Retry-After`` (every thread waits: the limit is per
  token), then try again.
* 5xx, timeouts and dropped connections: exponential backoff with jitter.
* any other 4xx: never retried, the request itself is wrong.
* Non-idempotent requests (D1 queries) are retried only when they certainly did not
  reach the server (connection refused, 429), so a write is never applied twice.

Both the number of attempts and the total time spent are bounded.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from wfp_reconcile.errors import ApiConnectionError, ApiError, RateLimitError

from .envelope import Envelope, error_for, unwrap
from .models import ClientStats
from .pacer import Pacer
from .ratelimit import RateBudget
from .settings import ClientSettings

__all__ = ["Transport"]

logger = logging.getLogger("wfp_reconcile.cloudflare")

_CERTAINLY_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The server's requested wait, from ``retry-after-ms`` or ``Retry-After`` (seconds)."""
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = response.headers.get(header)
        if raw is None:
            continue
        try:
            value = float(raw) * scale
        except ValueError:
            continue  # an HTTP date: rare enough to fall back to backoff
        if value >= 0:
            return value
    return None


class Transport:
    """Sends requests for one ``CloudflareClient``; shared by all its threads."""

    def __init__(
        self,
        settings: ClientSettings,
        http: httpx.Client,
        *,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.http = http
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self.pacer = Pacer(
            fallback_limit=settings.requests_per_window,
            window=settings.window_seconds,
            user_limit=settings.requests_per_window if settings.rate_limit_is_ceiling else None,
            clock=clock,
            sleep=sleep,
        )
        self.bucket = self.pacer.bucket
        self._lock = threading.Lock()
        self._by_kind: collections.Counter[str] = collections.Counter()
        self._counts: collections.Counter[str] = collections.Counter()
        self._slept = 0.0
        self._base = settings.base_url.rstrip("/")

    # -- counters -------------------------------------------------------------------------

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)
            with self._lock:
                self._slept += seconds

    def stats(self) -> ClientStats:
        with self._lock:
            return ClientStats(
                requests=sum(self._by_kind.values()),
                by_kind=dict(self._by_kind),
                retries=self._counts["retries"],
                rate_limited=self._counts["429"],
                server_errors=self._counts["5xx"],
                connection_errors=self._counts["connection"],
                slept_seconds=self._slept,
            )

    # -- sending --------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        base: float = self.settings.backoff_base_seconds * 2.0 ** (attempt - 1)
        ceiling = min(self.settings.backoff_max_seconds, base)
        # "Equal jitter": at least half the step, so retries never stampede at zero.
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def send(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send until a final answer; return a 2xx response or raise an ``ApiError``."""
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            slept = self.pacer.acquire()
            with self._lock:
                self._by_kind[kind] += 1
                self._slept += slept
            delay: float | None
            try:
                response = self.http.request(
                    method,
                    self._base + path,
                    params=params,
                    json=json_body,
                    content=content,
                    headers=headers,
                )
            except httpx.TransportError as exc:
                self.pacer.finish(None)
                self._count("connection")
                logger.debug("%s %s -> %s (attempt %d)", method, path, type(exc).__name__, attempt)
                error: ApiError = ApiConnectionError(
                    f"Cloudflare API {method} {path}: no answer ({type(exc).__name__}). "
                    "Check the network and CLOUDFLARE_API_BASE_URL, then run again.",
                    method=method,
                    path=path,
                )
                error.__cause__ = exc
                retryable = idempotent or isinstance(exc, _CERTAINLY_NOT_SENT)
                delay = self._backoff(attempt) if retryable else None
            else:
                self.pacer.finish(response.headers)
                status = response.status_code
                logger.debug("%s %s -> %d (attempt %d)", method, path, status, attempt)
                if status < 400:
                    return response
                error = error_for(response)
                if status == 429:
                    self._count("429")
                    wait = retry_after_seconds(response)
                    delay = self._backoff(attempt) if wait is None else wait
                    if not isinstance(error, RateLimitError):
                        error = RateLimitError(
                            error.message, status=429, codes=error.codes, method=method, path=path
                        )
                elif status >= 500:
                    self._count("5xx")
                    delay = self._backoff(attempt) if idempotent else None
                else:
                    raise error
            elapsed = self._clock() - started
            if (
                delay is None
                or attempt >= self.settings.max_attempts
                or elapsed + delay > self.settings.max_retry_seconds
            ):
                raise error
            self._count("retries")
            if isinstance(error, RateLimitError):
                self.pacer.pause(delay)  # the next acquire() waits, for every thread
            else:
                self._wait(delay)

    def rate_budget(self) -> RateBudget | None:
        """The server's last word on the rate-limit budget (``None`` before any)."""
        return self.pacer.budget()

    def call(self, kind: str, method: str, path: str, **kwargs: Any) -> Envelope:
        """Send and unwrap the JSON envelope."""
        return unwrap(self.send(kind, method, path, **kwargs))
