"""The rows the repository (and the outcome of an apply) call for, per table (pure)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence

from wfp_reconcile.change import Change
from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.desired import DesiredState
from wfp_reconcile.worker import WorkerKind, effective_limits

from .models import Row, SqlValue, TableRows
from .schema import CUSTOMER_TOKENS, CUSTOMERS, DEPLOYED_SCRIPTS, SCRIPT_SETTINGS, Table

__all__ = ["deployed_rows", "in_scope", "repo_rows"]


def _keyed(table: Table, rows: Sequence[Row]) -> dict[tuple[SqlValue, ...], Row]:
    return {table.key_of(row): row for row in rows}


def _params_json(params: Mapping[str, object]) -> str:
    # Canonical, so that the text read back compares equal when nothing changed.
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def repo_rows(repo: PlatformRepo, *, customers: Collection[str] = ()) -> dict[str, TableRows]:
    """Rows of ``customers``, ``customer_tokens`` and ``script_settings`` for the repository.

    Args:
        repo: The validated repository.
        customers: Only these customers (every customer when empty).
    """
    scope = set(customers)
    customer_rows: list[Row] = []
    token_rows: list[Row] = []
    setting_rows: list[Row] = []
    for customer in repo.customers:
        if scope and customer.id not in scope:
            continue
        customer_rows.append((customer.id, customer.name, customer.plan, int(customer.suspended)))
        token_rows += [(customer.id, token.name, token.sha256) for token in customer.tokens]
        outbound = customer.outbound
        for name, script in sorted(customer.scripts.items()):
            limits = effective_limits(repo, customer, script)
            setting_rows.append(
                (
                    name,
                    customer.id,
                    limits.cpu_ms,
                    limits.subrequests,
                    outbound.worker if outbound else None,
                    _params_json(outbound.params if outbound else {}),
                    script.access.value,
                )
            )
    return {
        CUSTOMERS.name: _keyed(CUSTOMERS, customer_rows),
        CUSTOMER_TOKENS.name: _keyed(CUSTOMER_TOKENS, token_rows),
        SCRIPT_SETTINGS.name: _keyed(SCRIPT_SETTINGS, setting_rows),
    }


def deployed_rows(
    desired: DesiredState,
    changes: Sequence[Change],
    existing: TableRows,
    *,
    failed: Collection[str] = (),
    now: str,
) -> TableRows:
    """The ``deployed_scripts`` rows after applying ``changes``.

    A row records what wfp-reconcile put live: a declared script is live with its
    desired fingerprint when the plan had nothing to do for it or its upload
    succeeded. A row keeps its commit and ``deployed_at`` while its fingerprint stays
    the same. Scripts the apply did not change for sure (failed, skipped, conflicting,
    protected) keep whatever row they had; a row goes when its delete succeeded or
    when the script is neither declared nor in the plan (it is gone from the namespace).

    Args:
        desired: The desired state (already limited to the run's customers).
        changes: The plan's changes.
        existing: The rows read from D1 (already limited to the run's customers).
        failed: Names of scripts whose operation failed.
        now: The timestamp written for new deployments.
    """
    by_name = {c.name: c for c in changes if c.kind == WorkerKind.SCRIPT}
    failed_names = set(failed)
    columns = DEPLOYED_SCRIPTS.columns
    fp_at, commit_at, at_at = (
        columns.index(c) for c in ("fingerprint", "commit_sha", "deployed_at")
    )
    out: dict[tuple[SqlValue, ...], Row] = {}
    for worker in desired.scripts:
        key: tuple[SqlValue, ...] = (worker.name,)
        old = existing.get(key)
        change = by_name.get(worker.name)
        live = change is None or (change.action.writes and worker.name not in failed_names)
        if not live:
            if old is not None:
                out[key] = old
            continue
        fingerprint = worker.fingerprint.short
        if old is not None and old[fp_at] == fingerprint:
            out[key] = (worker.name, worker.customer, fingerprint, old[commit_at], old[at_at])
        else:
            out[key] = (worker.name, worker.customer, fingerprint, desired.commit, now)
    declared = {w.name for w in desired.scripts}
    for key, old in existing.items():
        name = str(key[0])
        if name in declared:
            continue
        change = by_name.get(name)
        if change is None:
            continue
        if change.action.writes and name not in failed_names:
            continue  # deleted
        out[key] = old
    return out


def in_scope(table: Table, rows: TableRows, customers: Collection[str]) -> TableRows:
    """The rows that belong to ``customers`` (all rows when empty)."""
    if not customers:
        return rows
    scope = set(customers)
    at = table.columns.index(table.scope)
    return {key: row for key, row in rows.items() if row[at] in scope}
