"""Reading the mirror's schema version and rows back from D1 (two read requests)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .models import D1Executor, Row, SqlValue, TableRows
from .schema import MIGRATIONS_TABLE, TABLES, Table, quote

__all__ = ["SchemaState", "Snapshot", "read_snapshot"]


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


def read_snapshot(db: D1Executor, database_id: str) -> Snapshot:
    """Read the schema state and every mirrored table that exists.

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
    readable = [t for t in TABLES if t.name in present]
    for table in readable:
        order = ", ".join(quote(k) for k in table.key)
        statements.append((f"SELECT * FROM {quote(table.name)} ORDER BY {order}", []))
    results = db.d1_batch(database_id, statements) if statements else []
    applied: dict[int, str] = {}
    if MIGRATIONS_TABLE in present:
        for raw in results[0]:
            applied[int(raw["version"])] = str(raw["checksum"])
        results = results[1:]
    rows: dict[str, TableRows] = {t.name: {} for t in TABLES}
    for table, raw_rows in zip(readable, results, strict=True):
        rows[table.name] = _rows(table, raw_rows)
    return Snapshot(schema=SchemaState(tables=present, applied=applied), rows=rows)
