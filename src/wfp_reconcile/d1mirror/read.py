"""Reading the mirror's schema version and rows back from D1 (two read requests)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from wfp_reconcile.config.model import D1Database
from wfp_reconcile.errors import NotFoundError, PlanError

from .models import D1Executor, Row, SqlValue, TableRows
from .schema import MIGRATIONS_TABLE, TABLES, Table, quote

__all__ = ["SchemaState", "Snapshot", "read_database", "read_snapshot"]


@dataclasses.dataclass(frozen=True)
class SchemaState:
    """Which tables exist and which migrations were applied (version -> checksum)."""

    tables: frozenset[str]
    applied: Mapping[int, str]


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """The database as read: its schema state and the rows of every mirrored table."""

    schema: SchemaState
    rows: Mapping[str, TableRows]
    requests: int = 2
    """Read requests it took (one when the database holds none of our tables)."""


def _value(raw: Any) -> SqlValue:
    if raw is None or isinstance(raw, str | float):
        return raw
    if isinstance(raw, bool):  # JSON booleans never come from SQLite, but be exact
        return int(raw)
    if isinstance(raw, int):
        return raw
    return str(raw)


def _rows(table: Table, raw_rows: list[dict[str, Any]]) -> dict[tuple[SqlValue, ...], Row]:
    out: dict[tuple[SqlValue, ...], Row] = {}
    for raw in raw_rows:
        # SELECT * plus .get: a column a pending migration adds reads as NULL.
        row: Row = tuple(_value(raw.get(column)) for column in table.columns)
        out[table.key_of(row)] = row
    return out


def read_snapshot(db: D1Executor, database_id: str, tables: Sequence[Table] = TABLES) -> Snapshot:
    """Read the schema state and every mirrored table (of ``tables``) that exists.

    Raises:
        NotFoundError: The database does not exist.
        ApiError: D1 refused the query.
    """
    listed = db.d1_query(database_id, "SELECT name FROM sqlite_master WHERE type = 'table'")
    present = frozenset(str(r.get("name")) for r in listed)
    statements: list[tuple[str, list[Any]]] = []
    if MIGRATIONS_TABLE in present:
        statements.append(
            (f"SELECT version, checksum FROM {quote(MIGRATIONS_TABLE)} ORDER BY version", [])
        )
    readable = [t for t in tables if t.name in present]
    for table in readable:
        order = ", ".join(quote(k) for k in table.key)
        statements.append((f"SELECT * FROM {quote(table.name)} ORDER BY {order}", []))
    results = db.d1_batch(database_id, statements) if statements else []
    applied: dict[int, str] = {}
    if MIGRATIONS_TABLE in present:
        for raw in results[0]:
            applied[int(raw["version"])] = str(raw["checksum"])
        results = results[1:]
    rows: dict[str, TableRows] = {t.name: {} for t in tables}
    for table, raw_rows in zip(readable, results, strict=True):
        rows[table.name] = _rows(table, raw_rows)
    schema = SchemaState(tables=present, applied=applied)
    return Snapshot(schema=schema, rows=rows, requests=1 + bool(statements))


def read_database(
    db: D1Executor, database: D1Database, account_id: str, tables: Sequence[Table] = TABLES
) -> Snapshot:
    """``read_snapshot`` of platform.yaml's database, saying what to do when it is missing.

    Raises:
        PlanError: The database does not exist.
        ApiError: D1 refused a query.
    """
    try:
        return read_snapshot(db, database.database_id, tables)
    except NotFoundError:
        raise PlanError(
            f"The D1 database {database.name!r} (platform.yaml d1.database_id "
            f"{database.database_id}) does not exist in account {account_id}. Create it (for "
            f"example `wrangler d1 create {database.name}`) and put its id in platform.yaml, "
            "or remove the d1 section."
        )
