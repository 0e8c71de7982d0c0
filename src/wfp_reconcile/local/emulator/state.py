"""What one emulator instance holds: the store, D1, faults, the token and a request log."""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

from .assets_store import AssetStore
from .d1 import D1Engine
from .faults import FaultInjector
from .hostnames import HostnameStore
from .listing import ListItems
from .store import Store

__all__ = ["EmulatorState", "RequestLog", "RequestRecord", "UploadCheck"]

UploadCheck = Callable[[str, str, str, Any], None]

_MAX_RECORDS = 100_000


@dataclasses.dataclass(frozen=True)
class RequestRecord:
    """One API request the emulator answered (or dropped).

    ``kind`` names the operation (``list_scripts``, ``upload_script``, ``put_tags``,
    ``delete_script``, ``get_tags``, ...); ``fault`` is the injected fault, if any
    (``drop``, ``429``, ``5xx``, ``rate_limit``, ``fail_script``); ``status`` is 0 for a
    dropped connection.
    """

    method: str
    path: str
    query: str
    kind: str
    status: int
    fault: str | None
    at: float

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class RequestLog:
    """The recent requests (bounded) and exact per-kind counters; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: collections.deque[RequestRecord] = collections.deque(maxlen=_MAX_RECORDS)
        self._counts: collections.Counter[str] = collections.Counter()

    def add(
        self, method: str, path: str, query: str, kind: str, status: int, fault: str | None
    ) -> None:
        record = RequestRecord(method, path, query, kind, status, fault, time.time())
        with self._lock:
            self._records.append(record)
            self._counts[kind] += 1

    def records(self, kind: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self._records if kind is None or r.kind == kind]

    def count(self, kind: str | None = None) -> int:
        with self._lock:
            return sum(self._counts.values()) if kind is None else self._counts[kind]

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._records.clear()
            self._counts.clear()


@dataclasses.dataclass
class EmulatorState:
    """Everything the handlers of one emulator share."""

    store: Store
    d1: D1Engine
    faults: FaultInjector
    log: RequestLog
    api_token: str = dataclasses.field(repr=False)
    max_script_bytes: int
    internal_secret: str = dataclasses.field(default="", repr=False)
    """What ``/__emulator`` callers must send (``X-Wfp-Emulator-Secret``); random per run."""
    assets: AssetStore = dataclasses.field(default_factory=lambda: AssetStore(None))
    hostnames: HostnameStore = dataclasses.field(default_factory=HostnameStore)
    pending_versions: dict[str, tuple[str, str, Any]] = dataclasses.field(default_factory=dict)
    """Versions uploaded but not deployed: id -> (account, script, parsed upload); in
    memory only (``wrangler deploy`` deploys the version it just uploaded)."""
    list_items: ListItems = dataclasses.field(default_factory=ListItems)
    """The JSON of listed scripts, kept for the next list of the same rows."""
    upload_checks: list[UploadCheck] = dataclasses.field(default_factory=list)
    """Run on every parsed upload before it is stored (account, namespace, name, upload);
    a check refuses by raising ``validation.ApiProblem``."""

    def close(self) -> None:
        self.assets.close()
        self.d1.close()
        self.store.close()
