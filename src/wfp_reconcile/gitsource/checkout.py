"""A git repository opened at a platform directory: the one place that calls git."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import git
from gitdb.exc import BadName, BadObject

from wfp_reconcile.errors import GitError

__all__ = ["GIT_ERRORS", "Checkout", "checkout_at", "git_reason"]

# ``git merge-tree --write-tree``, the merge without a work tree, came with git 2.38.
MERGE_TREE_GIT = (2, 38)
GIT_ERRORS = (
    git.GitCommandError,
    git.InvalidGitRepositoryError,
    git.NoSuchPathError,
    BadName,
    BadObject,
    ValueError,
)


class Checkout:
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
        if version < MERGE_TREE_GIT:
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
                f"cannot merge {head} into {base}: {git_reason(exc)}. Both must share "
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
        except GIT_ERRORS:
            raise GitError(
                f"git revision {ref!r} is not a commit in {self.repo.working_tree_dir}; "
                "check the name (a branch, tag or commit SHA) and fetch it first "
                "(in CI: actions/checkout with fetch-depth: 0)."
            )
        if not isinstance(obj, git.Commit):  # pragma: no cover - ^{commit} guarantees it
            raise GitError(f"git revision {ref!r} does not name a commit.")
        return obj


@contextmanager
def checkout_at(platform_dir: Path) -> Iterator[Checkout]:
    checkout = Checkout(platform_dir)
    try:
        yield checkout
    finally:
        checkout.close()


def git_reason(exc: Exception) -> str:
    if isinstance(exc, git.GitCommandError):
        stderr = str(exc.stderr or "").strip().removeprefix("stderr:").strip().strip("'")
        return stderr.splitlines()[0] if stderr else f"git exited with {exc.status}"
    return str(exc) or type(exc).__name__
