"""Desired x actual -> a small, fixed vocabulary of changes (pure).

Each kind diffs its own items (``Kind.diff``, with the shared rules of ``kinds.rules``);
this puts the changes in apply order.
"""

from __future__ import annotations

from collections.abc import Collection

from wfp_reconcile.actual import ActualState
from wfp_reconcile.change import Action, Change, FieldChange
from wfp_reconcile.desired import DesiredState
from wfp_reconcile.kinds import DiffContext, kinds

__all__ = ["Action", "Change", "FieldChange", "compute_diff", "diff_context"]


def diff_context(
    desired: DesiredState,
    *,
    customers: Collection[str] = (),
    suspended: Collection[str] = (),
    known_customers: Collection[str] = (),
    adopt: Collection[str] = (),
) -> DiffContext:
    return DiffContext(
        namespace=desired.namespace,
        management_tag=desired.management_tag,
        customers=frozenset(customers),
        suspended=frozenset(suspended),
        known_customers=frozenset(known_customers),
        adopt=frozenset(adopt),
        declared=desired.declared,
    )


def compute_diff(
    desired: DesiredState,
    actual: ActualState,
    *,
    customers: Collection[str] = (),
    suspended: Collection[str] = (),
    known_customers: Collection[str] = (),
    adopt: Collection[str] = (),
    only: Collection[str] | None = None,
) -> tuple[Change, ...]:
    """Compare desired and actual state.

    Args:
        desired: What the repository declares (already limited to ``customers``).
        actual: What the account holds.
        customers: When given, deletes are limited to items of these customers.
        suspended: Ids of suspended customers: their items are never changed.
        known_customers: Every customer id in the repository (to read customer tags).
        adopt: Names of unmanaged items to take over.
        only: Diff only these kinds (every kind when ``None``).

    Returns:
        The changes, in apply order: every kind's creates and updates in registry order,
        then the deletes (the namespace's first, then the account's, by name).
    """
    ctx = diff_context(
        desired,
        customers=customers,
        suspended=suspended,
        known_customers=known_customers,
        adopt=adopt,
    )
    ordered = [k for k in kinds() if only is None or k.name in only]
    writes: list[Change] = []
    deletes: list[tuple[int, Change]] = []
    for kind in ordered:
        rank = 0 if kind.counted else 1
        for change in kind.diff(desired.of(kind.name), actual.of(kind.name), ctx):
            if change.action in (Action.DELETE,) or (
                change.action in (Action.PROTECTED, Action.SKIPPED)
                and change.name not in desired.declared.get(kind.space, frozenset())
            ):
                deletes.append((rank, change))
            else:
                writes.append(change)
    deletes.sort(key=lambda d: (d[0], d[1].name) if d[0] else (d[0], ""))
    return tuple(writes) + tuple(change for _, change in deletes)
