"""The rows the repository (and the outcome of an apply) call for, per table (pure)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence

from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.outcome import Inventory
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
    inventory: Inventory,
    existing: TableRows,
    *,
    customers: Collection[str] = (),
    commit: str | None,
    now: str,
) -> TableRows:
    """The ``deployed_scripts`` rows of what is deployed and ours (``inventory``).

    One row per customer script in the inventory (within the ``customers`` scope): a
    script live as declared gets its desired fingerprint, keeping its commit and
    ``deployed_at`` while the fingerprint stays the same; one the apply did not put live
    (failed, skipped, protected) keeps the row it had. No other rows: a script gone from
    the namespace, or not ours, has none.

    Args:
        inventory: What is deployed and ours after the apply (``engine.outcome``).
        existing: The rows read from D1 (already limited to the run's customers).
        customers: The run's scope (every customer when empty).
        commit: The commit the apply was made from (``None`` for a work tree).
        now: The timestamp written for new deployments.
    """
    scope = set(customers)
    columns = DEPLOYED_SCRIPTS.columns
    fp_at, commit_at, at_at = (
        columns.index(c) for c in ("fingerprint", "commit_sha", "deployed_at")
    )
    out: dict[tuple[SqlValue, ...], Row] = {}
    for name, entry in inventory.of(WorkerKind.SCRIPT.value).items():
        if scope and entry.customer not in scope:
            continue
        key: tuple[SqlValue, ...] = (name,)
        old = existing.get(key)
        if old is not None and not entry.declared:
            out[key] = old  # not put live by this apply: the row stays as it was
        elif old is not None and old[fp_at] == entry.fingerprint:
            out[key] = (name, entry.customer, entry.fingerprint, old[commit_at], old[at_at])
        else:
            # Live now with this fingerprint; one this run did not put live (ours, deployed
            # before the mirror existed) has no known commit.
            recorded = commit if entry.declared else None
            out[key] = (name, entry.customer, entry.fingerprint, recorded, now)
    return out


def in_scope(table: Table, rows: TableRows, customers: Collection[str]) -> TableRows:
    """The rows that belong to ``customers`` (all rows when empty)."""
    if not customers:
        return rows
    scope = set(customers)
    at = table.columns.index(table.scope)
    return {key: row for key, row in rows.items() if row[at] in scope}
