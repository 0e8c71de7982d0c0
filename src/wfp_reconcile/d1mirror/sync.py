"""The mirror's two entry points: what a plan would change, and making it so.

Both read the database first (two requests); ``sync_mirror`` then migrates the
schema when needed and writes only the rows that differ, so a run with nothing to
change sends no write at all.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from wfp_reconcile.config.model import D1Database, PlatformRepo
from wfp_reconcile.errors import NotFoundError, PlanError
from wfp_reconcile.outcome import Inventory

from .migrate import apply_migrations, pending_migrations
from .models import D1Executor, MirrorPlan, MirrorResult, TableRows
from .read import Snapshot, read_snapshot
from .rowdiff import RowChange, count_changes, diff_rows
from .rows import deployed_rows, in_scope, repo_rows
from .schema import DEPLOYED_SCRIPTS, TABLES
from .write import write_changes

__all__ = ["plan_mirror", "row_changes", "sync_mirror"]


def _database(repo: PlatformRepo) -> D1Database:
    if repo.platform.d1 is None:
        raise PlanError("platform.yaml declares no d1 database; there is nothing to mirror.")
    return repo.platform.d1


def _read(db: D1Executor, repo: PlatformRepo) -> Snapshot:
    d1 = _database(repo)
    try:
        return read_snapshot(db, d1.database_id)
    except NotFoundError:
        raise PlanError(
            f"The D1 database {d1.name!r} (platform.yaml d1.database_id {d1.database_id}) "
            f"does not exist in account {repo.platform.account_id}. Create it (for example "
            f"`wrangler d1 create {d1.name}`) and put its id in platform.yaml, or remove the "
            "d1 section."
        )


def row_changes(
    repo: PlatformRepo,
    inventory: Inventory,
    rows: Mapping[str, TableRows],
    *,
    customers: Collection[str] = (),
    now: str,
) -> tuple[RowChange, ...]:
    """The row changes that bring ``rows`` (as read) in step with the repository and with
    what is deployed and ours (pure)."""
    scoped = {t.name: in_scope(t, rows.get(t.name, {}), customers) for t in TABLES}
    wanted = dict(repo_rows(repo, customers=customers))
    wanted[DEPLOYED_SCRIPTS.name] = deployed_rows(
        inventory,
        scoped[DEPLOYED_SCRIPTS.name],
        customers=customers,
        commit=repo.commit,
        now=now,
    )
    out: list[RowChange] = []
    for table in TABLES:
        out += diff_rows(table, wanted[table.name], scoped[table.name])
    return tuple(out)


def plan_mirror(
    db: D1Executor,
    repo: PlatformRepo,
    inventory: Inventory,
    *,
    customers: Collection[str] = (),
    now: str,
) -> MirrorPlan:
    """What an apply would do to the mirror, given what it leaves deployed (``inventory``
    at plan time assumes every operation succeeds).

    Reads only. Raises ``PlanError`` when the database is missing or its schema is
    from another wfp-reconcile.
    """
    snapshot = _read(db, repo)
    pending = pending_migrations(snapshot.schema)
    planned = row_changes(repo, inventory, snapshot.rows, customers=customers, now=now)
    return MirrorPlan(
        database=_database(repo).name,
        pending_migrations=tuple(m.version for m in pending),
        tables=count_changes(TABLES, planned),
    )


def sync_mirror(
    db: D1Executor,
    repo: PlatformRepo,
    inventory: Inventory,
    *,
    customers: Collection[str] = (),
    now: str,
) -> MirrorResult:
    """Migrate the schema and write the rows that differ, after the namespace was applied.

    Args:
        db: The Cloudflare client.
        repo: The repository the apply was made from.
        inventory: What is deployed and ours after the apply (failures included).
        customers: The run's ``--customer`` scope; other customers' rows are left alone.
        now: Timestamp for new ``deployed_at`` values and migration records.

    Raises:
        PlanError: The database is missing, its schema is from a newer wfp-reconcile,
            or a migration failed.
        ApiError: D1 refused a query.
    """
    d1 = _database(repo)
    snapshot = _read(db, repo)
    applied = apply_migrations(db, d1.database_id, snapshot.schema, now=now)
    if applied:  # the tables (or their columns) are new: read what is there now
        snapshot = _read(db, repo)
    planned = row_changes(repo, inventory, snapshot.rows, customers=customers, now=now)
    requests = write_changes(db, d1.database_id, planned)
    return MirrorResult(
        migrations_applied=applied,
        tables=count_changes(TABLES, planned),
        write_requests=requests + len(applied),
    )
