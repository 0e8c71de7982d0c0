"""`wfp-reconcile status` on a partially drifted namespace (emulator, real D1 SQLite)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from wfp_reconcile.bundle import Module, ScriptUpload

from .conftest import Repo


def _git_commit(root) -> str:
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    if not (root / ".git").exists():
        subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "change"], check=True)
    return subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def drifted(repo: Repo, emulator_client) -> tuple[Repo, str]:
    """acme: in sync, outdated, missing, undeclared; globex: a conflict; initech: suspended."""
    uuid = str(emulator_client.create_d1_database("platform-db")["uuid"])
    repo.platform["d1"] = {"name": "platform-db", "database_id": uuid}
    repo.write_platform()
    repo.customer("acme", ["acme-web", "acme-api", "acme-old"])
    repo.customer("initech", ["initech-app"])
    commit = _git_commit(repo.root)
    code, _, err = repo.run("apply", "--repo", str(repo.root), "--ref", "HEAD", "--auto-approve")
    assert code == 0, err

    repo.touch("acme", "acme-api", "changed")
    repo.customer("acme", ["acme-web", "acme-api", "acme-new"])
    repo.customer("globex", ["globex-site"])
    repo.customer("initech", ["initech-app"], suspended=True)
    emulator_client.upload_script(
        "test-ns",
        "globex-site",
        ScriptUpload(
            metadata={"main_module": "w.mjs", "tags": ["someone-else"]},
            modules=(Module("w.mjs", b"export default {};", "application/javascript+module"),),
        ),
    )
    return repo, commit


def _scripts(report: dict) -> dict[str, dict]:
    return {s["name"]: s for c in report["customers"] for s in c["scripts"]}


def test_status_reports_each_kind_of_drift_per_customer(drifted):
    repo, commit = drifted
    report = repo.status_json()
    scripts = _scripts(report)
    assert {name: s["state"] for name, s in scripts.items()} == {
        "acme-web": "in_sync",
        "acme-api": "outdated",
        "acme-new": "missing",
        "acme-old": "undeclared",
        "globex-site": "conflict",
        "initech-app": "in_sync",
    }
    assert report["counts"] == {
        "in_sync": 2,
        "missing": 1,
        "outdated": 1,
        "undeclared": 1,
        "conflict": 1,
    }
    customers = {c["id"]: c for c in report["customers"]}
    assert [s["name"] for s in customers["acme"]["scripts"]] == [
        "acme-api",
        "acme-new",
        "acme-old",
        "acme-web",
    ]
    assert customers["initech"]["suspended"] is True
    api = scripts["acme-api"]
    assert api["declared_fingerprint"] != api["deployed_fingerprint"]
    assert scripts["acme-new"]["deployed_fingerprint"] is None


def test_status_takes_deployed_commits_from_d1(drifted):
    repo, commit = drifted
    scripts = _scripts(repo.status_json())
    for name in ("acme-web", "acme-api", "acme-old"):
        assert scripts[name]["commit"] == commit
        assert scripts[name]["deployed_at"].endswith("Z")
    assert scripts["acme-new"]["commit"] is None
    assert scripts["globex-site"]["commit"] is None


def test_status_text_is_a_table_with_a_summary_and_exits_zero_despite_drift(drifted):
    repo, commit = drifted
    code, out, err = repo.status()
    assert code == 0, err
    assert "wfp-reconcile status for namespace test-ns" in out
    assert "Deployment commits from D1 database platform-db." in out
    web_line = next(line for line in out.splitlines() if "acme-web" in line)
    assert "in sync" in web_line and commit[:12] in web_line
    assert "initech (suspended)" in out
    assert "6 scripts: 2 in sync, 1 missing, 1 outdated, 1 undeclared, 1 conflict." in out


def test_status_limited_to_one_customer(drifted):
    repo, _ = drifted
    report = repo.status_json("--customer", "globex")
    assert [c["id"] for c in report["customers"]] == ["globex"]
    assert list(_scripts(report)) == ["globex-site"]


def test_status_of_a_removed_customer_shows_its_undeclared_scripts(repo):
    repo.customer("acme", ["acme-web"])
    repo.customer("gone", ["gone-app"])
    repo.apply()
    shutil.rmtree(repo.root / "customers" / "gone")
    report = repo.status_json("--customer", "gone")
    (customer,) = report["customers"]
    assert customer["id"] == "gone" and customer["declared"] is False
    assert [(s["name"], s["state"]) for s in customer["scripts"]] == [("gone-app", "undeclared")]


def test_status_without_d1_and_before_any_apply(repo):
    repo.customer("acme", ["acme-web"])
    report = repo.status_json()
    assert report["namespace_exists"] is False
    assert report["d1_database"] is None
    assert _scripts(report)["acme-web"]["state"] == "missing"
    code, out, _ = repo.status()
    assert code == 0
    assert "The dispatch namespace does not exist yet" in out


def test_status_says_when_the_d1_mirror_has_no_tables_yet(repo, emulator_client):
    uuid = str(emulator_client.create_d1_database("fresh-db")["uuid"])
    repo.platform["d1"] = {"name": "fresh-db", "database_id": uuid}
    repo.write_platform()
    repo.customer("acme", ["acme-web"])
    report = repo.status_json()
    assert "has no mirror tables yet; run apply" in report["d1_note"]
