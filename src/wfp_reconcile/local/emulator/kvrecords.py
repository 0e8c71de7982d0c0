"""The emulator's Workers KV namespaces and their pairs (a mixin of ``Store``).

It shares the store's connection, lock and write transaction, so KV writes bump the same
state version the local runtime watches.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

__all__ = ["KV_SCHEMA", "KvPair", "KvRecords"]

KV_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv_namespaces (
    account TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL,
    PRIMARY KEY (account, id), UNIQUE (account, title));
CREATE TABLE IF NOT EXISTS kv_pairs (
    account TEXT NOT NULL, ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
    metadata TEXT, expiration INTEGER,
    PRIMARY KEY (account, ns, key));
"""

KvPair = tuple[str, bytes, str | None, int | None]
"""``(key, value, metadata JSON or None, expiration epoch seconds or None)``."""


class KvRecords:
    """KV namespaces (create, find, list, delete) and their keys (get, put, delete, list)."""

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def create_kv(
        self, account: str, title: str, ns_id: str | None = None
    ) -> dict[str, Any] | None:
        """Register a namespace; ``None`` when the title is taken in the account.

        ``ns_id`` is for the local stack, which must use the id platform.yaml names.
        """
        new_id = ns_id or uuid.uuid4().hex
        with self._write() as db:
            taken = db.execute(
                "SELECT 1 FROM kv_namespaces WHERE account = ? AND (title = ? OR id = ?)",
                (account, title, new_id),
            ).fetchone()
            if taken:
                return None
            db.execute(
                "INSERT INTO kv_namespaces (account, id, title) VALUES (?, ?, ?)",
                (account, new_id, title),
            )
        return _namespace(new_id, title)

    def get_kv(self, account: str, ns_id: str) -> dict[str, Any] | None:
        rows = self._read(
            "SELECT id, title FROM kv_namespaces WHERE account = ? AND id = ?", (account, ns_id)
        )
        return _namespace(*rows[0]) if rows else None

    def list_kv(self, account: str) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT id, title FROM kv_namespaces WHERE account = ? ORDER BY title", (account,)
        )
        return [_namespace(*r) for r in rows]

    def rename_kv(self, account: str, ns_id: str, title: str) -> bool:
        """``False`` when another namespace of the account has the title."""
        with self._write() as db:
            other = db.execute(
                "SELECT 1 FROM kv_namespaces WHERE account = ? AND title = ? AND id != ?",
                (account, title, ns_id),
            ).fetchone()
            if other:
                return False
            db.execute(
                "UPDATE kv_namespaces SET title = ? WHERE account = ? AND id = ?",
                (title, account, ns_id),
            )
        return True

    def delete_kv(self, account: str, ns_id: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM kv_pairs WHERE account = ? AND ns = ?", (account, ns_id))
            db.execute("DELETE FROM kv_namespaces WHERE account = ? AND id = ?", (account, ns_id))

    def kv_get(self, account: str, ns_id: str, key: str) -> KvPair | None:
        """The live pair under ``key`` (an expired one is gone, as on Cloudflare)."""
        rows = self._read(
            "SELECT key, value, metadata, expiration FROM kv_pairs "
            "WHERE account = ? AND ns = ? AND key = ? AND (expiration IS NULL OR expiration > ?)",
            (account, ns_id, key, int(time.time())),
        )
        if not rows:
            return None
        k, value, metadata, expiration = rows[0]
        return str(k), bytes(value), metadata, expiration

    def kv_put(self, account: str, ns_id: str, pairs: Sequence[KvPair]) -> None:
        """Write pairs in one transaction (a bulk write is all or nothing here)."""
        with self._write() as db:
            db.executemany(
                "INSERT INTO kv_pairs (account, ns, key, value, metadata, expiration) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, ns, key) DO UPDATE SET "
                "value = excluded.value, metadata = excluded.metadata, "
                "expiration = excluded.expiration",
                [(account, ns_id, k, v, m, e) for k, v, m, e in pairs],
            )

    def kv_delete(self, account: str, ns_id: str, keys: Sequence[str]) -> None:
        with self._write() as db:
            db.executemany(
                "DELETE FROM kv_pairs WHERE account = ? AND ns = ? AND key = ?",
                [(account, ns_id, k) for k in keys],
            )

    def kv_keys(
        self, account: str, ns_id: str, *, prefix: str, after: str | None, limit: int
    ) -> list[tuple[str, str | None, int | None]]:
        """Up to ``limit`` live keys with ``prefix`` after ``after``, in byte order."""
        # Byte order, as Cloudflare lists keys: compare the UTF-8 of the names.
        rows = self._read(
            "SELECT key, metadata, expiration FROM kv_pairs "
            "WHERE account = ? AND ns = ? AND substr(key, 1, ?) = ? "
            "AND (? IS NULL OR CAST(key AS BLOB) > CAST(? AS BLOB)) "
            "AND (expiration IS NULL OR expiration > ?) "
            "ORDER BY CAST(key AS BLOB) LIMIT ?",
            (account, ns_id, len(prefix), prefix, after, after, int(time.time()), limit),
        )
        return [(str(k), m, e) for k, m, e in rows]


def _namespace(ns_id: str, title: str) -> dict[str, Any]:
    return {"id": ns_id, "title": title, "supports_url_encoding": True}
