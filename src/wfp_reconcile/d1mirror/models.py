"""Values the mirror hands to plans, renderers and callers."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

__all__ = [
    "D1Executor",
    "MirrorPlan",
    "MirrorResult",
    "Row",
    "SqlValue",
    "TableCounts",
    "TableRows",
]

SqlValue = str | int | float | None
Row = tuple[SqlValue, ...]
TableRows = Mapping[tuple[SqlValue, ...], Row]
"""Rows of one table by primary key, each row in the table's column order."""


class D1Executor(Protocol):
    """The D1 part of the Cloudflare client."""

    def d1_query(
        self, database_id: str, sql: str, params: Sequence[Any] = ()
    ) -> list[dict[str, Any]]: ...

    def d1_batch(
        self, database_id: str, statements: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[dict[str, Any]]]: ...


class TableCounts(BaseModel):
    """Row changes of one table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    insert: int = 0
    update: int = 0
    delete: int = 0

    @property
    def total(self) -> int:
        return self.insert + self.update + self.delete


class MirrorPlan(BaseModel):
    """The D1 part of a plan: pending migrations and row changes per table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database: str
    """The database's name from platform.yaml (its id is not repeated here)."""
    pending_migrations: tuple[int, ...] = ()
    tables: Mapping[str, TableCounts]

    @property
    def has_changes(self) -> bool:
        return bool(self.pending_migrations) or any(c.total for c in self.tables.values())


@dataclasses.dataclass(frozen=True)
class MirrorResult:
    """What one mirror run did; ``error`` is set when it could not finish."""

    migrations_applied: tuple[int, ...]
    tables: Mapping[str, TableCounts]
    write_requests: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
