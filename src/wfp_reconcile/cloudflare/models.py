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

    @classmethod
    def from_list_item(cls, item: Any) -> ScriptInfo:
        """Build from one item of a script list, flat or wrapped.

        Cloudflare's OpenAPI describes the items of "list scripts in a dispatch namespace"
        as ``{created_on, dispatch_namespace, modified_on, script: {id, etag, tags, ...}}``;
        its example project reads flat ``{id, created_on, modified_on}``. Both are read.

        Raises:
            ValueError: the item names no script. Guessing would make a script invisible
                to the plan (and so a create of a name that exists), so callers fail closed.
        """
        if not isinstance(item, Mapping):
            raise ValueError(f"a list item is not an object: {_preview(item)}")
        inner = item.get("script")
        if isinstance(inner, Mapping):
            merged = dict(inner)
            for key in ("created_on", "modified_on"):
                if merged.get(key) is None and item.get(key) is not None:
                    merged[key] = item[key]
            item = merged
        script_id = item.get("id")
        if not isinstance(script_id, str) or not script_id:
            raise ValueError(f"a list item has no script id: {_preview(item)}")
        return cls.from_api(item)


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:120] + "…"


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
