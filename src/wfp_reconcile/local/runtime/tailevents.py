"""Trace events as the local runtime reports them: one ``wfp-tail {json}`` line per event.

The runtime prints these lines while it hands the events to the tail Workers; ``dev``
turns them into one readable line per invocation.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from urllib.parse import urlsplit

__all__ = ["TAIL_PREFIX", "TailEvent", "format_tail_event", "parse_tail_line"]

TAIL_PREFIX = "wfp-tail "


@dataclasses.dataclass(frozen=True)
class TailEvent:
    """One invocation of a Worker, as delivered to one of its tail Workers."""

    consumer: str
    at: float
    """Event timestamp (ms since the epoch): with the script, identifies the invocation."""
    script: str
    namespace: str | None
    outcome: str
    cpu_ms: float
    wall_ms: float
    status: int | None
    method: str | None
    path: str | None
    exceptions: tuple[str, ...]


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def parse_tail_line(line: str) -> TailEvent | None:
    """The event a runtime log line reports, or None for any other line."""
    start = line.find(TAIL_PREFIX)
    if start < 0:
        return None
    try:
        data = json.loads(line[start + len(TAIL_PREFIX) :])
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("script"), str):
        return None
    url = data.get("url")
    status = data.get("status")
    exceptions = data.get("exceptions")
    return TailEvent(
        consumer=str(data.get("consumer") or ""),
        at=_number(data.get("at")),
        script=data["script"],
        namespace=data.get("namespace") if isinstance(data.get("namespace"), str) else None,
        outcome=str(data.get("outcome") or "unknown"),
        cpu_ms=_number(data.get("cpu_ms")),
        wall_ms=_number(data.get("wall_ms")),
        status=status if isinstance(status, int) else None,
        method=data.get("method") if isinstance(data.get("method"), str) else None,
        # The runtime already redacted credentials in the query; the path is enough here.
        path=urlsplit(url).path if isinstance(url, str) else None,
        exceptions=tuple(str(e) for e in exceptions) if isinstance(exceptions, list) else (),
    )


def format_tail_event(event: TailEvent, customers: Mapping[str, str]) -> str:
    """One line: script (customer), outcome, request, CPU and wall time, exceptions.

    ``customers`` maps script names to customer ids; the dispatcher is labelled as such.
    """
    owner = customers.get(event.script)
    who = f"{event.script} ({owner})" if owner else f"{event.script} (dispatcher)"
    parts = [f"{event.outcome:<9}", who]
    if event.method and event.path:
        request = f"{event.method} {event.path}"
        parts.append(f"{request} -> {event.status}" if event.status is not None else request)
    parts.append(f"cpu {event.cpu_ms:g} ms, wall {event.wall_ms:g} ms")
    line = "  ".join(parts)
    if event.exceptions:
        line += "  exceptions: " + "; ".join(event.exceptions)
    return line
