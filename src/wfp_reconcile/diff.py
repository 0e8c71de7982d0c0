"""Desired x actual -> a small, fixed vocabulary of changes (pure).

Each kind diffs its own items (``Kind.diff``, with the shared rules of ``kinds.rules``);
this puts the changes in apply order.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from wfp_reconcile.actual import ActualState
from wfp_reconcile.change import Action, Change, FieldChange
from wfp_reconcile.desired import DesiredState
from wfp_reconcile.kinds import DiffContext, kinds

__all__ = [
    "Action",
    "Change",
    "FieldChange",
    "compute_diff",
    "diff_context",
    "diff_kinds",
    "in_apply_order",
]


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
        The changes, in apply order (``in_apply_order``).
    """
    by_kind = diff_kinds(
        desired,
        actual,
        customers=customers,
        suspended=suspended,
        known_customers=known_customers,
        adopt=adopt,
        only=only,
    )
    return in_apply_order(desired, by_kind)


def diff_kinds(
    desired: DesiredState,
    actual: ActualState,
    *,
    customers: Collection[str] = (),
    suspended: Collection[str] = (),
    known_customers: Collection[str] = (),
    adopt: Collection[str] = (),
    only: Collection[str] | None = None,
) -> dict[str, tuple[Change, ...]]:
    """Each kind's changes, by kind name (the arguments are ``compute_diff``'s).

    A plan diffs the kinds in two steps (the derived ones from what the others leave
    deployed) and puts the parts together with ``in_apply_order``, instead of diffing
    every script a second time.
    """
    ctx = diff_context(
        desired,
        customers=customers,
        suspended=suspended,
        known_customers=known_customers,
        adopt=adopt,
    )
    return {
        k.name: tuple(k.diff(desired.of(k.name), actual.of(k.name), ctx))
        for k in kinds()
        if only is None or k.name in only
    }


def in_apply_order(
    desired: DesiredState, by_kind: Mapping[str, Sequence[Change]]
) -> tuple[Change, ...]:
    """Every kind's creates and updates in registry order, then the deletes (the
    namespace's first, in the order the kind gave them, then the account's, by name)."""
    writes: list[Change] = []
    deletes: list[tuple[int, Change]] = []
    for kind in kinds():
        rank = 0 if kind.counted else 1
        for change in by_kind.get(kind.name, ()):
            if change.action in (Action.DELETE,) or (
                change.action in (Action.PROTECTED, Action.SKIPPED)
                and change.name not in desired.declared.get(kind.space, frozenset())
            ):
                deletes.append((rank, change))
            else:
                writes.append(change)
    deletes.sort(key=lambda d: (d[0], d[1].name) if d[0] else (d[0], ""))
    return tuple(writes) + tuple(change for _, change in deletes)
