"""What a skipped upload means for the rest of an apply (issue 17), without workerd.

``without_skipped`` derives the dispatcher again as if the skipped uploads were not
carried out; ``PlanApplier`` holds the dispatcher and the deletes back for failures,
not for skipped uploads (except a skipped dispatcher, which the deletes wait for).
"""

from __future__ import annotations

import json
from pathlib import Path

from wfp_reconcile.apply import ApplyResult, OperationResult, PlanApplier
from wfp_reconcile.change import Action, Change
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.desired import DesiredState
from wfp_reconcile.dispatcher import MANIFEST_MODULE
from wfp_reconcile.engine import apply_plan, plan_repo, without_skipped

from .conftest import TEMPLATE, PlatformRepoBuilder

DISPATCHER = "dispatcher"


def _routes(desired: DesiredState) -> dict[str, str]:
    (worker,) = desired.of(DISPATCHER)
    module = next(m for m in worker.upload.modules if m.name == MANIFEST_MODULE)
    manifest = json.loads(module.content)
    return {name: entry["fingerprint"] for name, entry in manifest["scripts"].items()}


def _non_derived(changes: tuple[Change, ...]) -> list[Change]:
    return [c for c in changes if c.kind != DISPATCHER]


def _deploy(platform_repo: PlatformRepoBuilder, client) -> dict[str, str]:
    platform_repo.customer("acme", ["x", "y"])
    planned = plan_repo(load_repo_dir(platform_repo.root, env={}), client)
    result = apply_plan(planned.plan, load_repo_dir(platform_repo.root, env={}), client)
    assert result.ok, result.failed
    return _routes(planned.desired)


def _change_x_add_z(root: Path, platform_repo: PlatformRepoBuilder) -> None:
    (root / "customers" / "acme" / "x.mjs").write_text(TEMPLATE % "x, version 2")
    platform_repo.customer("acme", ["x", "y", "z"])


def test_skipping_every_change_routes_as_deployed_and_drops_the_dispatcher_change(
    platform_repo: PlatformRepoBuilder, emulator_client
) -> None:
    deployed = _deploy(platform_repo, emulator_client)
    _change_x_add_z(platform_repo.root, platform_repo)
    repo = load_repo_dir(platform_repo.root, env={})
    planned = plan_repo(repo, emulator_client)
    assert set(_routes(planned.desired)) == {"x", "y", "z"}  # as planned: all succeed
    assert any(c.kind == DISPATCHER for c in planned.plan.changes)

    desired, changes = without_skipped(
        repo,
        planned.desired,
        planned.actual,
        planned.plan.changes,
        {("script", "x"), ("script", "z")},
    )

    # The new script is not routed, the updated one keeps its deployed entry: that is
    # the deployed dispatcher, so there is nothing to upload.
    assert _routes(desired) == deployed
    assert [c for c in changes if c.kind == DISPATCHER] == []
    assert _non_derived(changes) == _non_derived(planned.plan.changes)


def test_skipping_a_new_script_keeps_the_update_routed_at_its_new_version(
    platform_repo: PlatformRepoBuilder, emulator_client
) -> None:
    deployed = _deploy(platform_repo, emulator_client)
    _change_x_add_z(platform_repo.root, platform_repo)
    repo = load_repo_dir(platform_repo.root, env={})
    planned = plan_repo(repo, emulator_client)

    desired, changes = without_skipped(
        repo, planned.desired, planned.actual, planned.plan.changes, {("script", "z")}
    )

    routes = _routes(desired)
    assert set(routes) == {"x", "y"}
    assert routes["x"] == planned.desired.script("x").fingerprint.short != deployed["x"]
    assert routes["y"] == deployed["y"]
    (dispatcher,) = [c for c in changes if c.kind == DISPATCHER]
    assert dispatcher.action is Action.UPDATE
    # The desired state the applier uploads from holds the rebuilt dispatcher.
    assert desired.of(DISPATCHER) != planned.desired.of(DISPATCHER)


def test_a_skipped_script_holds_nothing_back_but_a_skipped_dispatcher_holds_the_deletes(
    platform_repo: PlatformRepoBuilder, emulator_client
) -> None:
    _deploy(platform_repo, emulator_client)
    platform_repo.customer("acme", ["x"])  # y: a delete, and a dispatcher update
    (platform_repo.root / "customers" / "acme" / "x.mjs").write_text(TEMPLATE % "x, v2")
    repo = load_repo_dir(platform_repo.root, env={})
    planned = plan_repo(repo, emulator_client)
    by_kind = {(c.kind, c.action) for c in planned.plan.changes}
    assert by_kind == {
        ("script", Action.UPDATE),
        ("script", Action.DELETE),
        (DISPATCHER, Action.UPDATE),
    }
    dispatcher = next(c for c in planned.plan.changes if c.kind == DISPATCHER)

    applier = PlanApplier(emulator_client, planned.desired)
    result = applier.apply(
        planned.plan.changes, skip={(DISPATCHER, dispatcher.name): "would be rejected"}
    )

    states = {(r.change.kind, r.change.action): r for r in result.results}
    assert states[("script", Action.UPDATE)].ok
    assert states[(DISPATCHER, Action.UPDATE)].skipped
    assert states[(DISPATCHER, Action.UPDATE)].error == "would be rejected"
    held = states[("script", Action.DELETE)]
    assert not held.attempted
    assert held.error == "not attempted: the dispatcher's upload was skipped (pre-flight)"
    assert [r.change.kind for r in result.skipped] == [DISPATCHER]
    assert result.failed == () and not result.ok
    assert "y" in {s.id for s in emulator_client.list_scripts("test-ns")}


def test_skipped_is_neither_failed_nor_ok() -> None:
    change = Change(action=Action.UPDATE, kind="script", name="x", customer="acme")
    skipped = OperationResult(change, "why", 0.0, skipped=True)
    failed = OperationResult(change, "boom", 0.1)
    done = OperationResult(change, None, 0.1)

    assert not skipped.ok and not skipped.holds_back
    assert failed.holds_back and not done.holds_back
    result = ApplyResult((skipped, failed, done))
    assert result.skipped == (skipped,)
    assert result.failed == (failed,)
    assert result.succeeded == (done,)
    assert result.not_attempted == ()
    assert not ApplyResult((skipped, done)).ok
