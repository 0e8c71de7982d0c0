# The protocol fixes the methods' signatures; some ignore arguments.
# ruff: noqa: ARG002
"""The D1 mirror as two kinds derived from the outcome: its schema, then its tables.

``d1_schema`` has one item, the database, whose change applies the pending migrations;
``d1_table`` has one item per mirrored table, whose change writes the rows that differ.
Both are derived (``Kind.derived``): ``deployed_scripts`` holds exactly the scripts the
inventory (``outcome.after_apply``) says are deployed and ours, so at apply time, when an
earlier operation failed, the engine builds the tables again from the inventory with that
failure before their phase runs (a failed item's row stays as it was). Their phases come
after the deletes and run even when something failed: a D1 error is a failed operation
of its own and never holds up an upload. Plans show one change per table with counts,
not one per row: a first mirror of 10,000 scripts is four lines. See docs/d1.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

from wfp_reconcile.change import Action, Change, FieldChange
from wfp_reconcile.config.model import D1Database
from wfp_reconcile.d1mirror.migrate import apply_migrations, pending_migrations
from wfp_reconcile.d1mirror.models import D1Executor, TableCounts, TableRows
from wfp_reconcile.d1mirror.read import SchemaState, Snapshot, read_database
from wfp_reconcile.d1mirror.rowdiff import count_changes, diff_rows
from wfp_reconcile.d1mirror.rows import deployed_rows, in_scope, repo_rows
from wfp_reconcile.d1mirror.schema import DEPLOYED_SCRIPTS, MIGRATIONS, TABLES, Migration, Table
from wfp_reconcile.d1mirror.write import BATCH_SIZE, MAX_PARAMS, write_changes
from wfp_reconcile.errors import PlanError
from wfp_reconcile.outcome import Entry, Inventory
from wfp_reconcile.worker import WorkerKind

from .protocol import ApplyTarget, DesiredContext, DiffContext, Phase, ReadSession
from .registry import kind

__all__ = [
    "D1_SCHEMA",
    "D1_TABLE",
    "D1SchemaKind",
    "D1TableKind",
    "DesiredSchema",
    "DesiredTable",
    "ObservedSchema",
    "ObservedTable",
]

D1_SCHEMA = "d1_schema"
D1_TABLE = "d1_table"

_PLANNED = "(at apply)"
"""``deployed_at`` of a row that an apply writes, while planning. Only rows that are new
or whose fingerprint changed get it, so it never decides whether a row changes."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclasses.dataclass(frozen=True)
class DesiredSchema:
    """The database, with every migration this version knows."""

    name: str
    database: D1Database
    account_id: str
    migrations: tuple[Migration, ...] = MIGRATIONS
    customer: None = None

    def digest_line(self) -> bytes:
        versions = [(m.version, m.checksum) for m in self.migrations]
        return json.dumps([self.name, self.database.database_id, versions]).encode()


@dataclasses.dataclass(frozen=True)
class ObservedSchema:
    name: str
    schema: SchemaState

    def digest_line(self) -> bytes:
        applied = sorted(self.schema.applied.items())
        return json.dumps([self.name, sorted(self.schema.tables), applied]).encode()


@dataclasses.dataclass(frozen=True)
class DesiredTable:
    """One mirrored table's rows within the run's scope.

    The repository's tables carry their rows; ``deployed_scripts`` carries the inventory's
    scripts, because its rows also keep what the database already says (the commit and
    ``deployed_at`` of an unchanged fingerprint; the old row of a script that failed).
    """

    name: str
    database: D1Database
    account_id: str
    scope: frozenset[str]
    rows: TableRows = dataclasses.field(default_factory=dict)
    scripts: tuple[Entry, ...] = ()
    commit: str | None = None
    customer: None = None

    @property
    def table(self) -> Table:
        return next(t for t in TABLES if t.name == self.name)

    def wanted(self, existing: TableRows, *, now: str) -> TableRows:
        """The rows the table should hold, given those read back (already in scope)."""
        if self.name != DEPLOYED_SCRIPTS.name:
            return self.rows
        inventory = Inventory({WorkerKind.SCRIPT.value: {e.name: e for e in self.scripts}})
        return deployed_rows(inventory, existing, customers=self.scope, commit=self.commit, now=now)

    def digest_line(self) -> bytes:
        scripts = [dataclasses.astuple(e) for e in self.scripts]
        content = [self.name, self.database.database_id, sorted(self.scope), self.commit]
        return json.dumps([*content, list(self.rows.values()), scripts]).encode()


@dataclasses.dataclass(frozen=True)
class ObservedTable:
    name: str
    exists: bool
    rows: TableRows

    def digest_line(self) -> bytes:
        return json.dumps([self.name, self.exists, list(self.rows.values())]).encode()


def _snapshot(session: ReadSession, database: D1Database, account_id: str) -> Snapshot:
    # One read for both kinds: the reader is the Cloudflare client (StateReader only
    # types the script calls).
    def read() -> Snapshot:
        snapshot = read_database(cast(D1Executor, session.reader), database, account_id)
        session.count(snapshot.requests)
        return snapshot

    return session.once(f"d1 {database.database_id}", read)


class _MirrorKind:
    """What both D1 kinds share: derived, platform items, no deletes, no inventory."""

    space = "d1"
    counted = False
    derived = True
    """Built from the inventory (``deployed_scripts``); the schema is derived with the
    tables so that every apply's plan, an ``adopt`` too, keeps the mirror current."""
    name: str

    def explain(
        self, reader: Any, namespace: str, change: Change, item: Any
    ) -> tuple[FieldChange, ...]:
        return ()

    def owned(self, observed: Any, known_customers: frozenset[str]) -> Entry | None:
        # The mirror records the inventory; it is not part of it.
        return None

    def deployed(self, item: Any) -> Entry:
        return Entry(kind=self.name, name=item.name, customer=None, fingerprint=None, declared=True)

    def group(self, change: Change) -> str:
        return "D1 mirror"


class D1SchemaKind(_MirrorKind):
    name = D1_SCHEMA
    phase = Phase.MIRROR_SCHEMA

    def desired(self, ctx: DesiredContext) -> Sequence[DesiredSchema]:
        d1 = ctx.repo.platform.d1
        if d1 is None:
            return []
        return [DesiredSchema(name=d1.name, database=d1, account_id=ctx.repo.platform.account_id)]

    def read(self, session: ReadSession, wanted: Sequence[Any]) -> Mapping[str, ObservedSchema]:
        return {
            item.name: ObservedSchema(
                item.name, _snapshot(session, item.database, item.account_id).schema
            )
            for item in cast(Sequence[DesiredSchema], wanted)
        }

    def diff(
        self, desired: Sequence[Any], actual: Mapping[str, Any], ctx: DiffContext
    ) -> Sequence[Change]:
        changes = []
        for item in cast(Sequence[DesiredSchema], desired):
            seen = cast(ObservedSchema | None, actual.get(item.name))
            schema = seen.schema if seen else SchemaState(frozenset(), {})
            # Raises for a database migrated by a newer or a modified wfp-reconcile.
            pending = pending_migrations(schema, item.migrations)
            if not pending:
                continue
            fields = tuple(
                FieldChange(field=f"migration {m.version}", before=None, after=None, summary=m.name)
                for m in pending
            )
            action = Action.UPDATE if schema.applied else Action.CREATE
            changes.append(Change(action=action, kind=self.name, name=item.name, fields=fields))
        return changes

    def cost(self, change: Change) -> int:
        # One request per migration (each is atomic with its bookkeeping row).
        return sum(1 for f in change.fields if f.field.startswith("migration "))

    def visit(self, change: Change, target: ApplyTarget) -> None:
        item = cast(DesiredSchema, target.item(change))
        db = cast(D1Executor, target.client)
        schema = read_database(db, item.database, item.account_id, ()).schema
        database_id = item.database.database_id
        apply_migrations(db, database_id, schema, now=_now(), migrations=item.migrations)

    def label(self, change: Change) -> str:
        return f"d1 schema of database {change.name}"


_COUNT = re.compile(r"(\d+) to (insert|update|delete)")


def _counts_text(counts: TableCounts) -> str:
    ops = (("insert", counts.insert), ("update", counts.update), ("delete", counts.delete))
    return ", ".join(f"{n} to {op}" for op, n in ops if n)


def _counts_of(change: Change) -> TableCounts:
    """The counts a table change carries (its ``rows`` field, as ``_counts_text`` wrote it)."""
    found: dict[str, int] = {}
    for field in change.fields:
        if field.field == "rows" and field.summary:
            found.update({op: int(n) for n, op in _COUNT.findall(field.summary)})
    return TableCounts(**found)


class D1TableKind(_MirrorKind):
    name = D1_TABLE
    phase = Phase.MIRROR_ROWS

    def desired(self, ctx: DesiredContext) -> Sequence[DesiredTable]:
        repo = ctx.repo
        d1 = repo.platform.d1
        if d1 is None:
            return []
        scope = ctx.customers
        if ctx.inventory is not None:
            live = list(ctx.inventory.of(WorkerKind.SCRIPT.value).values())
        else:  # no plan to go by: every declared script deployed as declared
            script = kind(WorkerKind.SCRIPT.value)
            live = [script.deployed(w) for w in ctx.built.get(WorkerKind.SCRIPT.value, ())]
        base = DesiredTable(
            name=DEPLOYED_SCRIPTS.name,
            database=d1,
            account_id=repo.platform.account_id,
            scope=scope,
            scripts=tuple(e for e in live if not scope or e.customer in scope),
            commit=repo.commit,
        )
        # Built again from an inventory (``desired.derive``), the repository's tables are
        # the ones built before: only deployed_scripts follows the inventory.
        before = [t for t in ctx.built.get(self.name, ()) if t.name != DEPLOYED_SCRIPTS.name]
        items = before or [
            dataclasses.replace(base, name=name, rows=rows, scripts=(), commit=None)
            for name, rows in repo_rows(repo, customers=scope).items()
        ]
        items.append(base)
        order = [t.name for t in TABLES]
        return sorted(items, key=lambda t: order.index(t.name))

    def read(self, session: ReadSession, wanted: Sequence[Any]) -> Mapping[str, ObservedTable]:
        items = cast(Sequence[DesiredTable], wanted)
        if not items:
            return {}
        snapshot = _snapshot(session, items[0].database, items[0].account_id)
        present = snapshot.schema.tables
        return {
            t.name: ObservedTable(t.name, t.name in present, snapshot.rows.get(t.name, {}))
            for t in items
        }

    def diff(
        self, desired: Sequence[Any], actual: Mapping[str, Any], ctx: DiffContext
    ) -> Sequence[Change]:
        changes = []
        for item in cast(Sequence[DesiredTable], desired):
            seen = cast(ObservedTable | None, actual.get(item.name))
            table = item.table
            existing = in_scope(table, seen.rows if seen else {}, item.scope)
            ops = diff_rows(table, item.wanted(existing, now=_PLANNED), existing)
            if not ops:
                continue
            counts = count_changes([table], ops)[table.name]
            rows = FieldChange(field="rows", before=None, after=None, summary=_counts_text(counts))
            action = Action.UPDATE if seen is not None and seen.exists else Action.CREATE
            changes.append(Change(action=action, kind=self.name, name=item.name, fields=(rows,)))
        return changes

    def cost(self, change: Change) -> int:
        # Rows are packed into statements within D1's parameter limit, statements into
        # requests (d1mirror.write); the apply reads the table first (not a write).
        if not change.action.writes:
            return 0
        counts = _counts_of(change)
        table = next(t for t in TABLES if t.name == change.name)
        per_upsert = max(1, MAX_PARAMS // len(table.columns))
        upserts = math.ceil((counts.insert + counts.update) / per_upsert)
        deletes = math.ceil(counts.delete / max(1, MAX_PARAMS // len(table.key)))
        return math.ceil((upserts + deletes) / BATCH_SIZE)

    def visit(self, change: Change, target: ApplyTarget) -> None:
        # The rows are worked out again from what the database holds now and from the
        # item (built again from the inventory when something failed): a re-run converges.
        item = cast(DesiredTable, target.item(change))
        db = cast(D1Executor, target.client)
        table = item.table
        snapshot = read_database(db, item.database, item.account_id, (table,))
        pending = pending_migrations(snapshot.schema)
        if pending:
            versions = ", ".join(str(m.version) for m in pending)
            raise PlanError(
                f"D1 table {table.name} was not written: schema migrations {versions} are not "
                "applied (see the d1 schema failure). Run apply again once it is fixed."
            )
        existing = in_scope(table, snapshot.rows[table.name], item.scope)
        ops = diff_rows(table, item.wanted(existing, now=_now()), existing)
        write_changes(db, item.database.database_id, ops)

    def label(self, change: Change) -> str:
        return f"d1 table {change.name}"
