"""Plain values the client returns: script summaries and request counters."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

__all__ = ["ClientStats", "ScriptInfo"]


@dataclasses.dataclass(frozen=True)
class ScriptInfo:
    """One Worker script as Cloudflare describes it.

    ``tags`` is ``None`` when the answer did not carry tags at all (list items may omit
    them), which is different from an empty tuple (the script has no tags).
    """

    id: str
    etag: str | None
    tags: tuple[str, ...] | None
    created_on: str | None
    modified_on: str | None

    @classmethod
    def from_api(cls, obj: Mapping[str, Any], *, default_id: str = "") -> ScriptInfo:
        """Build from a Cloudflare script object (list item, upload result or details)."""
        tags = obj.get("tags")
        return cls(
            id=str(obj.get("id") or default_id),
            etag=_opt_str(obj.get("etag")),
            tags=tuple(str(t) for t in tags) if isinstance(tags, list) else None,
            created_on=_opt_str(obj.get("created_on")),
            modified_on=_opt_str(obj.get("modified_on")),
        )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclasses.dataclass(frozen=True)
class ClientStats:
    """Counters of one client since it was created (a snapshot)."""

    requests: int
    by_kind: Mapping[str, int]
    retries: int
    rate_limited: int
    server_errors: int
    connection_errors: int
    slept_seconds: float
