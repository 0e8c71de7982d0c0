"""Where the repository's files come from: the work tree or a git commit.

The loader reads only through ``RepoSource`` so that ``validate``, ``plan`` and
``apply`` behave the same on a checkout and on ``--ref REV``.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

__all__ = ["EntryKind", "Regular", "RepoSource", "WorkTreeSource", "read_regular_by_parts"]

EntryKind = Literal["file", "dir", "symlink", "missing", "other"]


@dataclasses.dataclass(frozen=True)
class Regular:
    """A regular file: its size, and its content unless it is over the reader's limit."""

    size: int
    content: bytes | None


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

    def read_regular(self, path: str, limit: int) -> Regular | None:
        """The regular file at ``path`` (a normalized relative POSIX path), read when it
        has at most ``limit`` bytes; None when anything else is there. A symlink at
        ``path`` is not followed (None): the caller walks links itself.

        One call where ``kind``, ``size`` and ``read_bytes`` take three: the loader reads
        every module of the repository this way. Raises OSError if it cannot be read.
        """
        ...


def read_regular_by_parts(source: RepoSource, path: str, limit: int) -> Regular | None:
    """``read_regular`` from ``kind``, ``size`` and ``read_bytes`` (for sources that have
    no quicker way)."""
    posix = PurePosixPath(path)
    if source.kind(posix) != "file":
        return None
    size = source.size(posix)
    return Regular(size, None if size > limit else source.read_bytes(posix))


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
        except (FileNotFoundError, NotADirectoryError, ValueError):
            # ValueError: a name no file can have (a NUL), missing as a git tree says.
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

    def read_regular(self, path: str, limit: int) -> Regular | None:
        full = f"{self._root}/{path}"
        try:
            # lstat first: opening a FIFO or a device could block or act on it.
            if not stat.S_ISREG(os.lstat(full).st_mode):
                return None
        except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: see kind
            return None
        try:
            # O_NOFOLLOW: a file swapped for a symlink since the lstat is not followed.
            fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return None
            raise
        try:
            found = os.fstat(fd)
            if not stat.S_ISREG(found.st_mode):
                return None
            if found.st_size > limit:
                return Regular(found.st_size, None)
            chunks: list[bytes] = []
            total = 0
            # To the end, however the size changed since the fstat.
            while chunk := os.read(fd, max(found.st_size + 1 - total, 65_536)):
                chunks.append(chunk)
                total += len(chunk)
                if total > limit:
                    return Regular(total, None)
            content = b"".join(chunks)
            return Regular(len(content), content)
        finally:
            os.close(fd)
