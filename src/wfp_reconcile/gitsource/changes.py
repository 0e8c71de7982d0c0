"""What merging one revision into another would change, path by path."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from wfp_reconcile.errors import GitError

from .checkout import GIT_ERRORS, checkout_at, git_reason
from .tree import GitTreeSource

__all__ = ["ChangeStatus", "PathChange", "changed_paths", "merged_source"]

ChangeStatus = Literal["added", "modified", "deleted", "renamed", "copied", "type-changed"]

_STATUS_LETTERS: dict[str, ChangeStatus] = {
    "A": "added",
    "M": "modified",
    "D": "deleted",
    "R": "renamed",
    "C": "copied",
    "T": "type-changed",
}


@dataclasses.dataclass(frozen=True, order=True)
class PathChange:
    """One changed path between two revisions; ``old_path`` is set for renames and copies.

    A git change of a file, not a plan's ``diff.Change`` of a resource."""

    path: str
    status: ChangeStatus
    old_path: str | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path the change touches: a rename touches where it came from too."""
        if self.old_path is not None and self.status == "renamed":
            return (self.old_path, self.path)
        return (self.path,)


def changed_paths(repo: Path, base: str, head: str) -> list[PathChange]:
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
    with checkout_at(repo) as checkout:
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
        except GIT_ERRORS as exc:
            raise GitError(f"cannot compare {base} with {head}: {git_reason(exc)}.")
        changes = [
            PathChange(
                path=checkout.relative(path),
                status=status,
                old_path=checkout.relative(old) if old is not None else None,
            )
            for status, path, old in _parse_name_status(out)
        ]
        return sorted(changes)


def merged_source(repo: Path, base: str, head: str) -> GitTreeSource:
    """The platform repository as it would be after merging ``head`` into ``base``."""
    with checkout_at(repo) as checkout:
        tree = checkout.merged_tree(base, head)
    return GitTreeSource(repo, tree, label=f"{base}+{head}", tree=True)


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
