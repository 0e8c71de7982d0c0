"""The D1 customer database mirror.

When ``platform.yaml`` names a D1 database, apply keeps four tables in step with the
repository and with what was deployed: ``customers``, ``customer_tokens`` (SHA-256
only), ``script_settings`` and ``deployed_scripts``. The schema is created and
migrated by versioned migrations recorded in ``wfp_schema_migrations``. See docs/d1.md.
"""

from __future__ import annotations

from .migrate import apply_migrations, pending_migrations
from .models import D1Executor, MirrorPlan, MirrorResult, TableCounts
from .read import SchemaState, Snapshot, read_snapshot
from .schema import MIGRATIONS, MIGRATIONS_TABLE, TABLES, Migration, Table
from .sync import plan_mirror, row_changes, sync_mirror

__all__ = [
    "MIGRATIONS",
    "MIGRATIONS_TABLE",
    "TABLES",
    "D1Executor",
    "Migration",
    "MirrorPlan",
    "MirrorResult",
    "SchemaState",
    "Snapshot",
    "Table",
    "TableCounts",
    "apply_migrations",
    "pending_migrations",
    "plan_mirror",
    "read_snapshot",
    "row_changes",
    "sync_mirror",
]
