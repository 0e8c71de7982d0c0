"""Row changes as SQL, sent in batches; every statement is idempotent by key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wfp_reconcile.errors import PlanError

from .models import D1Executor
from .rowdiff import RowChange, RowOp
from .schema import quote

__all__ = ["BATCH_SIZE", "statement_for", "write_changes"]

# D1 runs a batch as one transaction; a few dozen small statements per request keep
# each request far below D1's statement and request size limits.
BATCH_SIZE = 50


def statement_for(change: RowChange) -> tuple[str, list[Any]]:
    """One parameterized statement: an upsert for inserts and updates, a delete by key."""
    table = change.table
    name = quote(table.name)
    if change.op is RowOp.DELETE:
        where = " AND ".join(f"{quote(k)} = ?" for k in table.key)
        return f"DELETE FROM {name} WHERE {where}", list(change.key)
    if change.row is None:
        raise PlanError(f"{table.name}: an {change.op.value} without a row (a bug).")
    columns = ", ".join(quote(c) for c in table.columns)
    marks = ", ".join("?" for _ in table.columns)
    keys = ", ".join(quote(k) for k in table.key)
    sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in table.values)
    # An upsert rather than a plain INSERT: a re-run after a lost response, or a row
    # written meanwhile, converges instead of failing on the primary key.
    sql = (
        f"INSERT INTO {name} ({columns}) VALUES ({marks}) ON CONFLICT ({keys}) DO UPDATE SET {sets}"
    )
    return sql, list(change.row)


def write_changes(
    db: D1Executor, database_id: str, changes: Sequence[RowChange], *, batch_size: int = BATCH_SIZE
) -> int:
    """Send ``changes`` in batches; return the number of requests (0 when none)."""
    statements = [statement_for(c) for c in changes]
    requests = 0
    for start in range(0, len(statements), batch_size):
        db.d1_batch(database_id, statements[start : start + batch_size])
        requests += 1
    return requests
