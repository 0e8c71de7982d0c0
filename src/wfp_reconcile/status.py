"""What is deployed per customer, and how it drifts from the repository.

``read_status`` does the reading (the namespace's tag inventory, and the D1 mirror's
``deployed_scripts`` when configured); ``build_status`` is the pure comparison. Status
is informational: drift is reported, never an error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, computed_field

from wfp_reconcile.actual import ActualState, StateReader, read_actual
from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.d1mirror import D1Executor, read_snapshot
from wfp_reconcile.d1mirror.models import TableRows
from wfp_reconcile.d1mirror.schema import DEPLOYED_SCRIPTS
from wfp_reconcile.desired import DesiredState, build_desired
from wfp_reconcile.errors import NotFoundError
from wfp_reconcile.kinds import Inventory, kind
from wfp_reconcile.observability import customer_observability, describe_observability
from wfp_reconcile.outcome import after_apply
from wfp_reconcile.worker import WorkerKind

__all__ = [
    "CustomerStatus",
    "Drift",
    "ScriptStatus",
    "StatusReader",
    "StatusReport",
    "build_status",
    "read_status",
]


class Drift(StrEnum):
    """How a script's deployment compares with its declaration."""

    IN_SYNC = "in_sync"
    MISSING = "missing"
    """Declared, but not in the namespace."""
    OUTDATED = "outdated"
    """Deployed with another fingerprint (code or configuration) than declared."""
    UNDECLARED = "undeclared"
    """Managed and deployed, but no longer declared."""
    CONFLICT = "conflict"
    """A script of the declared name exists without the management tag."""


class ScriptStatus(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    state: Drift
    declared_fingerprint: str | None
    deployed_fingerprint: str | None
    commit: str | None = None
    """The commit it was deployed from (from D1; ``None`` when unknown)."""
    deployed_at: str | None = None
    """When the deployed fingerprint went live (from D1)."""
    protected: bool = False
    observability: str | None = None
    """The declared Workers observability setting (``off``, ``on, 10% sampled``, ...)."""


class CustomerStatus(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str | None
    """Display name; ``None`` for a customer the repository no longer declares."""
    plan: str | None
    suspended: bool
    declared: bool
    scripts: tuple[ScriptStatus, ...]
    observability: str | None = None
    """The customer's declared observability (scripts may override it)."""


class StatusReport(BaseModel):
    """Everything ``wfp-reconcile status`` shows (also its JSON output)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    namespace: str
    commit: str | None
    """The repository commit compared against (``None`` for a work tree)."""
    namespace_exists: bool
    d1_database: str | None
    d1_note: str | None = None
    """Why deployment commits are missing, when D1 is configured but unreadable."""
    customers: tuple[CustomerStatus, ...]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        counts = {drift.value: 0 for drift in Drift}
        for customer in self.customers:
            for script in customer.scripts:
                counts[script.state.value] += 1
        return counts

    @property
    def drifted(self) -> bool:
        return any(n for state, n in self.counts.items() if state != Drift.IN_SYNC.value)


class StatusReader(StateReader, D1Executor, Protocol):
    """The read-only client calls status needs."""


def _deployed_info(
    deployed: TableRows, name: str, fingerprint: str | None
) -> tuple[str | None, str | None]:
    row = deployed.get((name,))
    columns = DEPLOYED_SCRIPTS.columns
    # A row for another fingerprint describes an earlier deployment: not this one.
    if row is None or fingerprint is None or row[columns.index("fingerprint")] != fingerprint:
        return None, None
    commit, at = row[columns.index("commit_sha")], row[columns.index("deployed_at")]
    return (str(commit) if commit is not None else None, str(at) if at is not None else None)


def build_status(
    repo: PlatformRepo,
    desired: DesiredState,
    actual: ActualState,
    *,
    deployed: TableRows | None = None,
    customers: Collection[str] = (),
    d1_note: str | None = None,
) -> StatusReport:
    """Compare declared scripts with the namespace, per customer (pure).

    Args:
        repo: The repository.
        desired: Its desired state (limited to ``customers``).
        actual: The namespace inventory.
        deployed: ``deployed_scripts`` rows from the D1 mirror, when read.
        customers: Only these customers (every customer seen when empty).
        d1_note: Shown when D1 is configured but could not be read.
    """
    rows: TableRows = deployed or {}
    known = {c.id for c in repo.customers}
    scope = set(customers)
    per_customer: dict[str, list[ScriptStatus]] = {
        c.id: [] for c in repo.customers if not scope or c.id in scope
    }
    # What is deployed and ours now: the same inventory apply, the dispatcher and the D1
    # mirror read (with no changes), so status and plan agree on what is whose.
    inventory = after_apply(
        [kind(WorkerKind.SCRIPT.value)],
        desired.items,
        actual.items,
        (),
        known_customers=frozenset(known),
    ).of(WorkerKind.SCRIPT.value)
    managed, unmanaged = actual.scripts, actual.unmanaged
    for worker in desired.scripts:
        entry = inventory.get(worker.name)
        live = managed.get(worker.name)
        declared_fp = worker.fingerprint.short
        if entry is not None and entry.customer == worker.customer:
            deployed_fp = entry.fingerprint
            state = Drift.IN_SYNC if deployed_fp == declared_fp else Drift.OUTDATED
        else:
            # Someone else's under this name (another team's script, or one deployed for
            # another customer): the plan calls this a conflict, and so does status.
            foreign = live if entry is not None else unmanaged.get(worker.name)
            state = Drift.CONFLICT if foreign is not None else Drift.MISSING
            deployed_fp = foreign.fingerprint if foreign is not None else None
            live = None
        commit, at = _deployed_info(rows, worker.name, deployed_fp) if live else (None, None)
        per_customer.setdefault(str(worker.customer), []).append(
            ScriptStatus(
                name=worker.name,
                state=state,
                declared_fingerprint=declared_fp,
                deployed_fingerprint=deployed_fp,
                commit=commit,
                deployed_at=at,
                protected=live.protected if live is not None else worker.protect,
                observability=describe_observability(worker.upload.metadata.get("observability")),
            )
        )
    declared_names = {w.name for w in desired.scripts}
    for name in sorted(inventory):
        live = managed[name]
        owner = inventory[name].customer or "(unknown)"
        if name in declared_names or (scope and owner not in scope):
            continue
        commit, at = _deployed_info(rows, name, live.fingerprint)
        per_customer.setdefault(owner, []).append(
            ScriptStatus(
                name=name,
                state=Drift.UNDECLARED,
                declared_fingerprint=None,
                deployed_fingerprint=live.fingerprint,
                commit=commit,
                deployed_at=at,
                protected=live.protected,
            )
        )
    by_id = {c.id: c for c in repo.customers}
    report_customers = []
    for cid in sorted(per_customer):
        model = by_id.get(cid)
        report_customers.append(
            CustomerStatus(
                id=cid,
                name=model.name if model else None,
                plan=model.plan if model else None,
                suspended=model.suspended if model else False,
                declared=model is not None,
                scripts=tuple(sorted(per_customer[cid], key=lambda s: s.name)),
                observability=describe_observability(customer_observability(repo.platform, model))
                if model
                else None,
            )
        )
    return StatusReport(
        namespace=desired.namespace,
        commit=repo.commit,
        namespace_exists=actual.namespace_exists,
        d1_database=repo.platform.d1.name if repo.platform.d1 else None,
        d1_note=d1_note,
        customers=tuple(report_customers),
    )


def _read_deployed(reader: D1Executor, repo: PlatformRepo) -> tuple[TableRows | None, str | None]:
    d1 = repo.platform.d1
    if d1 is None:
        return None, None
    try:
        snapshot = read_snapshot(reader, d1.database_id)
    except NotFoundError:
        return None, (
            f"the D1 database {d1.name!r} (platform.yaml d1.database_id) does not exist; "
            "deployment commits are unknown"
        )
    if DEPLOYED_SCRIPTS.name not in snapshot.schema.tables:
        return None, f"the D1 database {d1.name!r} has no mirror tables yet; run apply"
    rows: Mapping[str, TableRows] = snapshot.rows
    return rows[DEPLOYED_SCRIPTS.name], None


def read_status(
    repo: PlatformRepo, reader: StatusReader, *, customers: Collection[str] = ()
) -> StatusReport:
    """Read the namespace (and D1 when configured) and compare it with ``repo``.

    Args:
        repo: The repository.
        reader: The Cloudflare client (reads only).
        customers: Only these customers; an id the repository no longer declares
            still shows that customer's undeclared scripts.
    """
    scope = set(customers)
    # Status reports scripts only: the derived dispatcher is built routing nothing rather
    # than from a manifest of the whole fleet that nothing here reads.
    everything = build_desired(repo, inventory=Inventory({}))
    desired = dataclasses.replace(
        everything,
        items={
            **everything.items,
            "script": tuple(w for w in everything.scripts if not scope or w.customer in scope),
        },
    )
    actual = read_actual(reader, desired, only=("script",))
    deployed, note = _read_deployed(reader, repo)
    return build_status(repo, desired, actual, deployed=deployed, customers=customers, d1_note=note)
