"""Migrations, row diffs and deployed-script rows, against the emulator's real SQLite."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import pytest

from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.d1mirror import (
    MIGRATIONS,
    Migration,
    SchemaState,
    apply_migrations,
    pending_migrations,
    read_snapshot,
)
from wfp_reconcile.d1mirror.rowdiff import RowOp, diff_rows
from wfp_reconcile.d1mirror.rows import deployed_rows
from wfp_reconcile.d1mirror.schema import CUSTOMER_TOKENS, CUSTOMERS, DEPLOYED_SCRIPTS
from wfp_reconcile.d1mirror.write import MAX_PARAMS, statements_for, write_changes
from wfp_reconcile.desired import WorkerKind, build_desired
from wfp_reconcile.diff import Action, Change, FieldChange
from wfp_reconcile.engine import apply_plan, plan_repo
from wfp_reconcile.errors import PlanError
from wfp_reconcile.kinds import kind, kinds
from wfp_reconcile.outcome import after_apply
from wfp_reconcile.plan import PLAN_FORMAT_VERSION, load_plan, save_plan
from wfp_reconcile.worker import ActualWorker

from .conftest import D1Repo

WRITES = ("INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER")


@dataclasses.dataclass
class SpyD1:
    """Forwards to the real client and remembers every statement sent."""

    client: CloudflareClient
    sql: list[str] = dataclasses.field(default_factory=list)

    def d1_query(self, database_id: str, sql: str, params: Sequence[Any] = ()) -> Any:
        self.sql.append(sql)
        return self.client.d1_query(database_id, sql, params)

    def d1_batch(self, database_id: str, statements: Sequence[tuple[str, Sequence[Any]]]) -> Any:
        self.sql += [s for s, _ in statements]
        return self.client.d1_batch(database_id, statements)

    @property
    def writes(self) -> list[str]:
        return [s for s in self.sql if s.lstrip().upper().startswith(WRITES)]


def test_migrations_have_increasing_versions_and_never_drop_anything():
    versions = [m.version for m in MIGRATIONS]
    assert versions == sorted(versions) == list(range(1, len(versions) + 1))
    for migration in MIGRATIONS:
        for sql in migration.statements:
            assert not sql.upper().startswith(("DROP", "DELETE")), sql
            assert "DROP " not in sql.upper()


def test_migrations_apply_in_order_and_rerunning_them_sends_nothing(d1_repo, emulator_client):
    spy = SpyD1(emulator_client)
    fresh = read_snapshot(spy, d1_repo.database_id).schema
    assert [m.version for m in pending_migrations(fresh)] == [1, 2]

    assert apply_migrations(spy, d1_repo.database_id, fresh, now="2026-01-01T00:00:00Z") == (1, 2)
    recorded = d1_repo.rows("SELECT version, checksum FROM wfp_schema_migrations ORDER BY version")
    assert recorded == [(m.version, m.checksum) for m in MIGRATIONS]

    spy.sql.clear()
    current = read_snapshot(spy, d1_repo.database_id).schema
    assert pending_migrations(current) == ()
    assert apply_migrations(spy, d1_repo.database_id, current, now="later") == ()
    assert spy.writes == []


def test_a_later_migration_is_applied_on_top_of_earlier_ones(d1_repo, emulator_client):
    first = read_snapshot(emulator_client, d1_repo.database_id).schema
    assert apply_migrations(emulator_client, d1_repo.database_id, first, now="t1") == (1, 2)
    emulator_client.d1_query(
        d1_repo.database_id, "INSERT INTO customers VALUES ('keep', 'Keep', 'basic', 0)"
    )
    extra = Migration(3, "notes", ("ALTER TABLE customers ADD COLUMN note TEXT",))
    schema = read_snapshot(emulator_client, d1_repo.database_id).schema
    assert [m.version for m in pending_migrations(schema, (*MIGRATIONS, extra))] == [3]
    assert apply_migrations(
        emulator_client, d1_repo.database_id, schema, now="t2", migrations=(*MIGRATIONS, extra)
    ) == (3,)
    assert d1_repo.rows("SELECT id, note FROM customers") == [("keep", None)]


def test_a_database_migrated_by_a_newer_tool_is_refused():
    schema = SchemaState(tables=frozenset(), applied={1: MIGRATIONS[0].checksum, 99: "x"})
    with pytest.raises(PlanError, match="migration 99.*upgrade wfp-reconcile"):
        pending_migrations(schema)


def test_an_edited_migration_is_refused():
    schema = SchemaState(tables=frozenset(), applied={1: "0" * 64})
    with pytest.raises(PlanError, match="another checksum"):
        pending_migrations(schema)


def test_a_clashing_table_from_another_tool_fails_the_migration_and_keeps_its_data(
    d1_repo, emulator_client
):
    emulator_client.d1_query(d1_repo.database_id, "CREATE TABLE customers (token TEXT)")
    emulator_client.d1_query(d1_repo.database_id, "INSERT INTO customers VALUES ('old')")
    schema = read_snapshot(emulator_client, d1_repo.database_id).schema
    with pytest.raises(PlanError, match="migration 1 .* failed.*separate database"):
        apply_migrations(emulator_client, d1_repo.database_id, schema, now="t")
    assert d1_repo.rows("SELECT * FROM customers") == [("old",)]
    assert "wfp_schema_migrations" not in {
        r[0] for r in d1_repo.rows("SELECT name FROM sqlite_master WHERE type='table'")
    }


def _mirror(repo: Any, client: Any, customers: Sequence[str] = ()) -> list[Change]:
    """Plan and apply; the D1 mirror's changes of that plan."""
    plan = plan_repo(repo, client, customers=customers).plan
    result = apply_plan(plan, repo, client, verify_state=False)
    assert result.ok, [r.error for r in result.failed]
    return [c for c in plan.changes if c.kind.startswith("d1_")]


def test_a_second_mirror_run_plans_nothing_and_sends_only_reads(d1_repo, emulator_client):
    d1_repo.customer("acme", ["acme-web"], tokens=[{"name": "ci", "sha256": "b" * 64}])
    repo = load_repo_dir(d1_repo.root)
    spy = SpyD1(emulator_client)

    first = {c.name: c for c in _mirror(repo, emulator_client)}
    assert first["platform-db"].kind == "d1_schema"
    assert {n: c.fields[0].summary for n, c in first.items() if c.kind == "d1_table"} == {
        "customers": "1 to insert",
        "customer_tokens": "1 to insert",
        "script_settings": "1 to insert",
        "deployed_scripts": "1 to insert",
    }
    assert kind("d1_schema").cost(first["platform-db"]) == 2  # one request per migration
    assert kind("d1_table").cost(first["customers"]) == 1
    assert _mirror(repo, emulator_client) == []
    spy.sql.clear()
    assert read_snapshot(spy, d1_repo.database_id).requests == 2
    assert spy.writes == []
    assert len(spy.sql) == 1 + 1 + 4  # table list, then one batch: migrations + 4 tables


def test_the_cost_of_a_table_change_is_its_batched_requests():
    table = kind("d1_table")
    # The counts travel in the change's rows field (a plan file holds no rows).
    big = Change(
        action=Action.CREATE,
        kind="d1_table",
        name="customers",
        fields=(FieldChange(field="rows", before=None, after=None, summary="10000 to insert"),),
    )
    # 25 rows of 4 parameters a statement, 50 statements a request.
    assert table.cost(big) == 8
    mixed = big.model_copy(
        update={
            "fields": (
                FieldChange(
                    field="rows", before=None, after=None, summary="30 to update, 150 to delete"
                ),
            )
        }
    )
    assert table.cost(mixed) == 1  # 2 upserts and 2 deletes: one request


def test_a_customer_scoped_mirror_leaves_other_customers_rows_alone(d1_repo, emulator_client):
    d1_repo.customer("acme", ["acme-web"])
    d1_repo.customer("globex", ["globex-site"])
    _mirror(load_repo_dir(d1_repo.root), emulator_client)
    d1_repo.edit_customer("globex", name="Renamed")
    d1_repo.edit_customer("acme", plan="advanced")
    repo = load_repo_dir(d1_repo.root)

    changes = _mirror(repo, emulator_client, customers=["acme"])
    assert [(c.name, c.fields[0].summary) for c in changes] == [("customers", "1 to update")]
    assert d1_repo.rows("SELECT id, name, plan FROM customers ORDER BY id") == [
        ("acme", "Acme", "advanced"),
        ("globex", "Globex", "basic"),
    ]
    assert d1_repo.rows("SELECT script FROM deployed_scripts ORDER BY script") == [
        ("acme-web",),
        ("globex-site",),
    ]


def test_a_failing_mirror_is_a_failed_operation_and_never_holds_up_an_upload(
    d1_repo, emulator_client
):
    d1_repo.customer("acme", ["acme-web"])
    # Another tool's table under a mirrored name: the first migration fails.
    emulator_client.d1_query(d1_repo.database_id, "CREATE TABLE customers (token TEXT)")
    repo = load_repo_dir(d1_repo.root)
    planned = plan_repo(repo, emulator_client)
    result = apply_plan(planned.plan, repo, emulator_client, verify_state=False)

    failed = {(r.change.kind, r.change.name): r.error for r in result.failed}
    assert "migration 1 (" in str(failed[("d1_schema", "platform-db")])
    assert "schema migrations 1, 2 are not applied" in str(failed[("d1_table", "customers")])
    assert {r.change.name for r in result.succeeded} == {"acme-web", "test-dispatcher", "egress"}
    assert [s.id for s in emulator_client.list_scripts("test-ns")] == ["acme-web"]
    assert not result.not_attempted  # the mirror is last: nothing waits for it


def test_a_plan_file_of_the_format_before_the_d1_kinds_is_refused(
    d1_repo, emulator_client, tmp_path
):
    d1_repo.customer("acme", ["acme-web"])
    plan = plan_repo(load_repo_dir(d1_repo.root), emulator_client).plan
    path = tmp_path / "plan.json"
    save_plan(plan, path)
    assert load_plan(path).changes == plan.changes
    old = json.loads(path.read_text())
    old["format_version"] = PLAN_FORMAT_VERSION - 1
    old["d1"] = {"database": "platform-db", "pending_migrations": [1, 2], "tables": {}}
    path.write_text(json.dumps(old))
    with pytest.raises(
        PlanError, match="plan format version 2; this wfp-reconcile reads version 3"
    ):
        load_plan(path)


def _script_change(action: Action, name: str) -> Change:
    return Change(action=action, kind=WorkerKind.SCRIPT, name=name, customer="acme")


def _desired(d1_repo: D1Repo, names: list[str]):
    d1_repo.customer("acme", names)
    return build_desired(load_repo_dir(d1_repo.root))


def test_deployed_rows_follow_what_is_live(d1_repo):
    desired = _desired(d1_repo, ["ok", "new", "broken", "stuck", "frozen"])
    fp = {w.name: w.fingerprint.short for w in desired.scripts}
    existing = {
        ("ok",): ("ok", "acme", fp["ok"], "c0", "t0"),
        ("broken",): ("broken", "acme", "oldfp", "c0", "t0"),
        ("frozen",): ("frozen", "acme", "oldfp", "c0", "t0"),
        ("gone",): ("gone", "acme", "x", "c0", "t0"),
        ("undeletable",): ("undeletable", "acme", "x", "c0", "t0"),
        ("vanished",): ("vanished", "acme", "x", "c0", "t0"),
    }
    changes = [
        _script_change(Action.CREATE, "new"),
        _script_change(Action.UPDATE, "broken"),
        _script_change(Action.CREATE, "stuck"),
        _script_change(Action.SKIPPED, "frozen"),
        _script_change(Action.DELETE, "gone"),
        _script_change(Action.DELETE, "undeletable"),
    ]
    # The namespace holds what the rows say, except "vanished" (gone meanwhile).
    actual = {
        "script": {
            name: ActualWorker(name, ("wfp-managed", "acme", f"fp-{row[2]}"), True)
            for (name,), row in existing.items()
            if name != "vanished"
        }
    }
    failed = {("script", n) for n in ("broken", "stuck", "undeletable")}
    inventory = after_apply(
        kinds(), desired.items, actual, changes, failed=failed, known_customers=frozenset({"acme"})
    )
    rows = deployed_rows(inventory, existing, commit=None, now="t1")
    assert rows[("ok",)] == existing[("ok",)]  # unchanged fingerprint: deployed_at kept
    assert rows[("new",)] == ("new", "acme", fp["new"], None, "t1")
    assert rows[("broken",)] == existing[("broken",)]  # upload failed: still the old code
    assert ("stuck",) not in rows  # never got live
    assert rows[("frozen",)] == existing[("frozen",)]  # suspended: untouched
    assert ("gone",) not in rows
    assert rows[("undeletable",)] == existing[("undeletable",)]
    assert ("vanished",) not in rows  # neither declared nor in the namespace any more


def test_row_diff_finds_inserts_updates_and_deletes_by_key():
    desired = {("a",): ("a", "A", "basic", 0), ("b",): ("b", "B", "pro", 1)}
    actual = {("b",): ("b", "B", "pro", 0), ("c",): ("c", "C", "basic", 0)}
    ops = {(c.op, c.key) for c in diff_rows(CUSTOMERS, desired, actual)}
    assert ops == {(RowOp.INSERT, ("a",)), (RowOp.UPDATE, ("b",)), (RowOp.DELETE, ("c",))}
    assert diff_rows(CUSTOMERS, desired, desired) == ()


def test_writes_are_upserts_and_deletes_by_key():
    (insert,) = diff_rows(DEPLOYED_SCRIPTS, {("s",): ("s", "acme", "fp", None, "t")}, {})
    ((sql, params),) = statements_for([insert])
    assert sql.startswith('INSERT INTO "deployed_scripts"')
    assert 'ON CONFLICT ("script") DO UPDATE SET "customer_id" = excluded."customer_id"' in sql
    assert params == ["s", "acme", "fp", None, "t"]
    (delete,) = diff_rows(CUSTOMERS, {}, {("x",): ("x", "X", "basic", 0)})
    assert statements_for([delete]) == [('DELETE FROM "customers" WHERE "id" IN (?)', ["x"])]


def test_many_rows_are_packed_into_few_statements_within_the_parameter_limit():
    rows = {(f"c{i}",): (f"c{i}", f"C{i}", "basic", 0) for i in range(300)}
    statements = statements_for(diff_rows(CUSTOMERS, rows, {}))
    assert len(statements) == 12  # 25 rows of 4 parameters each
    assert all(len(params) <= MAX_PARAMS for _, params in statements)


def test_packed_writes_converge_on_real_sqlite(d1_repo, emulator_client):
    schema = read_snapshot(emulator_client, d1_repo.database_id).schema
    apply_migrations(emulator_client, d1_repo.database_id, schema, now="t")
    before = {(f"c{i}", f"t{j}"): (f"c{i}", f"t{j}", "0" * 64) for i in range(40) for j in range(3)}
    write_changes(emulator_client, d1_repo.database_id, diff_rows(CUSTOMER_TOKENS, before, {}))
    after = {k: (*k, "1" * 64) for k in before if k[1] != "t2"}
    after[("new", "t0")] = ("new", "t0", "2" * 64)
    changes = diff_rows(CUSTOMER_TOKENS, after, before)
    # 81 upserts at 33 rows per statement, 40 deletes in one: 4 statements, 3 per request.
    assert write_changes(emulator_client, d1_repo.database_id, changes, batch_size=3) == 2
    stored = d1_repo.rows("SELECT customer_id, name, sha256 FROM customer_tokens")
    assert sorted(stored) == sorted(after.values())
