"""Fault injection for the emulator: latency, 429s, 5xx, dropped connections, a rate limit.

Faults apply to ``/client/v4`` only; the internal ``/__emulator`` endpoints always answer.
Settable at start (``create_app(faults=...)``, CLI flags) and at run time
(``POST /__emulator/faults`` or ``EmulatorServer.set_faults``).
"""

from __future__ import annotations

import collections
import dataclasses
import random
import threading
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FaultConfig", "FaultDecision", "FaultInjector"]

Fault = Literal["drop", "drop_after", "429", "5xx", "rate_limit", "fail_script"]


class FaultConfig(BaseModel):
    """Which faults the emulator injects; the default injects none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: float = Field(0.0, ge=0, description="Added to every API request.")
    fail_5xx: float = Field(0.0, ge=0, le=1, description="Fraction answered 500/502/503.")
    fail_429: float = Field(0.0, ge=0, le=1, description="Fraction answered 429.")
    drop: float = Field(0.0, ge=0, le=1, description="Fraction closed without an answer.")
    drop_after: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Fraction carried out, then closed without an answer (the change happens; "
        "the client never learns it did).",
    )
    rate_limit: int | None = Field(None, ge=1, description="Requests allowed per window.")
    rate_window_seconds: float = Field(300.0, gt=0, description="The rate limit's window.")
    rate_headers: bool = Field(
        True,
        description="Send Cloudflare's Ratelimit/Ratelimit-Policy headers with a rate limit "
        "(off: a server whose limit the client can only learn from 429s).",
    )
    rate_lockout_seconds: float = Field(
        0.0,
        ge=0,
        description="After a request over the limit, refuse every request for this long "
        "(Cloudflare blocks all calls for five minutes: 300).",
    )
    retry_after_seconds: float = Field(
        1.0, ge=0, description="Wait asked by injected 429s (Retry-After, retry-after-ms)."
    )
    list_without_tags: bool = Field(False, description="List items omit 'tags'.")
    list_shape: Literal["flat", "wrapped"] = Field(
        "flat",
        description="Items of the namespace script list: flat script objects (what "
        "Cloudflare's example project reads) or wrapped {created_on, dispatch_namespace, "
        "modified_on, script} (the OpenAPI's workers_namespace-script-response).",
    )
    fail_scripts: tuple[str, ...] = Field((), description="Uploads of these names get a 500.")
    seed: int | None = Field(None, description="Seed of the fault RNG, for reproducible runs.")


REALISTIC_RATE_LIMIT = {"rate_limit": 1200, "rate_window_seconds": 300.0,
                        "rate_lockout_seconds": 300.0}  # fmt: skip
"""Cloudflare's global API limit: 1,200 requests per 5 minutes per token, then every
call is blocked for 5 minutes (fundamentals/api/reference/limits)."""


@dataclasses.dataclass(frozen=True)
class FaultDecision:
    """What to do with one request: nothing, or a fault with its status and wait.

    ``remaining``/``reset`` are the rate limit's budget after this request (``None``
    without a rate limit), sent as Cloudflare's ``Ratelimit`` header.
    """

    fault: Fault | None = None
    status: int = 0
    retry_after: float = 0.0
    remaining: int | None = None
    reset: float = 0.0


class FaultInjector:
    """Decides per request which fault (if any) to inject; thread-safe."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._window: collections.deque[float] = collections.deque()
        self._locked_until = 0.0
        self.config = FaultConfig()
        self._rng = random.Random()
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        """Replace the fault configuration (and reseed, when a seed is given)."""
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self._window.clear()
            self._locked_until = 0.0

    def decide(self) -> FaultDecision:
        """The fault for the next request, counting it against the rate limit."""
        with self._lock:
            cfg = self.config
            remaining: int | None = None
            reset = 0.0
            if cfg.rate_limit is not None:
                now = time.monotonic()
                if now < self._locked_until:
                    wait = self._locked_until - now
                    return FaultDecision("rate_limit", 429, wait, 0, wait)
                while self._window and self._window[0] <= now - cfg.rate_window_seconds:
                    self._window.popleft()
                if len(self._window) >= cfg.rate_limit:
                    wait = self._window[0] + cfg.rate_window_seconds - now
                    if cfg.rate_lockout_seconds:
                        self._locked_until = now + cfg.rate_lockout_seconds
                        wait = cfg.rate_lockout_seconds
                    return FaultDecision("rate_limit", 429, max(wait, 0.0), 0, max(wait, 0.0))
                self._window.append(now)
                remaining = cfg.rate_limit - len(self._window)
                # The budget grows again when the oldest counted request leaves the window.
                reset = self._window[0] + cfg.rate_window_seconds - now
            decision = self._roll(cfg)
            return dataclasses.replace(decision, remaining=remaining, reset=reset)

    def _roll(self, cfg: FaultConfig) -> FaultDecision:
        # Called with the lock held.
        roll = self._rng.random()
        if roll < cfg.drop:
            return FaultDecision("drop")
        roll -= cfg.drop
        if roll < cfg.drop_after:
            return FaultDecision("drop_after")
        roll -= cfg.drop_after
        if roll < cfg.fail_429:
            return FaultDecision("429", 429, cfg.retry_after_seconds)
        roll -= cfg.fail_429
        if roll < cfg.fail_5xx:
            return FaultDecision("5xx", self._rng.choice((500, 502, 503)))
        return FaultDecision()
