"""D1 emulation: each database is a real SQLite file (or an in-memory database).

``query`` takes ``{"sql", "params"}`` (``sql`` may hold several statements joined by
semicolons) or ``{"batch": [{"sql", "params"}, ...]}``; either runs atomically and yields
one result per statement, shaped like Cloudflare's ``QueryResult``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["D1Engine", "D1Error", "split_statements"]


class D1Error(ValueError):
    """The SQL or its parameters were rejected (Cloudflare answers 400, code 7500)."""


def split_statements(sql: str) -> list[str]:
    """Split SQL into complete statements, respecting quotes and comments."""
    statements: list[str] = []
    buffer = ""
    for piece in sql.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        statements.append(buffer.strip().rstrip(";"))
    return statements


_SCALARS = (str, int, float, type(None))


class D1Engine:
    """Opens and queries the SQLite databases behind emulated D1 databases."""

    def __init__(self, state_dir: Path | None) -> None:
        self._dir = state_dir / "d1" if state_dir is not None else None
        self._conns: dict[str, sqlite3.Connection] = {}
        self._lock = threading.Lock()

    def _conn(self, db_uuid: str) -> sqlite3.Connection:
        conn = self._conns.get(db_uuid)
        if conn is None:
            if self._dir is not None:
                self._dir.mkdir(parents=True, exist_ok=True)
                target = str(self._dir / f"{db_uuid}.sqlite3")
            else:
                target = ":memory:"
            conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
            self._conns[db_uuid] = conn
        return conn

    def drop(self, db_uuid: str) -> None:
        with self._lock:
            conn = self._conns.pop(db_uuid, None)
            if conn is not None:
                conn.close()
            if self._dir is not None:
                (self._dir / f"{db_uuid}.sqlite3").unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            for conn in self._conns.values():
                conn.close()
            self._conns.clear()

    def run(self, db_uuid: str, statements: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Run statements in one transaction; all or nothing."""
        for _, params in statements:
            if not all(isinstance(p, _SCALARS) for p in params):
                raise D1Error("D1 parameters must be strings, numbers, booleans or null.")
        with self._lock:
            conn = self._conn(db_uuid)
            conn.execute("BEGIN")
            try:
                results = [self._one(conn, sql, params) for sql, params in statements]
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise D1Error(f"{exc}: SQLITE_ERROR")
            conn.execute("COMMIT")
            return results

    @staticmethod
    def _one(conn: sqlite3.Connection, sql: str, params: list[Any]) -> dict[str, Any]:
        started = time.perf_counter()
        before = conn.total_changes
        cursor = conn.execute(sql, params)
        columns = [d[0] for d in cursor.description or ()]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        changes = conn.total_changes - before
        elapsed = (time.perf_counter() - started) * 1000
        return {
            "success": True,
            "results": rows,
            "meta": {
                "changed_db": changes > 0,
                "changes": changes,
                "duration": elapsed,
                "last_row_id": cursor.lastrowid or 0,
                "rows_read": len(rows),
                "rows_written": changes,
                "size_after": 0,
                "served_by_colo": "LOCAL",
                "served_by_primary": True,
                "served_by_region": "ENAM",
                "timings": {"sql_duration_ms": elapsed},
            },
        }
