"""Desired rows x rows read back -> the few writes that make them equal (pure)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from enum import StrEnum

from .models import Row, SqlValue, TableCounts, TableRows
from .schema import Table

__all__ = ["RowChange", "RowOp", "count_changes", "diff_rows"]


class RowOp(StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


@dataclasses.dataclass(frozen=True)
class RowChange:
    table: Table
    op: RowOp
    key: tuple[SqlValue, ...]
    row: Row | None
    """The new row (``None`` for deletes)."""


def diff_rows(table: Table, desired: TableRows, actual: TableRows) -> tuple[RowChange, ...]:
    """The inserts, updates and deletes that turn ``actual`` into ``desired``, by key."""
    changes: list[RowChange] = []
    for key in sorted(desired, key=repr):
        row = desired[key]
        current = actual.get(key)
        if current is None:
            changes.append(RowChange(table, RowOp.INSERT, key, row))
        elif current != row:
            changes.append(RowChange(table, RowOp.UPDATE, key, row))
    for key in sorted(actual, key=repr):
        if key not in desired:
            changes.append(RowChange(table, RowOp.DELETE, key, None))
    return tuple(changes)


def count_changes(
    tables: Iterable[Table], changes: Iterable[RowChange]
) -> Mapping[str, TableCounts]:
    """Counts per table, with an all-zero entry for every table without changes."""
    counts = {t.name: {"insert": 0, "update": 0, "delete": 0} for t in tables}
    for change in changes:
        counts[change.table.name][change.op.value] += 1
    return {name: TableCounts(**values) for name, values in counts.items()}
