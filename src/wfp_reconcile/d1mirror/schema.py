"""The mirror's tables and the versioned migrations that create them.

Migrations are append-only: a released migration is never edited (its checksum is
recorded in ``wfp_schema_migrations`` and checked on every run) and never drops a
table or column, so data other services wrote next to ours is never lost silently.
A schema change is a new migration with the next version number.
"""

from __future__ import annotations

import dataclasses
import hashlib

__all__ = [
    "MIGRATIONS",
    "MIGRATIONS_TABLE",
    "TABLES",
    "Migration",
    "Table",
    "quote",
    "table",
]

MIGRATIONS_TABLE = "wfp_schema_migrations"


def quote(identifier: str) -> str:
    """An SQL identifier in double quotes (``plan`` is an SQLite keyword)."""
    return '"' + identifier.replace('"', '""') + '"'


@dataclasses.dataclass(frozen=True)
class Table:
    """A mirrored table: its columns in order, the primary key and the scope column.

    ``scope`` names the column holding the customer id, so that a ``--customer`` run
    reads and writes only that customer's rows.
    """

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    scope: str

    def key_of(
        self, row: tuple[str | int | float | None, ...]
    ) -> tuple[str | int | float | None, ...]:
        return tuple(row[self.columns.index(k)] for k in self.key)

    @property
    def values(self) -> tuple[str, ...]:
        """The non-key columns."""
        return tuple(c for c in self.columns if c not in self.key)


CUSTOMERS = Table(
    name="customers",
    columns=("id", "name", "plan", "suspended"),
    key=("id",),
    scope="id",
)
CUSTOMER_TOKENS = Table(
    name="customer_tokens",
    columns=("customer_id", "name", "sha256"),
    key=("customer_id", "name"),
    scope="customer_id",
)
SCRIPT_SETTINGS = Table(
    name="script_settings",
    columns=(
        "script",
        "customer_id",
        "cpu_ms",
        "subrequests",
        "outbound_worker",
        "outbound_params",
        "access",
    ),
    key=("script",),
    scope="customer_id",
)
DEPLOYED_SCRIPTS = Table(
    name="deployed_scripts",
    columns=("script", "customer_id", "fingerprint", "commit_sha", "deployed_at"),
    key=("script",),
    scope="customer_id",
)

TABLES: tuple[Table, ...] = (CUSTOMERS, CUSTOMER_TOKENS, SCRIPT_SETTINGS, DEPLOYED_SCRIPTS)


def table(name: str) -> Table:
    for candidate in TABLES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


@dataclasses.dataclass(frozen=True)
class Migration:
    """One schema step; applied atomically together with its bookkeeping row."""

    version: int
    name: str
    statements: tuple[str, ...]

    @property
    def checksum(self) -> str:
        return hashlib.sha256("\n;\n".join(self.statements).encode()).hexdigest()


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        name="customers, tokens, script settings and deployed scripts",
        statements=(
            "CREATE TABLE customers ("
            "id TEXT PRIMARY KEY, name TEXT NOT NULL, plan TEXT NOT NULL, "
            "suspended INTEGER NOT NULL DEFAULT 0)",
            "CREATE TABLE customer_tokens ("
            "customer_id TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, "
            "PRIMARY KEY (customer_id, name))",
            "CREATE TABLE script_settings ("
            "script TEXT PRIMARY KEY, customer_id TEXT NOT NULL, cpu_ms INTEGER, "
            "subrequests INTEGER, outbound_worker TEXT, "
            "outbound_params TEXT NOT NULL DEFAULT '{}', access TEXT NOT NULL)",
            "CREATE TABLE deployed_scripts ("
            "script TEXT PRIMARY KEY, customer_id TEXT NOT NULL, fingerprint TEXT NOT NULL, "
            "commit_sha TEXT, deployed_at TEXT NOT NULL)",
        ),
    ),
    Migration(
        version=2,
        name="indexes for per-customer lookups",
        statements=(
            "CREATE INDEX customer_tokens_by_sha256 ON customer_tokens (sha256)",
            "CREATE INDEX script_settings_by_customer ON script_settings (customer_id)",
            "CREATE INDEX deployed_scripts_by_customer ON deployed_scripts (customer_id)",
        ),
    ),
)
