"""The rules every kind shares: conflicts, adoption, suspension, protection, scope (pure).

A kind decides *what* differs; these decide what the plan may do about it, so that the
safety rules are written once whatever the kind.
"""

from __future__ import annotations

from wfp_reconcile.change import Action, Change

from .protocol import DiffContext

__all__ = ["claim", "conflict", "in_scope", "retire", "suspend"]


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
