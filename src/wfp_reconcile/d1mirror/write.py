"""Row changes as SQL, sent in batches; every statement is idempotent by key.

Rows are packed several to a statement (D1 allows at most 100 bound parameters per
statement) and statements several to a request, so that a first mirror of 10,000
scripts costs tens of requests, not thousands, against the account's API rate limit.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from wfp_reconcile.errors import PlanError

from .models import D1Executor
from .rowdiff import RowChange, RowOp
from .schema import Table, quote

__all__ = ["BATCH_SIZE", "MAX_PARAMS", "statements_for", "write_changes"]

MAX_PARAMS = 100
"""D1's limit on bound parameters in one statement."""
BATCH_SIZE = 50
"""Statements per request (one transaction each)."""


def _chunks(items: Sequence[RowChange], per_row: int) -> list[Sequence[RowChange]]:
    size = max(1, MAX_PARAMS // per_row)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _upsert(table: Table, changes: Sequence[RowChange]) -> tuple[str, list[Any]]:
    columns = ", ".join(quote(c) for c in table.columns)
    one = "(" + ", ".join("?" for _ in table.columns) + ")"
    keys = ", ".join(quote(k) for k in table.key)
    sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in table.values)
    params: list[Any] = []
    for change in changes:
        if change.row is None:
            raise PlanError(f"{table.name}: an {change.op.value} without a row (a bug).")
        params += change.row
    # An upsert rather than a plain INSERT: a re-run after a lost response, or a row
    # written meanwhile, converges instead of failing on the primary key.
    sql = (
        f"INSERT INTO {quote(table.name)} ({columns}) VALUES {', '.join([one] * len(changes))} "
        f"ON CONFLICT ({keys}) DO UPDATE SET {sets}"
    )
    return sql, params


def _delete(table: Table, changes: Sequence[RowChange]) -> tuple[str, list[Any]]:
    keys = ", ".join(quote(k) for k in table.key)
    one = "(" + ", ".join("?" for _ in table.key) + ")"
    params = [value for change in changes for value in change.key]
    if len(table.key) == 1:
        marks = ", ".join("?" for _ in changes)
        return f"DELETE FROM {quote(table.name)} WHERE {keys} IN ({marks})", params
    values = ", ".join([one] * len(changes))
    return f"DELETE FROM {quote(table.name)} WHERE ({keys}) IN (VALUES {values})", params


def statements_for(changes: Sequence[RowChange]) -> list[tuple[str, list[Any]]]:
    """Parameterized statements for ``changes``: multi-row upserts and deletes by key."""
    statements: list[tuple[str, list[Any]]] = []

    def group_key(change: RowChange) -> tuple[str, bool]:
        return change.table.name, change.op is RowOp.DELETE

    for (_, deleting), group in itertools.groupby(sorted(changes, key=group_key), key=group_key):
        items = list(group)
        table = items[0].table
        if deleting:
            statements += [_delete(table, c) for c in _chunks(items, len(table.key))]
        else:
            statements += [_upsert(table, c) for c in _chunks(items, len(table.columns))]
    return statements


def write_changes(
    db: D1Executor, database_id: str, changes: Sequence[RowChange], *, batch_size: int = BATCH_SIZE
) -> int:
    """Send ``changes`` in batches; return the number of requests (0 when none)."""
    statements = statements_for(changes)
    requests = 0
    for start in range(0, len(statements), batch_size):
        db.d1_batch(database_id, statements[start : start + batch_size])
        requests += 1
    return requests
