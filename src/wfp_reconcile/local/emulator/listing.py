"""List pages of scripts from prebuilt JSON: a no-change plan lists every script again.

Decoding each row's metadata and encoding its list item made a page of 1,000 items cost
tens of milliseconds, most of a 100,000-script plan's wait on the emulator. An item is a
pure function of its stored row (``responses.list_item``), so its JSON is kept per
script together with the row it was built from and reused while the row reads the same
(whoever wrote it: a check of the row itself, not an invalidation to forget).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

from starlette.responses import Response

from .responses import list_item
from .store import RawScriptRow, Store

__all__ = ["ListItems", "page_response"]


def _dumps(value: Any) -> bytes:
    # Exactly what starlette's JSONResponse writes, so a page reads the same byte for byte.
    return json.dumps(
        value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


class ListItems:
    """The JSON of each listed script's item, by script and response mode."""

    def __init__(self) -> None:
        self._built: dict[tuple[str, str, str, bool, bool], tuple[RawScriptRow, bytes]] = {}
        self._lock = threading.Lock()

    def items(
        self,
        account: str,
        namespace: str,
        rows: Sequence[RawScriptRow],
        *,
        include_tags: bool,
        wrapped: bool,
    ) -> list[bytes]:
        out: list[bytes] = []
        with self._lock:
            for raw in rows:
                key = (account, namespace, raw[0], include_tags, wrapped)
                known = self._built.get(key)
                if known is None or known[0] != raw:
                    item = list_item(
                        Store.row_of(raw), namespace, include_tags=include_tags, wrapped=wrapped
                    )
                    known = (raw, _dumps(item))
                    self._built[key] = known
                out.append(known[1])
        return out


def page_response(items: Sequence[bytes], result_info: dict[str, Any]) -> Response:
    """``responses.ok(items, result_info)`` from items already encoded."""
    body = b"".join(
        (
            b'{"success":true,"errors":[],"messages":[],"result":[',
            b",".join(items),
            b'],"result_info":',
            _dumps(result_info),
            b"}",
        )
    )
    return Response(body, media_type="application/json")
