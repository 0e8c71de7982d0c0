"""Versioned schema migrations: which are pending, and applying them in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wfp_reconcile.errors import ApiClientError, PlanError

from .models import D1Executor
from .read import SchemaState
from .schema import MIGRATIONS, MIGRATIONS_TABLE, Migration, quote

__all__ = ["apply_migrations", "pending_migrations"]

_CREATE_BOOKKEEPING = (
    f"CREATE TABLE IF NOT EXISTS {quote(MIGRATIONS_TABLE)} ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, "
    "applied_at TEXT NOT NULL)"
)


def pending_migrations(
    schema: SchemaState, migrations: Sequence[Migration] = MIGRATIONS
) -> tuple[Migration, ...]:
    """The migrations not yet applied, in version order.

    Raises:
        PlanError: The database was migrated by a newer wfp-reconcile, or a recorded
            migration differs from this version's (someone edited a released migration).
    """
    known = {m.version: m for m in migrations}
    newer = sorted(v for v in schema.applied if v not in known)
    if newer:
        raise PlanError(
            f"The D1 database has schema migration {newer[-1]}, which this wfp-reconcile does "
            f"not know (it knows up to {max(known)}); upgrade wfp-reconcile before applying."
        )
    for version, checksum in sorted(schema.applied.items()):
        if checksum != known[version].checksum:
            raise PlanError(
                f"D1 schema migration {version} ({known[version].name}) was recorded with "
                "another checksum than this wfp-reconcile's; the database was migrated by a "
                f"modified tool. Inspect {MIGRATIONS_TABLE} before applying."
            )
    return tuple(
        m for m in sorted(migrations, key=lambda m: m.version) if m.version not in schema.applied
    )


def apply_migrations(
    db: D1Executor,
    database_id: str,
    schema: SchemaState,
    *,
    now: str,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> tuple[int, ...]:
    """Apply every pending migration, each atomically with its bookkeeping row.

    Returns:
        The versions applied (empty when the schema is current: nothing is sent).

    Raises:
        PlanError: A migration failed (earlier ones stay applied and recorded).
    """
    applied: list[int] = []
    for migration in pending_migrations(schema, migrations):
        statements: list[tuple[str, Sequence[Any]]] = [(_CREATE_BOOKKEEPING, [])]
        statements += [(sql, []) for sql in migration.statements]
        statements.append(
            (
                f"INSERT INTO {quote(MIGRATIONS_TABLE)} (version, name, checksum, applied_at) "
                "VALUES (?, ?, ?, ?)",
                [migration.version, migration.name, migration.checksum, now],
            )
        )
        try:
            db.d1_batch(database_id, statements)
        except ApiClientError as exc:
            raise PlanError(
                f"D1 schema migration {migration.version} ({migration.name}) failed: "
                f"{exc.message} Nothing of it was applied. If the database already holds "
                "tables of these names from another tool, use a separate database for "
                "the mirror."
            )
        applied.append(migration.version)
    return tuple(applied)
