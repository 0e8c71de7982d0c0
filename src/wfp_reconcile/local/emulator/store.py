"""The emulator's persistent state: namespaces, scripts, tags, modules, D1 databases.

One SQLite file under the state directory (or memory when there is none). Regular
Workers live in the same tables with the namespace ``""``, so both kinds share code.
Every write bumps ``version`` so the local runtime can notice uploads cheaply.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from .d1records import D1Records
from .kvrecords import KV_SCHEMA, KvRecords

__all__ = ["REGULAR", "ModuleRow", "RawScriptRow", "ScriptRow", "Store", "now_iso"]

REGULAR = ""  # the namespace of regular (non-namespaced) Workers

RawScriptRow = tuple[str, str, str, str, str, str, int]
"""A script row as stored: name, etag, metadata and tags (JSON), created_on, modified_on,
workers_dev."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS namespaces (
    account TEXT NOT NULL, name TEXT NOT NULL, namespace_id TEXT NOT NULL,
    created_on TEXT NOT NULL, modified_on TEXT NOT NULL, trusted_workers INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, name));
CREATE TABLE IF NOT EXISTS scripts (
    account TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    etag TEXT NOT NULL, metadata TEXT NOT NULL, tags TEXT NOT NULL,
    created_on TEXT NOT NULL, modified_on TEXT NOT NULL, workers_dev INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, namespace, name));
CREATE TABLE IF NOT EXISTS script_tags (
    account TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, tag TEXT NOT NULL,
    PRIMARY KEY (account, namespace, name, tag));
CREATE INDEX IF NOT EXISTS script_tags_by_tag ON script_tags (account, namespace, tag, name);
CREATE TABLE IF NOT EXISTS modules (
    account TEXT NOT NULL, namespace TEXT NOT NULL, script TEXT NOT NULL, idx INTEGER NOT NULL,
    name TEXT NOT NULL, content_type TEXT NOT NULL, content BLOB NOT NULL,
    PRIMARY KEY (account, namespace, script, idx));
CREATE TABLE IF NOT EXISTS d1_databases (
    account TEXT NOT NULL, uuid TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (account, uuid));
"""


def now_iso() -> str:
    """The current time as Cloudflare writes it (RFC 3339, microseconds, ``Z``)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclasses.dataclass(frozen=True)
class ModuleRow:
    """One stored module of a script."""

    name: str
    content_type: str
    content: bytes


@dataclasses.dataclass(frozen=True)
class ScriptRow:
    """One stored script (without its modules)."""

    name: str
    etag: str
    metadata: dict[str, Any]
    tags: tuple[str, ...]
    created_on: str
    modified_on: str
    workers_dev: bool


def etag_of(modules: Sequence[ModuleRow]) -> str:
    digest = hashlib.sha256()
    for module in modules:
        for piece in (module.name.encode(), module.content_type.encode(), module.content):
            digest.update(len(piece).to_bytes(8, "big"))
            digest.update(piece)
    return digest.hexdigest()


class Store(D1Records, KvRecords):
    """Thread-safe access to the emulator's SQLite database."""

    def __init__(self, state_dir: Path | None) -> None:
        self.state_dir = state_dir
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
            target = str(state_dir / "emulator.sqlite3")
        else:
            target = ":memory:"
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        if state_dir is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA + KV_SCHEMA)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(namespaces)")}
        if "trusted_workers" not in columns:  # a state directory from an older emulator
            self._db.execute(
                "ALTER TABLE namespaces ADD COLUMN trusted_workers INTEGER NOT NULL DEFAULT 0"
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute(
                    "INSERT INTO meta (key, value) VALUES ('version', 1) "
                    "ON CONFLICT (key) DO UPDATE SET value = value + 1"
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    @property
    def version(self) -> int:
        rows = self._read("SELECT value FROM meta WHERE key = 'version'")
        return int(rows[0][0]) if rows else 0

    # -- namespaces -----------------------------------------------------------------------

    def _namespace_obj(self, row: tuple[Any, ...], account: str) -> dict[str, Any]:
        name, namespace_id, created_on, modified_on, trusted = row
        count = self._read(
            "SELECT COUNT(*) FROM scripts WHERE account = ? AND namespace = ?", (account, name)
        )[0][0]
        return {
            "namespace_id": namespace_id,
            "namespace_name": name,
            "created_on": created_on,
            "modified_on": modified_on,
            "created_by": account,
            "modified_by": account,
            "script_count": int(count),
            "trusted_workers": bool(trusted),
        }

    def has_namespace(self, account: str, name: str) -> bool:
        """Whether the namespace exists (``get_namespace`` also counts its scripts: a scan
        of every script, too slow for the check in front of each request)."""
        rows = self._read(
            "SELECT 1 FROM namespaces WHERE account = ? AND name = ?", (account, name)
        )
        return bool(rows)

    def get_namespace(self, account: str, name: str) -> dict[str, Any] | None:
        rows = self._read(
            "SELECT name, namespace_id, created_on, modified_on, trusted_workers FROM namespaces "
            "WHERE account = ? AND name = ?",
            (account, name),
        )
        return self._namespace_obj(rows[0], account) if rows else None

    def list_namespaces(self, account: str) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT name, namespace_id, created_on, modified_on, trusted_workers FROM namespaces "
            "WHERE account = ? ORDER BY name",
            (account,),
        )
        return [self._namespace_obj(row, account) for row in rows]

    def create_namespace(self, account: str, name: str) -> dict[str, Any] | None:
        """Create a namespace; ``None`` when one of that name already exists."""
        stamp = now_iso()
        with self._write() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO namespaces VALUES (?, ?, ?, ?, ?, 0)",
                (account, name, str(uuid.uuid4()), stamp, stamp),
            )
            created = cur.rowcount == 1
        return self.get_namespace(account, name) if created else None

    def update_namespace(
        self, account: str, name: str, new_name: str, trusted_workers: bool | None
    ) -> dict[str, Any] | None | bool:
        """Rename a namespace (its scripts move along) and/or set ``trusted_workers``.

        Returns the namespace, ``None`` when it does not exist, ``False`` when
        ``new_name`` is taken by another namespace.
        """
        with self._write() as db:
            found = db.execute(
                "SELECT 1 FROM namespaces WHERE account = ? AND name = ?", (account, name)
            ).fetchone()
            if not found:
                return None
            if new_name != name:
                taken = db.execute(
                    "SELECT 1 FROM namespaces WHERE account = ? AND name = ?", (account, new_name)
                ).fetchone()
                if taken:
                    return False
                for table, col in (
                    ("namespaces", "name"), ("scripts", "namespace"),
                    ("script_tags", "namespace"), ("modules", "namespace"),
                ):  # fmt: skip
                    db.execute(
                        f"UPDATE {table} SET {col} = ? WHERE account = ? AND {col} = ?",
                        (new_name, account, name),
                    )
            sets, args = ["modified_on = ?"], [now_iso()]
            if trusted_workers is not None:
                sets.append("trusted_workers = ?")
                args.append(str(int(trusted_workers)))
            db.execute(
                f"UPDATE namespaces SET {', '.join(sets)} WHERE account = ? AND name = ?",
                (*args, account, new_name),
            )
        return self.get_namespace(account, new_name)

    def delete_namespace(self, account: str, name: str) -> bool:
        with self._write() as db:
            cur = db.execute(
                "DELETE FROM namespaces WHERE account = ? AND name = ?", (account, name)
            )
            for table, col in (("scripts", "namespace"), ("script_tags", "namespace")):
                db.execute(f"DELETE FROM {table} WHERE account = ? AND {col} = ?", (account, name))
            db.execute("DELETE FROM modules WHERE account = ? AND namespace = ?", (account, name))
            return cur.rowcount == 1

    # -- scripts --------------------------------------------------------------------------

    @staticmethod
    def row_of(row: RawScriptRow) -> ScriptRow:
        """The script row of what ``list_scripts(raw=True)`` returned."""
        name, etag, metadata, tags, created_on, modified_on, workers_dev = row
        return ScriptRow(
            name, etag, json.loads(metadata), tuple(json.loads(tags)), created_on, modified_on,
            bool(workers_dev),
        )  # fmt: skip

    _COLUMNS = "name, etag, metadata, tags, created_on, modified_on, workers_dev"

    def get_script(self, account: str, namespace: str, name: str) -> ScriptRow | None:
        rows = self._read(
            f"SELECT {self._COLUMNS} FROM scripts WHERE account = ? AND namespace = ? AND name = ?",
            (account, namespace, name),
        )
        return self.row_of(rows[0]) if rows else None

    def get_modules(self, account: str, namespace: str, name: str) -> list[ModuleRow]:
        rows = self._read(
            "SELECT name, content_type, content FROM modules "
            "WHERE account = ? AND namespace = ? AND script = ? ORDER BY idx",
            (account, namespace, name),
        )
        return [ModuleRow(n, t, bytes(c)) for n, t, c in rows]

    def put_script(
        self,
        account: str,
        namespace: str,
        name: str,
        metadata: dict[str, Any],
        modules: Sequence[ModuleRow],
        tags: Sequence[str] | None,
    ) -> ScriptRow:
        """Create or replace a script. ``tags=None`` keeps the tags it already has."""
        stamp = now_iso()
        with self._write() as db:
            old = db.execute(
                "SELECT created_on, tags, workers_dev FROM scripts "
                "WHERE account = ? AND namespace = ? AND name = ?",
                (account, namespace, name),
            ).fetchone()
            created_on = old[0] if old else stamp
            keep_tags: list[str] = json.loads(old[1]) if old else []
            new_tags = list(dict.fromkeys(tags)) if tags is not None else keep_tags
            db.execute(
                "INSERT OR REPLACE INTO scripts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    account, namespace, name, etag_of(modules), json.dumps(metadata),
                    json.dumps(new_tags), created_on, stamp, old[2] if old else 0,
                ),
            )  # fmt: skip
            db.execute(
                "DELETE FROM modules WHERE account = ? AND namespace = ? AND script = ?",
                (account, namespace, name),
            )
            db.executemany(
                "INSERT INTO modules VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (account, namespace, name, i, m.name, m.content_type, m.content)
                    for i, m in enumerate(modules)
                ],
            )
            self._set_tags(db, account, namespace, name, new_tags)
        row = self.get_script(account, namespace, name)
        assert row is not None
        return row

    def update_script(
        self,
        account: str,
        namespace: str,
        name: str,
        metadata: dict[str, Any],
        tags: Sequence[str] | None = None,
    ) -> ScriptRow | None:
        """Replace a script's metadata (settings, secrets), keeping its modules and etag;
        ``tags`` replaces the tags when given. ``None`` when the script does not exist."""
        with self._write() as db:
            args = (account, namespace, name)
            cur = db.execute(
                "UPDATE scripts SET metadata = ?, modified_on = ? "
                "WHERE account = ? AND namespace = ? AND name = ?",
                (json.dumps(metadata), now_iso(), *args),
            )
            if cur.rowcount != 1:
                return None
            if tags is not None:
                unique = list(dict.fromkeys(tags))
                db.execute(
                    "UPDATE scripts SET tags = ? WHERE account = ? AND namespace = ? AND name = ?",
                    (json.dumps(unique), *args),
                )
                self._set_tags(db, account, namespace, name, unique)
        return self.get_script(account, namespace, name)

    @staticmethod
    def _set_tags(
        db: sqlite3.Connection, account: str, namespace: str, name: str, tags: Sequence[str]
    ) -> None:
        db.execute(
            "DELETE FROM script_tags WHERE account = ? AND namespace = ? AND name = ?",
            (account, namespace, name),
        )
        db.executemany(
            "INSERT OR IGNORE INTO script_tags VALUES (?, ?, ?, ?)",
            [(account, namespace, name, tag) for tag in tags],
        )

    def set_tags(
        self, account: str, namespace: str, name: str, tags: Sequence[str]
    ) -> tuple[str, ...] | None:
        """Replace a script's tags; ``None`` when the script does not exist."""
        unique = list(dict.fromkeys(tags))
        with self._write() as db:
            cur = db.execute(
                "UPDATE scripts SET tags = ? WHERE account = ? AND namespace = ? AND name = ?",
                (json.dumps(unique), account, namespace, name),
            )
            if cur.rowcount != 1:
                return None
            self._set_tags(db, account, namespace, name, unique)
        return tuple(unique)

    def set_workers_dev(self, account: str, name: str, enabled: bool) -> bool:
        with self._write() as db:
            cur = db.execute(
                "UPDATE scripts SET workers_dev = ? WHERE account = ? AND namespace = ? "
                "AND name = ?",
                (int(enabled), account, REGULAR, name),
            )
            return cur.rowcount == 1

    def delete_script(self, account: str, namespace: str, name: str) -> bool:
        with self._write() as db:
            args = (account, namespace, name)
            cur = db.execute(
                "DELETE FROM scripts WHERE account = ? AND namespace = ? AND name = ?", args
            )
            db.execute(
                "DELETE FROM script_tags WHERE account = ? AND namespace = ? AND name = ?", args
            )
            db.execute(
                "DELETE FROM modules WHERE account = ? AND namespace = ? AND script = ?", args
            )
            return cur.rowcount == 1

    def list_scripts(
        self,
        account: str,
        namespace: str,
        *,
        filters: Sequence[tuple[str, bool]] = (),
        after: str = "",
        limit: int | None = None,
    ) -> list[ScriptRow]:
        """Scripts in name order after ``after``, keeping only those matching every filter."""
        return [
            self.row_of(r)
            for r in self.list_scripts_raw(
                account, namespace, filters=filters, after=after, limit=limit
            )
        ]

    def list_scripts_raw(
        self,
        account: str,
        namespace: str,
        *,
        filters: Sequence[tuple[str, bool]] = (),
        after: str = "",
        limit: int | None = None,
    ) -> list[RawScriptRow]:
        """``list_scripts`` as stored (JSON columns undecoded; ``row_of`` decodes one)."""
        sql = [f"SELECT {self._COLUMNS} FROM scripts s WHERE account = ? AND namespace = ?"]
        args: list[Any] = [account, namespace]
        if after:
            sql.append("AND name > ?")
            args.append(after)
        for tag, wanted in filters:
            sql.append(
                ("AND EXISTS" if wanted else "AND NOT EXISTS")
                + " (SELECT 1 FROM script_tags t WHERE t.account = s.account AND "
                "t.namespace = s.namespace AND t.name = s.name AND t.tag = ?)"
            )
            args.append(tag)
        sql.append("ORDER BY name")
        if limit is not None:
            sql.append("LIMIT ?")
            args.append(limit)
        return [cast(RawScriptRow, r) for r in self._read(" ".join(sql), args)]
