"""Issue 11 items 3 and 4: a regular Worker is ours by what it is, never by its name, and
never taken over by `adopt` or a plan file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from wfp_reconcile.bundle import ScriptUpload
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.desired import build_desired
from wfp_reconcile.plan import Plan

from .conftest import PlatformRepoBuilder


def _deploy_legacy_production(root: Path, tmp_path: Path, emulator_client) -> None:
    """Production's dispatcher and egress as deployed before namespace tags existed."""
    prod = tmp_path / "prod"
    shutil.copytree(root, prod)
    doc = yaml.safe_load((prod / "platform.yaml").read_text())
    doc["namespace"] = "prod-ns"
    (prod / "platform.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    emulator_client.ensure_namespace("prod-ns")
    desired = build_desired(load_repo_dir(prod))
    assert desired.dispatcher is not None
    for worker in (*desired.outbound, desired.dispatcher):
        tags = [t for t in worker.tags if not t.startswith("ns-")]
        upload = worker.upload_with_tags()
        emulator_client.upload_worker(
            worker.name, ScriptUpload({**upload.metadata, "tags": tags}, upload.modules)
        )


def _bound_namespaces(emulator_client) -> set[str]:
    settings = emulator_client.get_worker_settings("test-dispatcher")
    return {b["namespace"] for b in settings["bindings"] if b["type"] == "dispatch_namespace"}


def test_a_second_platform_does_not_take_over_workers_from_before_namespace_tags(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client, tmp_path: Path
):
    platform_repo.customer("acme", ["a1"])
    _deploy_legacy_production(platform_repo.root, tmp_path, emulator_client)
    before = {n: emulator_client.get_worker_tags(n) for n in ("test-dispatcher", "egress")}

    code, out, err = run("apply", "--repo", str(platform_repo.root), "--auto-approve")
    assert code == 0, err
    assert "! dispatcher test-dispatcher" in out and "! outbound egress" in out
    assert "add the tag ns-test-ns to it" in out
    assert {n: emulator_client.get_worker_tags(n) for n in before} == before
    assert _bound_namespaces(emulator_client) == {"prod-ns"}  # production keeps its traffic


def test_a_hand_edited_plan_cannot_adopt_a_regular_worker(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client, tmp_path: Path
):
    platform_repo.customer("acme", ["a1"])
    _deploy_legacy_production(platform_repo.root, tmp_path, emulator_client)
    out_file = tmp_path / "plan.json"
    code, _, err = run("plan", "--repo", str(platform_repo.root), "--out", str(out_file))
    assert code == 0, err
    plan = json.loads(out_file.read_text())
    conflicts = [c for c in plan["changes"] if c["action"] == "conflict"]
    assert {c["kind"] for c in conflicts} == {"dispatcher", "outbound"}
    plan["changes"] = [dict(c, action="adopt", reason="") for c in conflicts]
    out_file.write_text(json.dumps(plan))

    code, _, err = run("apply", str(out_file), "--repo", str(platform_repo.root))
    assert code == 1
    assert "integrity digest" in err and "was the file edited?" in err
    assert _bound_namespaces(emulator_client) == {"prod-ns"}


def test_a_plan_file_with_a_recomputed_digest_still_cannot_adopt(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client, tmp_path: Path
):
    platform_repo.customer("globex", {"vault": {"protect": True}, "site": {}})
    assert run("apply", "--repo", str(platform_repo.root), "--auto-approve")[0] == 0
    platform_repo.customer("globex", ["site"])
    platform_repo.customer("acme", ["vault"])
    out_file = tmp_path / "plan.json"
    assert run("plan", "--repo", str(platform_repo.root), "--out", str(out_file))[0] == 0
    doc = json.loads(out_file.read_text())
    doc["changes"] = [dict(c, action="adopt") for c in doc["changes"] if c["action"] == "conflict"]
    assert [c["name"] for c in doc["changes"]] == ["vault"]
    # Whoever can write the file can recompute an unkeyed digest: that must not help.
    doc["integrity"] = Plan.model_validate(doc).content_digest()
    out_file.write_text(json.dumps(doc))

    code, _, err = run("apply", str(out_file), "--repo", str(platform_repo.root))
    assert code == 1
    assert "holds adopt entries" in err and "wfp-reconcile adopt" in err
    assert "globex" in emulator_client.get_script_tags("test-ns", "vault")
