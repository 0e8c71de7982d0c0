"""The emulator's asset content and upload sessions, and the JWTs that tie them together.

Kept in its own SQLite file beside the emulator's (``assets.sqlite3``). See
``wfp_reconcile.local.emulator.assets`` for the endpoints.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import jwt

from .validation import ApiProblem

__all__ = ["TOKEN_TTL_SECONDS", "AssetStore"]

TOKEN_TTL_SECONDS = 3600
"""Upload and completion tokens are valid for one hour (direct-upload guide)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS asset_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS asset_blobs (
    account TEXT NOT NULL, namespace TEXT NOT NULL, hash TEXT NOT NULL,
    content_type TEXT NOT NULL, content BLOB NOT NULL, PRIMARY KEY (account, namespace, hash));
CREATE TABLE IF NOT EXISTS asset_sessions (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, namespace TEXT NOT NULL, script TEXT NOT NULL,
    manifest TEXT NOT NULL, created REAL NOT NULL);
"""


class AssetStore:
    """Asset content and sessions, in their own SQLite file beside the emulator's."""

    def __init__(self, state_dir: Path | None) -> None:
        target = ":memory:" if state_dir is None else str(state_dir / "assets.sqlite3")
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._db.executescript(_SCHEMA)
        self.ttl_seconds = TOKEN_TTL_SECONDS
        row = self._db.execute("SELECT value FROM asset_meta WHERE key = 'key'").fetchone()
        if row is None:
            # The signing key survives restarts, so a token issued before one still works.
            self._key = secrets.token_hex(32)
            self._db.execute("INSERT INTO asset_meta VALUES ('key', ?)", (self._key,))
        else:
            self._key = str(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- tokens ---------------------------------------------------------------------------

    def token(self, session: str, purpose: str) -> str:
        now = int(time.time())
        claims = {"sub": session, "purpose": purpose, "iat": now, "exp": now + self.ttl_seconds}
        return jwt.encode(claims, self._key, algorithm="HS256")

    def check_token(self, token: str, purpose: str) -> str:
        """The session id a valid token of ``purpose`` names; ``ApiProblem`` otherwise."""
        try:
            claims = jwt.decode(
                token, self._key, algorithms=["HS256"], options={"require": ["exp"]}
            )
        except jwt.ExpiredSignatureError:
            raise ApiProblem(401, 10000, "The asset upload token has expired; start a new session.")
        except jwt.InvalidTokenError:
            raise ApiProblem(401, 10000, "Authentication error: invalid asset upload token.")
        if claims.get("purpose") != purpose or not isinstance(claims.get("sub"), str):
            raise ApiProblem(401, 10000, f"Authentication error: not an asset {purpose} token.")
        return str(claims["sub"])

    # -- sessions and content -------------------------------------------------------------

    def new_session(
        self, account: str, namespace: str, script: str, manifest: dict[str, Any]
    ) -> str:
        session = str(uuid.uuid4())
        with self._lock:
            self._db.execute(
                "INSERT INTO asset_sessions VALUES (?, ?, ?, ?, ?, ?)",
                (session, account, namespace, script, json.dumps(manifest), time.time()),
            )
        return session

    def session(self, session: str) -> tuple[str, str, str, dict[str, Any]]:
        with self._lock:
            row = self._db.execute(
                "SELECT account, namespace, script, manifest FROM asset_sessions WHERE id = ?",
                (session,),
            ).fetchone()
        if row is None:
            raise ApiProblem(401, 10000, "Authentication error: unknown asset upload session.")
        return str(row[0]), str(row[1]), str(row[2]), json.loads(row[3])

    def missing(self, account: str, namespace: str, hashes: set[str]) -> set[str]:
        with self._lock:
            present = {
                str(h)
                for (h,) in self._db.execute(
                    "SELECT hash FROM asset_blobs WHERE account = ? AND namespace = ?",
                    (account, namespace),
                )
            }
        return hashes - present

    def put_blobs(self, account: str, namespace: str, blobs: list[tuple[str, str, bytes]]) -> None:
        """Store ``(hash, content_type, content)`` triples in one transaction (a bucket
        holds up to 5,000 files: a commit each would be an fsync each)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO asset_blobs VALUES (?, ?, ?, ?, ?)",
                    [(account, namespace, h, t, c) for h, t, c in blobs],
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def blob(self, account: str, namespace: str, digest: str) -> tuple[str, bytes] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT content_type, content FROM asset_blobs "
                "WHERE account = ? AND namespace = ? AND hash = ?",
                (account, namespace, digest),
            ).fetchone()
        return (str(row[0]), bytes(row[1])) if row else None
