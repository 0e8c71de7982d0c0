"""The D1 customer database mirror: tables, migrations, rows, row diffs and batched writes.

When ``platform.yaml`` names a D1 database, apply keeps four tables in step with the
repository and with what was deployed: ``customers``, ``customer_tokens`` (SHA-256
only), ``script_settings`` and ``deployed_scripts``. The schema is created and
migrated by versioned migrations recorded in ``wfp_schema_migrations``. The engine sees
the mirror as two kinds (``kinds.d1``); this package is their pure parts and their D1
calls. See docs/d1.md.
"""

from __future__ import annotations

from .migrate import apply_migrations, pending_migrations
from .models import D1Executor, TableCounts
from .read import SchemaState, Snapshot, read_database, read_snapshot
from .schema import MIGRATIONS, MIGRATIONS_TABLE, TABLES, Migration, Table

__all__ = [
    "MIGRATIONS",
    "MIGRATIONS_TABLE",
    "TABLES",
    "D1Executor",
    "Migration",
    "SchemaState",
    "Snapshot",
    "Table",
    "TableCounts",
    "apply_migrations",
    "pending_migrations",
    "read_database",
    "read_snapshot",
]
