"""The platform repository as committed at one revision, as a ``RepoSource``."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import git

from wfp_reconcile.config.source import (
    EntryKind,
    Regular,
    RepoSource,
    WorkTreeSource,
    read_regular_by_parts,
)
from wfp_reconcile.errors import GitError

from .checkout import Checkout

if TYPE_CHECKING:
    from git.objects.base import IndexObject

__all__ = ["GitTreeSource", "open_source"]

SYMLINK_MODE = 0o120000


class GitTreeSource:
    """The platform repository as committed at one revision (the work tree is ignored).

    Holds an open repository; ``close()`` it (or use it as a context manager) when done.
    """

    def __init__(
        self, repo_dir: Path, rev: str, *, label: str | None = None, tree: bool = False
    ) -> None:
        """``rev`` names a commit; with ``tree=True`` it is the SHA of a tree (no commit)."""
        self._checkout = Checkout(repo_dir)
        self._rev = label or rev
        self._repo_dir = repo_dir
        self._commit: str | None
        if tree:
            self._commit = None
            self._tree = git.Tree(self._checkout.repo, bytes.fromhex(rev), path="")
            return
        try:
            commit = self._checkout.commit(rev)
        except GitError:
            self._checkout.close()
            raise
        self._commit = commit.hexsha
        self._tree = commit.tree

    def __enter__(self) -> GitTreeSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._checkout.close()

    def __repr__(self) -> str:
        target = self._commit[:12] if self._commit else self._tree.hexsha[:12]
        return f"GitTreeSource({str(self._repo_dir)!r}, {self._rev!r} -> {target})"

    @property
    def label(self) -> str:
        return f"{self._rev}:{self._repo_dir}"

    @property
    def commit(self) -> str | None:
        return self._commit

    def _lookup(self, path: PurePosixPath) -> IndexObject | None:
        if path.is_absolute() or ".." in path.parts:
            return None
        full = self._checkout.to_git(path)
        if full == PurePosixPath("."):
            return self._tree
        try:
            return self._tree / full.as_posix()
        except KeyError:
            return None

    def kind(self, path: PurePosixPath) -> EntryKind:
        obj = self._lookup(path)
        if obj is None:
            return "missing"
        if isinstance(obj, git.Tree):
            return "dir"
        if isinstance(obj, git.Blob):
            return "symlink" if obj.mode == SYMLINK_MODE else "file"
        return "other"  # a submodule: its content is not in this repository

    def list_dir(self, path: PurePosixPath) -> list[str]:
        obj = self._lookup(path)
        if not isinstance(obj, git.Tree):
            raise NotADirectoryError(f"{self.label}: {path} is not a directory")
        return sorted(entry.name for entry in obj)

    def _blob(self, path: PurePosixPath, *, symlink: bool) -> git.Blob:
        obj = self._lookup(path)
        if obj is None:
            raise FileNotFoundError(f"{self.label}: {path} does not exist")
        if not isinstance(obj, git.Blob) or (obj.mode == SYMLINK_MODE) != symlink:
            wanted = "a symlink" if symlink else "a regular file"
            raise OSError(f"{self.label}: {path} is not {wanted}")
        return obj

    def read_bytes(self, path: PurePosixPath) -> bytes:
        data: bytes = self._blob(path, symlink=False).data_stream.read()
        return data

    def read_link(self, path: PurePosixPath) -> str:
        data: bytes = self._blob(path, symlink=True).data_stream.read()
        return data.decode("utf-8", errors="surrogateescape")

    def size(self, path: PurePosixPath) -> int:
        size: int = self._blob(path, symlink=False).size
        return size

    def read_regular(self, path: str, limit: int) -> Regular | None:
        return read_regular_by_parts(self, path, limit)


def open_source(repo: Path, ref: str | None) -> RepoSource:
    """The work tree when ``ref`` is None, else the tree of commit ``ref``."""
    if ref is None:
        return WorkTreeSource(repo)
    return GitTreeSource(repo, ref)
