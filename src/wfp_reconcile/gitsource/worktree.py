"""The checked-out commit and what is uncommitted in the work tree."""

from __future__ import annotations

from pathlib import Path

from wfp_reconcile.errors import GitError

from .checkout import GIT_ERRORS, Checkout, checkout_at, git_reason

__all__ = ["dirty_paths", "dirty_warning", "head_commit", "resolve_commit"]


def resolve_commit(repo: Path, ref: str) -> str:
    """The full SHA of the commit ``ref`` names; ``GitError`` when there is none."""
    with checkout_at(repo) as checkout:
        return checkout.commit(ref).hexsha


def head_commit(repo: Path) -> str | None:
    """The commit checked out at ``repo``; None outside git or before the first commit."""
    try:
        checkout = Checkout(repo)
    except GitError:
        return None
    try:
        return checkout.repo.head.commit.hexsha
    except GIT_ERRORS:
        return None
    finally:
        checkout.close()


def dirty_paths(repo: Path) -> list[str]:
    """Uncommitted paths under the platform directory: staged, unstaged and untracked.

    Ignored files are not listed: they would not be committed either.
    """
    with checkout_at(repo) as checkout:
        try:
            out = checkout.repo.git.status(
                "--porcelain=v1", "-z", "--untracked-files=all", "--", checkout.pathspec()
            )
        except GIT_ERRORS as exc:
            raise GitError(f"cannot read the status of {repo}: {git_reason(exc)}")
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
