"""Desired x actual -> a small, fixed vocabulary of changes (pure)."""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from wfp_reconcile.actual import ActualState, ActualWorker
from wfp_reconcile.desired import FP_PREFIX, DesiredState, DesiredWorker, WorkerKind
from wfp_reconcile.secrets.planning import created_lines

__all__ = ["Action", "Change", "FieldChange", "compute_diff"]


class Action(StrEnum):
    """What a change does. Only the first four write anything."""

    CREATE = "create"
    UPDATE = "update"
    """Code or configuration changed: upload."""
    RETAG = "retag"
    """Only tags changed (plan, protection, user tags): replace tags."""
    DELETE = "delete"
    ADOPT = "adopt"
    """An unmanaged script with a declared name, explicitly taken over: upload."""
    CONFLICT = "conflict"
    """An unmanaged script has a declared name: never overwritten."""
    PROTECTED = "protected"
    """Would be deleted, but carries the protect tag."""
    SKIPPED = "skipped"
    """The customer is suspended: neither updated nor deleted."""

    @property
    def writes(self) -> bool:
        return self in _WRITES


_WRITES = frozenset({Action.CREATE, Action.UPDATE, Action.RETAG, Action.DELETE, Action.ADOPT})


class FieldChange(BaseModel):
    """One changed field: ``code``, ``config`` or ``tags`` (fingerprint halves and tags),
    or a setting named by ``wfp_reconcile.details`` (``compatibility_date``,
    ``binding NAME``, ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    before: str | None
    after: str | None
    summary: str | None = None
    """What changed, in words, where values must not be shown (``secret NAME: added``)."""


class Change(BaseModel):
    """One change to one Worker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Action
    kind: WorkerKind
    name: str
    customer: str | None = None
    fields: tuple[FieldChange, ...] = ()
    reason: str = ""


def _fp_halves(short: str | None) -> tuple[str | None, str | None]:
    if short is None:
        return None, None
    half = len(short) // 2
    return short[:half], short[half:]


def _user_tags(tags: tuple[str, ...]) -> str:
    return ", ".join(sorted(t for t in tags if not t.startswith(FP_PREFIX)))


def _compare(desired: DesiredWorker, actual: ActualWorker) -> Change | None:
    before_code, before_config = _fp_halves(actual.fingerprint)
    after_code, after_config = _fp_halves(desired.fingerprint.short)
    fields: list[FieldChange] = []
    if before_code != after_code:
        fields.append(FieldChange(field="code", before=before_code, after=after_code))
    if before_config != after_config:
        fields.append(FieldChange(field="config", before=before_config, after=after_config))
    before_tags, after_tags = _user_tags(actual.tags), _user_tags(desired.tags)
    if before_tags != after_tags:
        fields.append(FieldChange(field="tags", before=before_tags, after=after_tags))
    if not fields:
        return None
    action = Action.UPDATE if any(f.field != "tags" for f in fields) else Action.RETAG
    return Change(
        action=action,
        kind=desired.kind,
        name=desired.name,
        customer=desired.customer,
        fields=tuple(fields),
    )


def _new(desired: DesiredWorker) -> Change:
    code, config = _fp_halves(desired.fingerprint.short)
    return Change(
        action=Action.CREATE,
        kind=desired.kind,
        name=desired.name,
        customer=desired.customer,
        fields=(
            FieldChange(field="code", before=None, after=code),
            FieldChange(field="config", before=None, after=config),
            *(
                FieldChange(field=field, before=None, after=None, summary=summary)
                for field, summary in created_lines(desired.secrets)
            ),
        ),
    )


def _diff_worker(
    desired: DesiredWorker,
    actual: ActualWorker | None,
    adopt: Collection[str],
    known_customers: Collection[str] = (),
) -> Change | None:
    change: Change | None
    owner = (
        actual.customer(known_customers)
        if actual is not None and actual.managed and desired.kind is WorkerKind.SCRIPT
        else desired.customer
    )
    if actual is None:
        change = _new(desired)
    elif owner != desired.customer:
        # Deployed for another customer (say, still live after its YAML was removed, or
        # protected): taking it over would run one customer's code on another's traffic
        # with its secrets. Only an explicit `adopt` moves a script between customers.
        if desired.name in adopt:
            return _new(desired).model_copy(
                update={"action": Action.ADOPT, "reason": f"taken over from customer {owner}"}
            )
        return Change(
            action=Action.CONFLICT,
            kind=desired.kind,
            name=desired.name,
            customer=desired.customer,
            reason=f"deployed for customer {owner}; run `wfp-reconcile adopt {desired.name}` "
            "(a platform admin's decision) to move it to this customer",
        )
    elif not actual.managed:
        if desired.name in adopt:
            return _new(desired).model_copy(
                update={"action": Action.ADOPT, "reason": "taken over by `adopt`"}
            )
        return Change(
            action=Action.CONFLICT,
            kind=desired.kind,
            name=desired.name,
            customer=desired.customer,
            reason=(
                "a script of this name exists without the management tag; "
                f"run `wfp-reconcile adopt {desired.name}` to take it over"
                if desired.kind is WorkerKind.SCRIPT
                else "a Worker of this name exists in the account that this platform does not "
                "manage (no management tag, or another namespace's); rename one of them"
            ),
        )
    else:
        change = _compare(desired, actual)
    if change is not None and desired.suspended:
        return change.model_copy(
            update={"action": Action.SKIPPED, "reason": f"customer {desired.customer} is suspended"}
        )
    return change


def compute_diff(
    desired: DesiredState,
    actual: ActualState,
    *,
    customers: Collection[str] = (),
    suspended: Collection[str] = (),
    known_customers: Collection[str] = (),
    adopt: Collection[str] = (),
) -> tuple[Change, ...]:
    """Compare desired and actual state.

    Args:
        desired: What the repository declares (already limited to ``customers``).
        actual: What the namespace holds.
        customers: When given, deletes are limited to scripts of these customers.
        suspended: Ids of suspended customers: their scripts are never deleted.
        known_customers: Every customer id in the repository (to read customer tags).
        adopt: Names of unmanaged scripts to take over.

    Returns:
        The changes, in apply order: outbound Workers, scripts, dispatcher, deletes.
    """
    changes: list[Change] = []
    for worker in desired.outbound:
        change = _diff_worker(worker, actual.workers.get(worker.name), adopt)
        if change:
            changes.append(change)
    for worker in desired.scripts:
        current = actual.scripts.get(worker.name) or actual.unmanaged.get(worker.name)
        change = _diff_worker(worker, current, adopt, known_customers)
        if change:
            changes.append(change)
    if desired.dispatcher is not None:
        change = _diff_worker(
            desired.dispatcher, actual.workers.get(desired.dispatcher.name), adopt
        )
        if change:
            changes.append(change)

    # Every name the repository declares, not only the scoped ones: a script that moved
    # to a customer outside a --customer scope is still declared and must survive.
    declared = {w.name for w in desired.scripts} | desired.declared_names
    scope = set(customers)
    for name in sorted(actual.scripts):
        current = actual.scripts[name]
        if name in declared or not current.managed:
            continue
        owner = current.customer(known_customers)
        if scope and owner not in scope:
            continue
        if owner in suspended:
            action, reason = Action.SKIPPED, f"customer {owner} is suspended"
        elif current.protected:
            action, reason = (
                Action.PROTECTED,
                "carries the protect tag; remove the tag to allow deletion",
            )
        else:
            action, reason = Action.DELETE, "no longer declared"
        changes.append(
            Change(action=action, kind=WorkerKind.SCRIPT, name=name, customer=owner, reason=reason)
        )
    declared_workers = {w.name for w in desired.outbound}
    if desired.dispatcher is not None:
        declared_workers.add(desired.dispatcher.name)
    for name in sorted(actual.workers):
        current = actual.workers[name]
        if name in declared_workers or not current.managed or scope:
            continue
        # The role tag says what the Worker was (tags: management, role, fingerprint).
        kind = next(
            (k for k in (WorkerKind.DISPATCHER, WorkerKind.TAIL) if k.value in current.tags),
            WorkerKind.OUTBOUND,
        )
        changes.append(
            Change(action=Action.DELETE, kind=kind, name=name, reason="no longer declared")
        )
    return tuple(changes)
