"""Regressions found by review: each was a way to lose or touch what is not ours."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from wfp_reconcile.bundle import Module, ScriptUpload
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.desired import build_desired

from .conftest import PlatformRepoBuilder

NS = "test-ns"


def _foreign(tags: list[str]) -> ScriptUpload:
    return ScriptUpload(
        metadata={"main_module": "w.mjs", "tags": tags},
        modules=(Module("w.mjs", b"export default {};", "application/javascript+module"),),
    )


def _apply(run, root: Path, *extra: str) -> tuple[int, str, str]:
    return run("apply", "--repo", str(root), "--auto-approve", *extra)


def test_script_moved_to_a_customer_outside_the_scope_is_not_deleted(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client
):
    platform_repo.customer("acme", ["a1", "moving"])
    platform_repo.customer("globex", ["g1"])
    assert _apply(run, platform_repo.root)[0] == 0
    source = platform_repo.root / "customers" / "acme" / "moving.mjs"
    shutil.copy(source, platform_repo.root / "customers" / "globex" / "moving.mjs")
    source.unlink()
    platform_repo.customer("acme", ["a1"])
    platform_repo.customer("globex", ["g1", "moving"])

    code, out, err = _apply(run, platform_repo.root, "--customer", "acme")
    assert code == 0, err
    assert "- script moving" not in out
    assert "moving" in {s.id for s in emulator_client.list_scripts(NS)}


def test_two_platforms_in_one_account_never_touch_each_others_workers(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client, tmp_path: Path
):
    staging = tmp_path / "staging"
    shutil.copytree(platform_repo.root, staging)
    doc = yaml.safe_load((staging / "platform.yaml").read_text())
    doc["namespace"] = "staging-ns"
    doc["dispatcher"] = {"name": "staging-dispatcher"}
    doc["outbound_workers"] = {"staging-egress": doc["outbound_workers"]["egress"]}
    doc.pop("d1", None)  # a mirror database serves one platform (docs/d1.md)
    (staging / "platform.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    PlatformRepoBuilder(staging, doc).customer("stg", [f"s{i}" for i in range(20)])
    platform_repo.customer("acme", ["a1"])

    assert _apply(run, staging)[0] == 0
    code, out, err = _apply(run, platform_repo.root)
    assert code == 0, err
    assert "staging-" not in out
    code, out, err = _apply(run, staging)
    assert code == 0, err
    assert "No changes." in out
    assert {"test-dispatcher", "egress", "staging-dispatcher", "staging-egress"} <= {
        w.id for w in emulator_client.list_workers()
    }


def test_a_worker_of_another_platform_with_a_declared_name_is_a_conflict(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client
):
    emulator_client.upload_worker("egress", _foreign(["wfp-managed", "outbound", "ns-other"]))
    platform_repo.customer("acme", ["a1"])

    code, out, _ = _apply(run, platform_repo.root)
    assert "! outbound egress" in out
    assert "another namespace's" in out
    tags = emulator_client.get_worker_tags("egress")
    assert "ns-other" in tags and "ns-test-ns" not in tags


def test_the_dispatcher_keeps_secrets_set_out_of_band(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client
):
    platform_repo.customer("acme", ["a1"])
    assert _apply(run, platform_repo.root)[0] == 0
    dispatcher = build_desired(load_repo_dir(platform_repo.root)).dispatcher
    assert dispatcher is not None
    upload = dispatcher.upload_with_tags()
    secret = {"type": "secret_text", "name": "ADMIN_SECRET", "text": "s3cr3t-value"}
    metadata = {**upload.metadata, "bindings": [*upload.metadata["bindings"], secret]}
    emulator_client.upload_worker(dispatcher.name, ScriptUpload(metadata, upload.modules))
    platform_repo.customer("acme", ["a1", "a2"])  # the dispatcher's manifest changes

    assert _apply(run, platform_repo.root)[0] == 0
    bindings = emulator_client.get_worker_settings(dispatcher.name)["bindings"]
    assert [b["name"] for b in bindings if b["type"] == "secret_text"] == ["ADMIN_SECRET"]


def test_plans_never_show_variable_values_read_from_cloudflare(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client
):
    platform_repo.customer("acme", {"a1": {"vars": {"GREETING": "hi"}}})
    assert _apply(run, platform_repo.root)[0] == 0
    worker = build_desired(load_repo_dir(platform_repo.root)).script("a1")
    assert worker is not None
    upload = worker.upload_with_tags()
    leaked = {"type": "plain_text", "name": "DB_PASSWORD", "text": "hunter2-prod"}
    metadata = {**upload.metadata, "bindings": [*upload.metadata["bindings"], leaked]}
    emulator_client.upload_script(NS, "a1", ScriptUpload(metadata, upload.modules))
    platform_repo.customer("acme", {"a1": {"vars": {"GREETING": "hello"}}})

    for fmt in ("text", "json", "markdown"):
        code, out, err = run("plan", "--repo", str(platform_repo.root), "--format", fmt)
        assert code == 0, err
        assert "binding DB_PASSWORD" in out
        assert "hunter2-prod" not in out and '"hello"' not in out


def test_an_edited_plan_file_cannot_delete_what_is_not_ours(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client, tmp_path: Path
):
    platform_repo.customer("acme", ["a1"])
    assert _apply(run, platform_repo.root)[0] == 0
    emulator_client.upload_script(NS, "someone-elses", _foreign(["other-team"]))
    emulator_client.upload_worker("billing-api", _foreign(["other-team"]))
    plan_file = tmp_path / "plan.json"
    assert run("plan", "--repo", str(platform_repo.root), "--out", str(plan_file))[0] == 0
    doc = json.loads(plan_file.read_text())
    doc["changes"] += [
        {"action": "delete", "kind": "script", "name": "someone-elses"},
        {"action": "delete", "kind": "outbound", "name": "billing-api"},
    ]
    plan_file.write_text(json.dumps(doc))

    code, _, err = run(
        "apply", str(plan_file), "--repo", str(platform_repo.root), "--allow-deletes", "2"
    )
    assert code == 1
    assert "was the file edited?" in err
    assert "someone-elses" in {s.id for s in emulator_client.list_scripts(NS)}
    assert "billing-api" in {w.id for w in emulator_client.list_workers()}


def test_a_script_that_lost_the_management_tag_after_planning_is_not_deleted(
    platform_repo: PlatformRepoBuilder, emulator_client
):
    from wfp_reconcile.engine import apply_plan, plan_repo

    platform_repo.customer("acme", ["a1", "a2"])
    repo = load_repo_dir(platform_repo.root)
    assert apply_plan(plan_repo(repo, emulator_client).plan, repo, emulator_client).ok
    platform_repo.customer("acme", ["a1"])
    repo = load_repo_dir(platform_repo.root)
    planned = plan_repo(repo, emulator_client)
    assert [c.name for c in planned.plan.deletes] == ["a2"]
    # Between the plan and the write, another team takes the name over.
    emulator_client.put_script_tags(NS, "a2", ["other-team"])

    result = apply_plan(planned.plan, repo, emulator_client, verify_state=False)
    assert not result.ok
    assert "no longer carries this platform's management tags" in (result.failed[0].error or "")
    assert "a2" in {s.id for s in emulator_client.list_scripts(NS)}


def test_a_customer_cannot_take_over_another_customers_deployed_script(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client
):
    platform_repo.customer("bolt", {"bolt-vault": {"protect": True}, "bolt-web": {}})
    platform_repo.customer("acme", ["a1"])
    assert _apply(run, platform_repo.root)[0] == 0
    platform_repo.customer("bolt", ["bolt-web"])  # the protected script stays deployed
    vault = platform_repo.root / "customers" / "acme" / "bolt-vault.mjs"
    vault.write_text("export default { fetch() { return new Response('mine now'); } };\n")
    platform_repo.customer("acme", ["a1", "bolt-vault"])

    code, out, err = _apply(run, platform_repo.root)
    assert code == 0, err
    assert "! script bolt-vault" in out
    assert "deployed for customer bolt" in out
    tags = emulator_client.get_script_tags(NS, "bolt-vault")
    assert "bolt" in tags and "protected" in tags and "acme" not in tags

    code, out, err = run("adopt", "bolt-vault", "--repo", str(platform_repo.root), "--auto-approve")
    assert code == 0, err
    assert "acme" in emulator_client.get_script_tags(NS, "bolt-vault")


def test_workers_deployed_before_namespace_tags_are_taken_over_not_deleted(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client
):
    platform_repo.customer("acme", ["a1"])
    assert _apply(run, platform_repo.root)[0] == 0
    desired = build_desired(load_repo_dir(platform_repo.root))
    for worker in desired.outbound + ((desired.dispatcher,) if desired.dispatcher else ()):
        legacy = tuple(t for t in worker.tags if not t.startswith("ns-"))
        upload = worker.upload_with_tags()
        emulator_client.upload_worker(
            worker.name, ScriptUpload({**upload.metadata, "tags": list(legacy)}, upload.modules)
        )
    # An undeclared legacy Worker (another platform's, maybe) must be left alone.
    emulator_client.upload_worker("old-egress", _foreign(["wfp-managed", "outbound"]))

    code, out, err = _apply(run, platform_repo.root)
    assert code == 0, err
    assert "old-egress" not in out and "!" not in out
    assert "ns-test-ns" in emulator_client.get_worker_tags("test-dispatcher")
    assert "ns-test-ns" in emulator_client.get_worker_tags("egress")
    assert "old-egress" in {w.id for w in emulator_client.list_workers()}
    assert run("plan", "--repo", str(platform_repo.root), "--detailed-exitcode")[0] == 0
