"""The mirror's values: rows, counts of row changes, and the D1 calls it makes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

__all__ = [
    "D1Executor",
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
