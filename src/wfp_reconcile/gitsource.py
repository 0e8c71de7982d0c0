"""Desired state from git revisions: the one module that talks to git.

``open_source(repo, ref)`` is what every command with ``--ref`` uses: without a ref
it is the work tree; with one it is that commit's tree, so uncommitted files are
ignored (``dirty_paths`` lets the caller say so). ``changed_paths`` is what a pull
request changed, with renames detected, for ``changed`` and ``check-owners``.

The platform repository may be a subdirectory of a git repository: every path
that goes in or comes out of this module is relative to the platform repository,
never to the git root.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal

import git
from gitdb.exc import BadName, BadObject

from wfp_reconcile.config.source import EntryKind, RepoSource, WorkTreeSource
from wfp_reconcile.errors import GitError

if TYPE_CHECKING:
    from git.objects.base import IndexObject

__all__ = [
    "Change",
    "ChangeStatus",
    "GitTreeSource",
    "changed_paths",
    "dirty_paths",
    "dirty_warning",
    "head_commit",
    "merged_source",
    "open_source",
    "resolve_commit",
]

ChangeStatus = Literal["added", "modified", "deleted", "renamed", "copied", "type-changed"]

_SYMLINK_MODE = 0o120000
_STATUS_LETTERS: dict[str, ChangeStatus] = {
    "A": "added",
    "M": "modified",
    "D": "deleted",
    "R": "renamed",
    "C": "copied",
    "T": "type-changed",
}
# ``git merge-tree --write-tree``, the merge without a work tree, came with git 2.38.
_MERGE_TREE_GIT = (2, 38)
_GIT_ERRORS = (
    git.GitCommandError,
    git.InvalidGitRepositoryError,
    git.NoSuchPathError,
    BadName,
    BadObject,
    ValueError,
)


@dataclasses.dataclass(frozen=True, order=True)
class Change:
    """One changed path between two revisions; ``old_path`` is set for renames and copies."""

    path: str
    status: ChangeStatus
    old_path: str | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path the change touches: a rename touches where it came from too."""
        if self.old_path is not None and self.status == "renamed":
            return (self.old_path, self.path)
        return (self.path,)


class _Checkout:
    """A git repository opened at a platform directory, with the directory's prefix."""

    def __init__(self, platform_dir: Path) -> None:
        try:
            self.repo = git.Repo(platform_dir, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GitError(
                f"{platform_dir} is not inside a git repository; run without --ref to read "
                "the files on disk, or run `git init` and commit the repository first."
            )
        root = self.repo.working_tree_dir
        if root is None:
            self.repo.close()
            raise GitError(
                f"{platform_dir} is a bare git repository; point --repo at a checkout instead."
            )
        relative = Path(os.path.realpath(platform_dir)).relative_to(os.path.realpath(root))
        self.prefix = PurePosixPath(relative.as_posix())

    def close(self) -> None:
        self.repo.close()

    def to_git(self, path: PurePosixPath) -> PurePosixPath:
        return self.prefix / path

    def from_git(self, path: str) -> str | None:
        """``path`` relative to the platform directory, or None when it lies outside it."""
        pure = PurePosixPath(path)
        if self.prefix == PurePosixPath("."):
            return pure.as_posix()
        try:
            return pure.relative_to(self.prefix).as_posix()
        except ValueError:
            return None

    def relative(self, path: str) -> str:
        """``path`` relative to the platform directory, with ``..`` when it lies outside it."""
        return posixpath.relpath(path, self.prefix.as_posix())

    def merged_tree(self, base: str, head: str) -> str:
        """The tree SHA ``git merge`` of ``head`` into ``base`` would commit."""
        base_sha = self.commit(base).hexsha
        head_sha = self.commit(head).hexsha
        version = tuple(self.repo.git.version_info[:2])
        if version < _MERGE_TREE_GIT:
            raise GitError(
                f"git {'.'.join(map(str, version))} cannot compute what a merge would change; "
                "install git 2.38 or newer (it has `git merge-tree --write-tree`)."
            )
        try:
            out = self.repo.git.merge_tree("--write-tree", "--no-messages", base_sha, head_sha)
        except git.GitCommandError as exc:
            if exc.status == 1:
                raise GitError(
                    f"merging {head} into {base} has conflicts, so what it would change cannot "
                    f"be checked; merge {base} into the branch, resolve them and push again."
                )
            raise GitError(
                f"cannot merge {head} into {base}: {_git_reason(exc)}. Both must share "
                "history; in CI check out with fetch-depth: 0."
            )
        tree: str = str(out).split("\n", 1)[0].strip()
        if len(tree) < 40:  # pragma: no cover - git always prints the tree first
            raise GitError(f"git merge-tree printed no tree for {base} and {head}.")
        return tree

    def pathspec(self) -> str:
        return self.prefix.as_posix()

    def commit(self, ref: str) -> git.Commit:
        try:
            obj = self.repo.rev_parse(f"{ref}^{{commit}}")
        except _GIT_ERRORS:
            raise GitError(
                f"git revision {ref!r} is not a commit in {self.repo.working_tree_dir}; "
                "check the name (a branch, tag or commit SHA) and fetch it first "
                "(in CI: actions/checkout with fetch-depth: 0)."
            )
        if not isinstance(obj, git.Commit):  # pragma: no cover - ^{commit} guarantees it
            raise GitError(f"git revision {ref!r} does not name a commit.")
        return obj


@contextmanager
def _checkout(platform_dir: Path) -> Iterator[_Checkout]:
    checkout = _Checkout(platform_dir)
    try:
        yield checkout
    finally:
        checkout.close()


class GitTreeSource:
    """The platform repository as committed at one revision (the work tree is ignored).

    Holds an open repository; ``close()`` it (or use it as a context manager) when done.
    """

    def __init__(
        self, repo_dir: Path, rev: str, *, label: str | None = None, tree: bool = False
    ) -> None:
        """``rev`` names a commit; with ``tree=True`` it is the SHA of a tree (no commit)."""
        self._checkout = _Checkout(repo_dir)
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
            return "symlink" if obj.mode == _SYMLINK_MODE else "file"
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
        if not isinstance(obj, git.Blob) or (obj.mode == _SYMLINK_MODE) != symlink:
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


def open_source(repo: Path, ref: str | None) -> RepoSource:
    """The work tree when ``ref`` is None, else the tree of commit ``ref``."""
    if ref is None:
        return WorkTreeSource(repo)
    return GitTreeSource(repo, ref)


def resolve_commit(repo: Path, ref: str) -> str:
    """The full SHA of the commit ``ref`` names; ``GitError`` when there is none."""
    with _checkout(repo) as checkout:
        return checkout.commit(ref).hexsha


def head_commit(repo: Path) -> str | None:
    """The commit checked out at ``repo``; None outside git or before the first commit."""
    try:
        checkout = _Checkout(repo)
    except GitError:
        return None
    try:
        return checkout.repo.head.commit.hexsha
    except _GIT_ERRORS:
        return None
    finally:
        checkout.close()


def dirty_paths(repo: Path) -> list[str]:
    """Uncommitted paths under the platform directory: staged, unstaged and untracked.

    Ignored files are not listed: they would not be committed either.
    """
    with _checkout(repo) as checkout:
        try:
            out = checkout.repo.git.status(
                "--porcelain=v1", "-z", "--untracked-files=all", "--", checkout.pathspec()
            )
        except _GIT_ERRORS as exc:
            raise GitError(f"cannot read the status of {repo}: {_git_reason(exc)}")
        return sorted(
            path for entry in _parse_status(out) if (path := checkout.from_git(entry)) is not None
        )


def dirty_warning(repo: Path, ref: str | None) -> str | None:
    """What to tell a user whose uncommitted changes ``--ref`` ignores, or None."""
    if ref is None or head_commit(repo) is None:
        return None
    paths = dirty_paths(repo)
    if not paths:
        return None
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    count = len(paths)
    return (
        f"{count} uncommitted change{'s' if count != 1 else ''} ignored because --ref {ref} "
        f"reads the committed tree: {shown}. Commit them, or run without --ref to use them."
    )


def changed_paths(repo: Path, base: str, head: str) -> list[Change]:
    """What merging ``head`` into ``base`` would change on ``base`` (as a pull request lands).

    The diff is from ``base`` to the tree ``git merge`` would produce, not from one
    merge base: with criss-cross history git merges from a virtual base, and a diff
    from any single merge base (which commit dates let the author choose) can hide
    what the merge really changes. Commits that landed on ``base`` after the branch
    was made are not counted. Renames are detected. Paths outside the platform
    directory are reported too, relative to it (``../.github/...``): they hold the
    CI and the tool, so they are never silently skipped. A merge with conflicts has
    no result to check: ``GitError``.
    """
    with _checkout(repo) as checkout:
        base_commit = checkout.commit(base)
        tree = checkout.merged_tree(base, head)
        try:
            out = checkout.repo.git.diff(
                "--name-status",
                "-z",
                "--find-renames",
                "--no-ext-diff",
                base_commit.hexsha,
                tree,
            )
        except _GIT_ERRORS as exc:
            raise GitError(f"cannot compare {base} with {head}: {_git_reason(exc)}.")
        changes = [
            Change(
                path=checkout.relative(path),
                status=status,
                old_path=checkout.relative(old) if old is not None else None,
            )
            for status, path, old in _parse_name_status(out)
        ]
        return sorted(changes)


def merged_source(repo: Path, base: str, head: str) -> GitTreeSource:
    """The platform repository as it would be after merging ``head`` into ``base``."""
    with _checkout(repo) as checkout:
        tree = checkout.merged_tree(base, head)
    return GitTreeSource(repo, tree, label=f"{base}+{head}", tree=True)


def _parse_status(out: str) -> list[str]:
    """Paths from ``git status --porcelain=v1 -z``; a rename lists both of its paths."""
    fields = out.split("\0")
    paths: list[str] = []
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        paths.append(path)
        if "R" in code or "C" in code:
            paths.append(fields[i])
            i += 1
    return paths


def _parse_name_status(out: str) -> list[tuple[ChangeStatus, str, str | None]]:
    """Entries of ``git diff --name-status -z``: (status, path, old path of a rename)."""
    fields = out.split("\0")
    entries: list[tuple[ChangeStatus, str, str | None]] = []
    i = 0
    while i < len(fields) and fields[i]:
        letter = fields[i][0]
        status = _STATUS_LETTERS.get(letter, "modified")
        if letter in "RC":
            entries.append((status, fields[i + 2], fields[i + 1]))
            i += 3
        else:
            entries.append((status, fields[i + 1], None))
            i += 2
    return entries


def _git_reason(exc: Exception) -> str:
    if isinstance(exc, git.GitCommandError):
        stderr = str(exc.stderr or "").strip().removeprefix("stderr:").strip().strip("'")
        return stderr.splitlines()[0] if stderr else f"git exited with {exc.status}"
    return str(exc) or type(exc).__name__
