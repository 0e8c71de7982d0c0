"""Asset manifests: what a script's assets are, and how two versions differ (pure)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import mimetypes
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from .hashing import asset_hash

__all__ = [
    "NULL_CONTENT_TYPE",
    "AssetDiff",
    "AssetFile",
    "AssetManifest",
    "build_manifest",
    "content_type_for_asset",
    "format_bytes",
]

NULL_CONTENT_TYPE = "application/null"
"""What wrangler sends for a file of unknown type: Cloudflare then serves it without a
``Content-Type`` header (direct-upload guide)."""

# The common web types, fixed so that every machine uploads the same header (Python's own
# table changes between versions); the rest come from Python's built-in table, never from
# the machine's /etc/mime.types.
_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".txt": "text/plain",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".wasm": "application/wasm",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".pdf": "application/pdf",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".webmanifest": "application/manifest+json",
}
_BUILTIN = mimetypes.MimeTypes()


def content_type_for_asset(path: str) -> str:
    """The ``Content-Type`` an asset is uploaded (and served) with, as wrangler picks it:
    the type of the extension, ``; charset=utf-8`` on ``text/*``, ``application/null`` when
    unknown."""
    suffix = PurePosixPath(path).suffix.lower()
    found = _TYPES.get(suffix) or _BUILTIN.guess_type("x" + suffix, strict=False)[0]
    if found is None:
        return NULL_CONTENT_TYPE
    if found.startswith("text/") and "charset" not in found:
        found += "; charset=utf-8"
    return found


@dataclasses.dataclass(frozen=True)
class AssetFile:
    """One asset as Cloudflare sees it."""

    path: str
    """URL path inside the site (``/index.html``), the manifest's key."""
    repo_path: str
    """Where its bytes are in the repository (the key in ``PlatformRepo.files``)."""
    size: int
    hash: str
    """Keyed wrangler hash (32 hex characters)."""
    content_type: str


def format_bytes(size: int) -> str:
    """Sizes as people read them in plans: ``512 B``, ``3.4 KiB``, ``1.2 MiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@dataclasses.dataclass(frozen=True)
class AssetDiff:
    """How a desired manifest differs from a deployed one, by path."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    upload_bytes: int
    """Bytes of the files whose content the deployed version does not already have."""

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def describe(self) -> str:
        """``3 added, 1 changed, 0 removed (1.2 MiB to upload)``."""
        counts = (
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed"
        )
        return f"{counts} ({format_bytes(self.upload_bytes)} to upload)"


@dataclasses.dataclass(frozen=True)
class AssetManifest:
    """Every asset of one script, sorted by path."""

    files: tuple[AssetFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_api(self) -> dict[str, dict[str, Any]]:
        """The body's ``manifest`` for ``assets-upload-session``."""
        return {f.path: {"hash": f.hash, "size": f.size} for f in self.files}

    def hashes(self) -> dict[str, str]:
        """Path -> hash: what a deployed version is compared by."""
        return {f.path: f.hash for f in self.files}

    def by_hash(self) -> dict[str, AssetFile]:
        """Hash -> one file with that content (Cloudflare asks for content by hash)."""
        out: dict[str, AssetFile] = {}
        for f in self.files:
            out.setdefault(f.hash, f)
        return out

    def digest(self) -> str:
        """SHA-256 over paths, hashes and sizes: equal digests, equal sites."""
        canonical = json.dumps(
            [[f.path, f.hash, f.size] for f in self.files], separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def diff(self, before: Mapping[str, str]) -> AssetDiff:
        """The change from a deployed version given as path -> hash."""
        now = self.hashes()
        added = tuple(p for p in now if p not in before)
        changed = tuple(p for p in now if p in before and before[p] != now[p])
        removed = tuple(sorted(p for p in before if p not in now))
        known = set(before.values())
        pending = {f.hash: f.size for f in self.files if f.hash not in known}
        return AssetDiff(added, changed, removed, sum(pending.values()))


def build_manifest(files: Iterable[tuple[str, str, bytes]], salt: bytes) -> AssetManifest:
    """The manifest of ``(url_path, repo_path, content)`` triples, hashed with ``salt``."""
    entries = [
        AssetFile(
            path=path,
            repo_path=repo_path,
            size=len(content),
            hash=asset_hash(content, path, salt),
            content_type=content_type_for_asset(path),
        )
        for path, repo_path, content in files
    ]
    return AssetManifest(tuple(sorted(entries, key=lambda f: f.path)))
