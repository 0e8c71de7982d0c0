"""What the client tests share: the fake account's paths, fake time, Cloudflare's envelope."""

from __future__ import annotations

import threading
from typing import Any

BASE = "https://cf.test/client/v4"
ACCOUNT = "acc0123"
NS_PATH = f"{BASE}/accounts/{ACCOUNT}/workers/dispatch/namespaces/ns"


class FakeTime:
    """A clock that only moves when something sleeps (pacing without waiting)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def envelope(result: Any, **extra: Any) -> dict[str, Any]:
    return {"success": True, "errors": [], "messages": [], "result": result, **extra}
