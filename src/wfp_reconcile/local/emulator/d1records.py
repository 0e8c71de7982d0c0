"""The emulator's register of D1 databases (their rows live in ``d1.py``'s SQLite files).

A mixin of ``Store``: it shares the store's connection, lock and write transaction.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

__all__ = ["D1Records"]


def _now() -> str:
    from .store import now_iso  # store imports this module: import late

    return now_iso()


class D1Records:
    """Create, find (by id or name), list and delete D1 databases of an account."""

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def create_d1(
        self, account: str, name: str, db_uuid: str | None = None
    ) -> dict[str, Any] | None:
        """Register a D1 database; ``None`` when the name is taken in the account.

        ``db_uuid`` is for the local stack, which must use the id the repository names.
        """
        with self._write() as db:
            taken = db.execute(
                "SELECT 1 FROM d1_databases WHERE account = ? AND name = ?", (account, name)
            ).fetchone()
            if taken:
                return None
            db_uuid = db_uuid or str(uuid.uuid4())
            db.execute(
                "INSERT INTO d1_databases VALUES (?, ?, ?, ?)", (account, db_uuid, name, _now())
            )
        return self.get_d1(account, db_uuid)

    def get_d1(self, account: str, db_uuid: str) -> dict[str, Any] | None:
        rows = self._read(
            "SELECT uuid, name, created_at FROM d1_databases WHERE account = ? AND uuid = ?",
            (account, db_uuid),
        )
        if not rows:
            return None
        return {"uuid": rows[0][0], "name": rows[0][1], "created_at": rows[0][2],
                "version": "production"}  # fmt: skip

    def find_d1(self, account: str, key: str) -> dict[str, Any] | None:
        """A database by id, else by name (newer wrangler resolves names this way)."""
        found = self.get_d1(account, key)
        if found is not None:
            return found
        rows = self._read(
            "SELECT uuid FROM d1_databases WHERE account = ? AND name = ?", (account, key)
        )
        return self.get_d1(account, rows[0][0]) if rows else None

    def list_d1(self, account: str, *, name: str | None = None) -> list[dict[str, Any]]:
        """Databases in name order; ``name`` keeps only the database of that exact name."""
        sql = "SELECT uuid FROM d1_databases WHERE account = ?"
        args: list[Any] = [account]
        if name is not None:
            sql += " AND name = ?"
            args.append(name)
        rows = self._read(sql + " ORDER BY name", args)
        return [d for (u,) in rows if (d := self.get_d1(account, u)) is not None]

    def delete_d1(self, account: str, db_uuid: str) -> bool:
        with self._write() as db:
            cur = db.execute(
                "DELETE FROM d1_databases WHERE account = ? AND uuid = ?", (account, db_uuid)
            )
            return cur.rowcount == 1
