"""The ownership check of two git revisions: read both, check every actor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from wfp_reconcile.config.loader import PLATFORM_FILE
from wfp_reconcile.errors import OwnershipError
from wfp_reconcile.gitsource import GitTreeSource, changed_paths, merged_source

from .check import OwnershipReport, check_ownership
from .state import read_state

__all__ = ["check_revisions", "check_revisions_for"]


def check_revisions(
    repo: Path, base: str, head: str, actor: str, *, env: Mapping[str, str] | None = None
) -> OwnershipReport:
    """The ownership check of a pull request from ``base`` to ``head`` for one ``actor``."""
    return check_revisions_for(repo, base, head, [actor], env=env)[0]


def check_revisions_for(
    repo: Path,
    base: str,
    head: str,
    actors: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
) -> tuple[OwnershipReport, ...]:
    """The ownership check of a pull request for each distinct login in ``actors``.

    Everyone who put commits into the pull request (its author, whoever pushed last)
    must own every change: the pull request passes only when every report does.
    Owners and admins come from ``base`` itself (the tip of the target branch: what
    is trusted now); the changes and the head state from the result of merging.

    Raises:
        OwnershipError: no actor, or ``platform.yaml`` at ``base`` does not load (then
            who the admins are is unknown, and nothing can be approved).
    """
    distinct: dict[str, str] = {}
    for actor in actors:
        if actor:
            distinct.setdefault(actor.casefold(), actor)  # logins are case-insensitive
    if not distinct:
        raise OwnershipError("the ownership check needs the login of at least one actor")
    changes = changed_paths(repo, base, head)
    with GitTreeSource(repo, base) as base_source, merged_source(repo, base, head) as merged:
        base_state = read_state(base_source, env=env)
        head_state = read_state(merged, env=env)
    if base_state.platform_problems:
        listed = "; ".join(str(p) for p in base_state.platform_problems[:5])
        raise OwnershipError(
            f"{PLATFORM_FILE} at the base revision {base} does not load, so who the platform "
            f"admins are is unknown: {listed}. Fix it on the base branch first."
        )
    return tuple(
        check_ownership(changes, base_state, head_state, actor) for actor in distinct.values()
    )
