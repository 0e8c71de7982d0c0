"""An in-memory ``RepoSource`` so the loader can be fuzzed with thousands of trees quickly."""

from __future__ import annotations

import dataclasses
from pathlib import PurePosixPath

from wfp_reconcile.config.source import EntryKind, Regular, read_regular_by_parts

__all__ = ["Link", "MemorySource", "Other"]


@dataclasses.dataclass(frozen=True)
class Link:
    """A symlink to ``target`` (as stored, relative or absolute)."""

    target: str


@dataclasses.dataclass(frozen=True)
class Other:
    """A FIFO, socket or device: something that is neither a file nor a directory."""


Entry = bytes | Link | Other


class MemorySource:
    """A tree of files, symlinks and special files given as ``{"a/b.mjs": b"..."}``."""

    def __init__(self, entries: dict[str, Entry]) -> None:
        self.entries = {PurePosixPath(p): e for p, e in entries.items()}
        self.dirs = {parent for p in self.entries for parent in p.parents}

    @property
    def label(self) -> str:
        return "memory"

    @property
    def commit(self) -> str | None:
        return None

    def kind(self, path: PurePosixPath) -> EntryKind:
        entry = self.entries.get(path)
        if isinstance(entry, bytes):
            return "file"
        if isinstance(entry, Link):
            return "symlink"
        if isinstance(entry, Other):
            return "other"
        return "dir" if path in self.dirs else "missing"

    def list_dir(self, path: PurePosixPath) -> list[str]:
        names = {p.relative_to(path).parts[0] for p in self.entries if path in p.parents}
        return sorted(names)

    def read_bytes(self, path: PurePosixPath) -> bytes:
        entry = self.entries.get(path)
        if not isinstance(entry, bytes):
            raise OSError(21, "Is not a regular file")
        return entry

    def read_link(self, path: PurePosixPath) -> str:
        entry = self.entries[path]
        assert isinstance(entry, Link)
        return entry.target

    def size(self, path: PurePosixPath) -> int:
        return len(self.read_bytes(path))

    def read_regular(self, path: str, limit: int) -> Regular | None:
        return read_regular_by_parts(self, path, limit)
