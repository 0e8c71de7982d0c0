"""Where the repository's files come from: the work tree or a git commit.

The loader reads only through ``RepoSource`` so that ``validate``, ``plan`` and
``apply`` behave the same on a checkout and on ``--ref REV``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

__all__ = ["EntryKind", "RepoSource", "WorkTreeSource"]

EntryKind = Literal["file", "dir", "symlink", "missing", "other"]


class RepoSource(Protocol):
    """Read-only view of a platform repository, addressed by POSIX relative paths."""

    @property
    def label(self) -> str:
        """How to name this source in messages (a directory or ``rev:dir``)."""
        ...

    @property
    def commit(self) -> str | None:
        """The commit being read, or None for a work tree."""
        ...

    def kind(self, path: PurePosixPath) -> EntryKind:
        """What is at ``path`` (symlinks are not followed)."""
        ...

    def list_dir(self, path: PurePosixPath) -> list[str]:
        """Sorted names in a directory."""
        ...

    def read_bytes(self, path: PurePosixPath) -> bytes:
        """The content of a regular file; raises OSError if it cannot be read."""
        ...

    def read_link(self, path: PurePosixPath) -> str:
        """The target of a symlink, as stored."""
        ...

    def size(self, path: PurePosixPath) -> int:
        """The size in bytes of a regular file."""
        ...


class WorkTreeSource:
    """The repository as it is on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # Plain strings: pathlib's parsing cost more than the system calls at 10,000 files.
        self._root = os.fspath(root)

    @property
    def label(self) -> str:
        return str(self.root)

    @property
    def commit(self) -> str | None:
        return None

    def _path(self, path: PurePosixPath) -> str:
        # Paths here are relative (the loader refuses absolute ones), so this is what
        # os.path.join(root, *parts) builds, without joining part by part.
        return f"{self._root}/{path}"

    def kind(self, path: PurePosixPath) -> EntryKind:
        try:
            mode = os.lstat(self._path(path)).st_mode
        except FileNotFoundError:
            return "missing"
        except NotADirectoryError:
            return "missing"
        if stat.S_ISLNK(mode):
            return "symlink"
        if stat.S_ISDIR(mode):
            return "dir"
        if stat.S_ISREG(mode):
            return "file"
        return "other"

    def list_dir(self, path: PurePosixPath) -> list[str]:
        return sorted(os.listdir(self._path(path)))  # noqa: PTH208 (see __init__)

    def read_bytes(self, path: PurePosixPath) -> bytes:
        with open(self._path(path), "rb") as f:
            return f.read()

    def read_link(self, path: PurePosixPath) -> str:
        return str(Path(self._path(path)).readlink())

    def size(self, path: PurePosixPath) -> int:
        return os.lstat(self._path(path)).st_size
