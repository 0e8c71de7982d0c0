"""What gets uploaded: modules and metadata, shared by the client and the planner."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

__all__ = ["Module", "ScriptUpload", "content_type_for"]

_CONTENT_TYPES = {
    ".js": "application/javascript+module",
    ".mjs": "application/javascript+module",
    ".cjs": "application/javascript",
    ".wasm": "application/wasm",
    ".txt": "text/plain",
    ".html": "text/plain",
    ".json": "text/plain",
    ".py": "text/x-python",
    ".map": "application/source-map",
    ".bin": "application/octet-stream",
}


def content_type_for(name: str) -> str:
    """The multipart content type Cloudflare expects for a module file name."""
    # PurePosixPath(name).suffix without building a path for each of 10,000 scripts' modules:
    # a name without '/' is its own last component.
    base = PurePosixPath(name).name if "/" in name else name
    dot = base.rfind(".")
    suffix = base[dot:] if 0 < dot < len(base) - 1 else ""
    return _CONTENT_TYPES.get(suffix.lower(), "application/octet-stream")


@dataclasses.dataclass(frozen=True)
class Module:
    """One module of a Worker bundle: its name in the bundle, bytes and type."""

    name: str
    content: bytes
    content_type: str

    @functools.cached_property
    def digest(self) -> bytes:
        """SHA-256 of the content. Cached: the platform's modules are one ``Module`` shared
        by every script, hashed once instead of once per script (cached_property writes
        the instance ``__dict__``, which a frozen dataclass allows)."""
        return hashlib.sha256(self.content).digest()

    def __repr__(self) -> str:  # bundles can be megabytes: never print the bytes
        return f"Module({self.name!r}, {len(self.content)} bytes, {self.content_type!r})"


@dataclasses.dataclass(frozen=True)
class ScriptUpload:
    """A complete upload: the ``metadata`` part (JSON) and one part per module."""

    metadata: Mapping[str, Any]
    modules: tuple[Module, ...]
