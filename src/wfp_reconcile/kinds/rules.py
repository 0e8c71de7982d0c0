"""The rules every kind shares: conflicts, adoption, suspension, protection, scope, and
the ownership checks right before a write.

A kind decides *what* differs; these decide what the plan (and apply) may do about it, so
that the safety rules are written once whatever the kind. All pure but ``delete_ours``,
which runs the kind's own calls in the one safe order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

from wfp_reconcile.change import Action, Change
from wfp_reconcile.errors import NotFoundError, PlanError
from wfp_reconcile.worker import NS_PREFIX

from .protocol import DiffContext

__all__ = [
    "Marker",
    "claim",
    "conflict",
    "delete_ours",
    "diff_items",
    "in_scope",
    "retire",
    "still_ours",
    "suspend",
    "tag_marker",
]

_T = TypeVar("_T")
_D = TypeVar("_D")
_O = TypeVar("_O")


@dataclasses.dataclass(frozen=True)
class Marker:
    """What an item says about its owner (a Worker's tags, a hostname's custom_metadata):
    whether this platform's management tag is on it, the dispatch namespace it names
    (``None``: none), and its customer."""

    managed: bool
    namespace: str | None = None
    customer: str | None = None

    def ours(self, namespace: str) -> bool:
        """Managed by this platform, for this dispatch namespace: two platforms in one
        account (staging and production) share the management tag, not the namespace."""
        return self.managed and self.namespace == namespace


def tag_marker(tags: Collection[str], management_tag: str, namespace: str | None = None) -> Marker:
    """The marker in a regular Worker's tags: ``ns-<namespace>`` names the namespace (this
    ``namespace`` when one of several tags names it; ``None`` when no tag names any)."""
    spaces = [t[len(NS_PREFIX) :] for t in tags if t.startswith(NS_PREFIX)]
    named = namespace if namespace in spaces else (spaces[0] if spaces else None)
    return Marker(managed=management_tag in tags, namespace=named)


def in_scope(customer: str | None, customers: frozenset[str]) -> bool:
    """Platform items (no customer) are always in scope; customers' only when scoped in."""
    return customer is None or not customers or customer in customers


def conflict(kind: str, name: str, customer: str | None, reason: str) -> Change:
    """A declared name held by something this platform does not own: never overwritten."""
    return Change(action=Action.CONFLICT, kind=kind, name=name, customer=customer, reason=reason)


def claim(
    create: Change, ctx: DiffContext, *, adoptable: bool, adopted: str, refused: str
) -> Change:
    """Someone else's item under a declared name: adopt it when an admin said so (and the
    kind allows it), else a conflict.

    Args:
        create: The change that would create the declared item.
        ctx: The diff context (its ``adopt`` names the admin's take-overs).
        adoptable: Whether ``adopt`` may take this item over at all.
        adopted: The reason shown on the take-over.
        refused: The conflict's reason (say what to do).
    """
    if adoptable and create.name in ctx.adopt:
        return create.model_copy(update={"action": Action.ADOPT, "reason": adopted})
    return conflict(create.kind, create.name, create.customer, refused)


def suspend(change: Change | None, *, suspended: bool) -> Change | None:
    """A suspended customer's item is neither created, updated nor deleted."""
    if change is None or not suspended:
        return change
    return change.model_copy(
        update={"action": Action.SKIPPED, "reason": f"customer {change.customer} is suspended"}
    )


def retire(
    kind: str, name: str, owner: str | None, ctx: DiffContext, *, protected: bool
) -> Change | None:
    """What happens to an item of ours that nothing declares any more.

    ``None`` when it is out of the run's scope; otherwise a delete, unless its customer is
    suspended (skipped) or it carries the protect marker (protected).
    """
    if ctx.customers and (owner is None or owner not in ctx.customers):
        return None
    if owner is not None and owner in ctx.suspended:
        action, reason = Action.SKIPPED, f"customer {owner} is suspended"
    elif protected:
        action, reason = (
            Action.PROTECTED,
            "carries the protect tag; remove the tag to allow deletion",
        )
    else:
        action, reason = Action.DELETE, "no longer declared"
    return Change(action=action, kind=kind, name=name, customer=owner, reason=reason)


def diff_items(
    desired: Sequence[_D],
    observed: Mapping[str, _O],
    declared: Collection[str],
    *,
    one: Callable[[_D, _O | None], Change | None],
    ours: Callable[[_O], bool],
    retired: Callable[[_O], Change | None],
) -> list[Change]:
    """A kind's changes: each declared item's (``one``, with what was read under its name),
    then, by name, those of the items of ours (``ours``) that nothing ``declared`` in the
    kind's space any more (``retired``, usually ``retire``)."""
    changes = [c for item in desired if (c := one(item, observed.get(_name(item)))) is not None]
    for name in sorted(observed):
        current = observed[name]
        if name in declared or not ours(current):
            continue
        change = retired(current)
        if change is not None:
            changes.append(change)
    return changes


def _name(item: Any) -> str:
    return str(item.name)


def still_ours(change: Change, ours: bool, why: str) -> None:
    """Refuse a write to an item that stopped being ours since the plan read it.

    The plan saw the item a moment (or, with a saved plan, hours) ago; the kind re-reads
    its marker right before the write, which closes that window for all but a concurrent
    writer.

    Raises:
        PlanError: ``ours`` is false; ``why`` says what changed.
    """
    if not ours:
        raise PlanError(
            f"Refusing to {change.action.value} {change.kind} {change.name}: {why}. "
            "Make a new plan."
        )


def delete_ours(
    change: Change,
    *,
    current: Callable[[], _T | None],
    ours: Callable[[_T], bool],
    delete: Callable[[_T], None],
    why: str,
) -> None:
    """Delete an item of ours, idempotently: re-read it (``current``; ``None`` or
    ``NotFoundError``: already gone, as after a re-run, and the goal is reached), refuse
    when it is not ours any more (``still_ours``), else ``delete`` it."""
    try:
        found = current()
        if found is None:
            return
        still_ours(change, ours(found), why)
        delete(found)
    except NotFoundError:
        return
