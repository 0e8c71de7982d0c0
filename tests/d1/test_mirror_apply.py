"""The D1 mirror end to end: the CLI against the emulator, rows checked in the SQLite file."""

from __future__ import annotations

import json
import subprocess

from tests.engine.outcome_check import check_mirror

from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.desired import parse_fingerprint_tag
from wfp_reconcile.engine import apply_plan, plan_repo
from wfp_reconcile.local.emulator import FaultConfig

from .conftest import D1Repo

TOKEN_SHA = "a" * 64


def _seed(repo: D1Repo) -> None:
    repo.customer(
        "acme",
        {"acme-web": {}, "acme-api": {"limits": {"cpu_ms": 10}, "access": "token"}},
        tokens=[{"name": "ci", "sha256": TOKEN_SHA}],
        outbound={"worker": "egress", "params": {"allow_hosts": ["example.com"]}},
    )
    repo.customer("globex", ["globex-site"], plan="advanced", suspended=False)


def test_apply_writes_rows_that_match_the_repository_and_the_namespace(
    d1_repo, apply_repo, emulator_client
):
    _seed(d1_repo)
    code, out, err = apply_repo()
    assert code == 0, err
    assert "+ d1 schema of database platform-db" in out
    assert "create d1_schema platform-db: ok" in err  # an operation of its own

    assert d1_repo.rows("SELECT id, name, plan, suspended FROM customers ORDER BY id") == [
        ("acme", "Acme", "basic", 0),
        ("globex", "Globex", "advanced", 0),
    ]
    assert d1_repo.rows("SELECT customer_id, name, sha256 FROM customer_tokens") == [
        ("acme", "ci", TOKEN_SHA)
    ]
    assert d1_repo.rows(
        "SELECT script, customer_id, cpu_ms, subrequests, outbound_worker, outbound_params, "
        "access FROM script_settings ORDER BY script"
    ) == [
        ("acme-api", "acme", 10, 20, "egress", '{"allow_hosts":["example.com"]}', "token"),
        ("acme-web", "acme", 50, 20, "egress", '{"allow_hosts":["example.com"]}', "public"),
        ("globex-site", "globex", 50, 20, None, "{}", "public"),
    ]
    live = {
        s.id: parse_fingerprint_tag(s.tags or ()) for s in emulator_client.list_scripts("test-ns")
    }
    deployed = d1_repo.rows(
        "SELECT script, customer_id, fingerprint, commit_sha, deployed_at FROM deployed_scripts"
    )
    assert {row[0]: row[2] for row in deployed} == live
    assert {row[0]: row[1] for row in deployed} == {
        "acme-api": "acme",
        "acme-web": "acme",
        "globex-site": "globex",
    }
    assert all(row[3] is None and row[4].endswith("Z") for row in deployed)  # work tree


def test_a_second_apply_changes_nothing_and_writes_nothing(d1_repo, apply_repo, run):
    _seed(d1_repo)
    assert apply_repo()[0] == 0
    before = d1_repo.change_counter()
    tables_before = d1_repo.rows("SELECT * FROM deployed_scripts ORDER BY script")

    code, out, err = run("plan", "--repo", str(d1_repo.root), "--detailed-exitcode")
    assert code == 0, err
    assert "d1 " not in out and "No changes." in out
    assert "Cost: 4 read calls;" in out  # the namespace, the account's Workers, D1 twice
    code, out, err = apply_repo()
    assert code == 0, err
    assert "No changes." in out

    assert d1_repo.change_counter() == before
    assert d1_repo.rows("SELECT * FROM deployed_scripts ORDER BY script") == tables_before


def test_an_apply_with_namespace_changes_rewrites_only_the_rows_that_differ(d1_repo, apply_repo):
    _seed(d1_repo)
    assert apply_repo()[0] == 0
    rows = {r[0]: r for r in d1_repo.rows("SELECT * FROM deployed_scripts")}
    d1_repo.touch_module("acme", "acme-web", "new code")

    code, out, err = apply_repo()
    assert code == 0, err
    assert "~ d1 table deployed_scripts\n      rows: 1 to update" in out
    assert "update d1_table deployed_scripts: ok" in err
    assert "d1 table customers" not in out  # unchanged tables are not written
    after = {r[0]: r for r in d1_repo.rows("SELECT * FROM deployed_scripts")}
    assert after["acme-api"] == rows["acme-api"]  # same fingerprint: deployed_at kept
    assert after["globex-site"] == rows["globex-site"]
    assert after["acme-web"][2] != rows["acme-web"][2]
    assert after["acme-web"][4] >= rows["acme-web"][4]


def test_removing_a_customer_removes_all_of_its_rows(d1_repo, apply_repo, run):
    _seed(d1_repo)
    assert apply_repo()[0] == 0
    d1_repo.remove_customer("acme")

    code, out, err = run("plan", "--repo", str(d1_repo.root))
    assert code == 0, err
    assert "~ d1 table customers\n      rows: 1 to delete" in out
    assert "~ d1 table script_settings\n      rows: 2 to delete" in out
    code, out, err = apply_repo()
    assert code == 0, err

    for table in ("customers", "customer_tokens", "script_settings", "deployed_scripts"):
        column = "id" if table == "customers" else "customer_id"
        assert d1_repo.rows(f"SELECT * FROM {table} WHERE {column} = 'acme'") == []
    assert d1_repo.rows("SELECT id FROM customers") == [("globex",)]
    assert d1_repo.rows("SELECT script FROM deployed_scripts") == [("globex-site",)]


def test_token_rows_hold_only_the_hash_never_the_token(d1_repo, apply_repo, run):
    _seed(d1_repo)
    code, out, err = run("token", "create", "globex", "deploy", "--repo", str(d1_repo.root))
    assert code == 0, err
    token = out.strip().splitlines()[0]
    assert len(token) >= 20
    code, out, err = apply_repo()
    assert code == 0, err
    assert token not in out + err

    assert token.encode() not in d1_repo.db_file.read_bytes()
    names = [r[0] for r in d1_repo.rows("SELECT name FROM sqlite_master WHERE type='table'")]
    for name in names:
        for row in d1_repo.rows(f'SELECT * FROM "{name}"'):
            assert all(token not in str(value) for value in row)
    tokens = dict(
        d1_repo.rows("SELECT name, sha256 FROM customer_tokens WHERE customer_id='globex'")
    )
    assert set(tokens) == {"deploy"} and len(tokens["deploy"]) == 64


def test_plan_formats_show_row_changes_per_table(d1_repo, run):
    _seed(d1_repo)
    args = ["plan", "--repo", str(d1_repo.root)]
    code, out, err = run(*args)
    assert code == 0, err
    # Its own section, last (it is applied last), the schema before the tables.
    assert out.split("\n\n")[-2] == (
        "D1 mirror:\n"
        "  + d1 schema of database platform-db\n"
        "      migration 1: customers, tokens, script settings and deployed scripts\n"
        "      migration 2: indexes for per-customer lookups\n"
        "  + d1 table customer_tokens\n"
        "      rows: 1 to insert\n"
        "  + d1 table customers\n"
        "      rows: 2 to insert\n"
        "  + d1 table deployed_scripts\n"
        "      rows: 3 to insert\n"
        "  + d1 table script_settings\n"
        "      rows: 3 to insert"
    )
    # Scripts, egress and the dispatcher are 5 changes, the mirror 5 more; the cost
    # counts D1's two reads and its writes: 2 migrations, one request per table.
    assert "Plan: 10 to add, 0 to change, 0 to destroy." in out
    assert "apply needs 12 write calls" in out

    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    plan = json.loads(out)
    assert "d1" not in plan and plan["format_version"] == 3
    mirror = {c["name"]: c for c in plan["changes"] if c["kind"].startswith("d1_")}
    assert mirror["platform-db"]["kind"] == "d1_schema"
    assert [f["field"] for f in mirror["platform-db"]["fields"]] == ["migration 1", "migration 2"]
    assert mirror["script_settings"]["fields"][0]["summary"] == "3 to insert"

    code, out, err = run(*args, "--format", "markdown")
    assert code == 0, err
    assert "+ d1 table customers\n    rows: 2 to insert" in out


def test_only_d1_changes_still_make_plan_report_changes(d1_repo, apply_repo, run):
    _seed(d1_repo)
    assert apply_repo()[0] == 0
    d1_repo.edit_customer("globex", name="Globex Corporation")

    code, out, err = run("plan", "--repo", str(d1_repo.root), "--detailed-exitcode")
    assert code == 2, err
    assert "~ d1 table customers\n      rows: 1 to update" in out
    before = d1_repo.change_counter()
    assert apply_repo()[0] == 0
    assert d1_repo.change_counter() > before
    assert d1_repo.rows("SELECT name FROM customers WHERE id='globex'") == [("Globex Corporation",)]


def test_a_missing_database_is_a_clear_error(d1_repo, run):
    _seed(d1_repo)
    d1_repo.platform["d1"]["database_id"] = "00000000-0000-0000-0000-000000000000"
    d1_repo.write_platform()
    code, out, err = run("plan", "--repo", str(d1_repo.root))
    assert code == 1
    assert "The D1 database 'platform-db'" in err
    assert "does not exist" in err and "d1.database_id" in err


def test_apply_from_a_revision_records_the_commit(d1_repo, apply_repo):
    _seed(d1_repo)
    git = ["git", "-C", str(d1_repo.root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "seed"], check=True)
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()

    code, out, err = apply_repo("--ref", "HEAD")
    assert code == 0, err
    assert {r[0] for r in d1_repo.rows("SELECT commit_sha FROM deployed_scripts")} == {head}


def test_a_failed_upload_keeps_its_old_row_while_the_rest_are_recorded(
    d1_repo, apply_repo, cf, emulator_client
):
    _seed(d1_repo)
    assert apply_repo()[0] == 0
    old = d1_repo.rows("SELECT * FROM deployed_scripts WHERE script = 'acme-web'")
    d1_repo.touch_module("acme", "acme-web", "v2")
    d1_repo.touch_module("acme", "acme-api", "v2")
    cf.set_faults(FaultConfig(fail_scripts=("acme-web",)))

    repo = load_repo_dir(d1_repo.root)
    run = plan_repo(repo, emulator_client)
    result = apply_plan(run.plan, repo, emulator_client, verify_state=False)

    assert [r.change.name for r in result.failed] == ["acme-web"]
    # The mirror ran after the failure (the dispatcher and deletes waited for it).
    ran = {r.change.name: r.ok for r in result.results if r.change.kind == "d1_table"}
    assert ran == {"deployed_scripts": True}
    check_mirror(repo, emulator_client, result)  # the rows are the inventory, failure and all
    assert d1_repo.rows("SELECT * FROM deployed_scripts WHERE script = 'acme-web'") == old
    api = run.desired.script("acme-api")
    assert api is not None
    assert d1_repo.rows("SELECT fingerprint FROM deployed_scripts WHERE script = 'acme-api'") == [
        (api.fingerprint.short,)
    ]
