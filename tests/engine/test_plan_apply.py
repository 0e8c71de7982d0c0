from __future__ import annotations

import json
from pathlib import Path

import pytest

from wfp_reconcile.bundle import Module, ScriptUpload

from .conftest import PlatformRepoBuilder

# Changed code a Worker upload must still accept (apply pre-flights it): a fetch handler.
CHANGED = 'export default { fetch() { return new Response("changed"); } };\n'


def _repo_args(builder: PlatformRepoBuilder) -> list[str]:
    return ["--repo", str(builder.root)]


def _plan_json(run, builder) -> dict:
    code, out, err = run("plan", *_repo_args(builder), "--format", "json")
    assert code == 0, err
    return json.loads(out)


def _apply(run, builder, *extra: str) -> tuple[int, str, str]:
    return run("apply", *_repo_args(builder), "--auto-approve", *extra)


def _scripts(emulator_client) -> dict[str, tuple[str, ...]]:
    # In the list-without-tags mode (tests/engine/conftest.py) tags are read per script.
    return {
        s.id: s.tags if s.tags is not None else emulator_client.get_script_tags("test-ns", s.id)
        for s in emulator_client.list_scripts("test-ns")
    }


def _foreign(tags: list[str]) -> ScriptUpload:
    return ScriptUpload(
        metadata={"main_module": "w.mjs", "tags": tags},
        modules=(Module("w.mjs", b"export default {};", "application/javascript+module"),),
    )


def _ensure_namespace(emulator_client) -> None:
    emulator_client.ensure_namespace("test-ns")


def test_apply_on_an_empty_namespace_creates_everything_then_plan_shows_no_changes(
    platform_repo, cf, run, emulator_client
):
    platform_repo.customer("acme", ["acme-web", "acme-api"])
    platform_repo.customer("globex", ["globex-site"], plan="advanced")

    code, out, err = run("plan", *_repo_args(platform_repo), "--detailed-exitcode")
    assert code == 2, err
    assert "+ dispatch namespace test-ns (created first)" in out
    assert "Plan: 5 to add, 0 to change, 0 to destroy." in out  # 3 scripts, egress, dispatcher
    assert "+ script acme-web" in out

    code, out, err = _apply(run, platform_repo)
    assert code == 0, err
    assert "Apply complete: 5 operations succeeded." in out
    scripts = _scripts(emulator_client)
    assert sorted(scripts) == ["acme-api", "acme-web", "globex-site"]
    assert {"wfp-managed", "acme", "plan-basic"} <= set(scripts["acme-web"])

    code, out, err = run("plan", *_repo_args(platform_repo), "--detailed-exitcode")
    assert code == 0, err
    assert "No changes." in out


def test_changing_one_module_byte_uploads_exactly_that_script_and_the_dispatcher(
    platform_repo, cf, run, emulator_client
):
    platform_repo.customer("acme", ["a1", "a2", "a3"])
    _ensure_namespace(emulator_client)
    assert _apply(run, platform_repo)[0] == 0
    module = platform_repo.root / "customers" / "acme" / "a2.mjs"
    module.write_text(module.read_text().replace("a2", "A2"))
    cf.reset_requests()

    code, out, err = _apply(run, platform_repo)
    assert code == 0, err
    assert "~ script a2" in out
    assert "code:" in out
    assert cf.count("upload_script") == 1
    assert [r.path.rsplit("/", 1)[-1] for r in cf.requests("upload_script")] == ["a2"]
    assert cf.count("upload_worker") == 1  # the dispatcher: its manifest holds fingerprints
    assert cf.count("delete_script") == 0


def test_changing_only_a_customers_plan_retags_without_uploading(
    platform_repo, cf, run, emulator_client
):
    platform_repo.customer("acme", ["a1", "a2"])
    _ensure_namespace(emulator_client)
    assert _apply(run, platform_repo)[0] == 0
    platform_repo.edit_customer("acme", plan="advanced")
    cf.reset_requests()

    plan = _plan_json(run, platform_repo)
    assert {c["action"] for c in plan["changes"] if c["kind"] == "script"} == {"retag"}

    code, _, err = _apply(run, platform_repo)
    assert code == 0, err
    assert cf.count("upload_script") == 0
    assert cf.count("put_tags") == 2
    assert "plan-advanced" in _scripts(emulator_client)["a1"]


def test_removing_a_customer_deletes_its_scripts_last(platform_repo, cf, run, emulator_client):
    platform_repo.customer("acme", ["a1", "a2"])
    platform_repo.customer("globex", ["g1", "g2", "g3", "g4"])
    _ensure_namespace(emulator_client)
    assert _apply(run, platform_repo)[0] == 0
    platform_repo.remove_customer("acme")
    cf.reset_requests()

    code, out, err = _apply(run, platform_repo)
    assert code == 0, err
    assert "- script a1" in out
    kinds = [r.kind for r in cf.requests() if r.kind in ("upload_worker", "delete_script")]
    assert kinds == ["upload_worker", "delete_script", "delete_script"]  # dispatcher first
    assert sorted(_scripts(emulator_client)) == ["g1", "g2", "g3", "g4"]


def test_suspended_customer_is_neither_updated_nor_deleted(platform_repo, cf, run, emulator_client):
    platform_repo.customer("acme", ["a1", "a2"])
    _ensure_namespace(emulator_client)
    assert _apply(run, platform_repo)[0] == 0
    (platform_repo.root / "customers" / "acme" / "a1.mjs").write_text(CHANGED)
    platform_repo.customer("acme", ["a1"], suspended=True)  # a2 dropped, a1 changed
    cf.reset_requests()

    code, out, err = _apply(run, platform_repo)
    assert code == 0, err
    assert "= script a1" in out and "= script a2" in out
    assert cf.count("upload_script") == 0 and cf.count("delete_script") == 0
    assert sorted(_scripts(emulator_client)) == ["a1", "a2"]


def test_unmanaged_script_with_a_declared_name_is_a_conflict_until_adopted(
    platform_repo, cf, run, emulator_client
):
    _ensure_namespace(emulator_client)
    emulator_client.upload_script("test-ns", "taken", _foreign(["someone-else"]))
    platform_repo.customer("acme", ["taken", "free"])

    code, out, err = _apply(run, platform_repo)
    assert code == 0, err
    assert "! script taken" in out
    assert "wfp-reconcile adopt taken" in out
    assert _scripts(emulator_client)["taken"] == ("someone-else",)

    (platform_repo.root / "customers" / "acme" / "free.mjs").write_text(CHANGED)
    cf.reset_requests()
    code, out, err = run("adopt", "taken", *_repo_args(platform_repo), "--auto-approve")
    assert code == 0, err
    assert "wfp-managed" in _scripts(emulator_client)["taken"]
    assert cf.count("upload_script") == 1  # only the take-over; `free` waits for apply
    assert _apply(run, platform_repo)[0] == 0
    assert run("plan", *_repo_args(platform_repo), "--detailed-exitcode")[0] == 0


def test_empty_desired_set_against_a_populated_namespace_is_refused(
    platform_repo, cf, run, emulator_client
):
    platform_repo.customer("acme", ["a1"])
    _ensure_namespace(emulator_client)
    assert _apply(run, platform_repo)[0] == 0
    platform_repo.customer("acme", [])
    cf.reset_requests()

    code, _, err = _apply(run, platform_repo, "--allow-deletes", "1")
    assert code == 1
    assert "declares no scripts" in err
    assert cf.count("delete_script") == 0


def test_deletes_over_the_cap_need_the_exact_allow_deletes_count(
    platform_repo, cf, run, emulator_client
):
    platform_repo.customer("acme", [f"a{i}" for i in range(6)])
    platform_repo.customer("keep", ["k1", "k2"])
    _ensure_namespace(emulator_client)
    assert _apply(run, platform_repo)[0] == 0
    platform_repo.remove_customer("acme")  # 6 of 8 deletes: over 50 %

    code, _, err = _apply(run, platform_repo)
    assert code == 1
    assert "--allow-deletes 6" in err
    code, _, err = _apply(run, platform_repo, "--allow-deletes", "5")
    assert code == 1
    assert "does not match the 6 deletes" in err
    assert len(_scripts(emulator_client)) == 8

    code, _, err = _apply(run, platform_repo, "--allow-deletes", "6")
    assert code == 0, err
    assert sorted(_scripts(emulator_client)) == ["k1", "k2"]


def test_protected_script_survives_removal_of_its_yaml(platform_repo, cf, run, emulator_client):
    platform_repo.customer("acme", {"vault": {"protect": True}, "web": {}})
    _ensure_namespace(emulator_client)
    assert _apply(run, platform_repo)[0] == 0
    assert "protected" in _scripts(emulator_client)["vault"]
    platform_repo.customer("acme", ["web"])

    code, out, err = _apply(run, platform_repo)
    assert code == 0, err
    assert "# script vault" in out
    assert "vault" in _scripts(emulator_client)


def test_saved_plan_is_refused_after_an_out_of_band_change(
    platform_repo, cf, run, emulator_client, tmp_path: Path
):
    platform_repo.customer("acme", ["a1", "a2"])
    _ensure_namespace(emulator_client)
    plan_file = tmp_path / "plan.json"
    assert run("plan", *_repo_args(platform_repo), "--out", str(plan_file))[0] == 0
    # Someone else deploys a managed-looking script between plan and apply.
    emulator_client.upload_script("test-ns", "intruder", _foreign(["wfp-managed", "acme"]))
    cf.reset_requests()

    code, _, err = run("apply", str(plan_file), *_repo_args(platform_repo))
    assert code == 1
    assert "changed since the plan was made" in err
    assert cf.count("upload_script") == 0


def test_saved_plan_applies_exactly_and_is_refused_after_a_repository_change(
    platform_repo, cf, run, emulator_client, tmp_path: Path
):
    platform_repo.customer("acme", ["a1"])
    _ensure_namespace(emulator_client)
    plan_file = tmp_path / "plan.json"
    assert run("plan", *_repo_args(platform_repo), "--out", str(plan_file))[0] == 0
    (platform_repo.root / "customers" / "acme" / "a1.mjs").write_text(CHANGED)

    code, _, err = run("apply", str(plan_file), *_repo_args(platform_repo))
    assert code == 1
    assert "The repository changed since the plan was made" in err

    assert run("plan", *_repo_args(platform_repo), "--out", str(plan_file))[0] == 0
    code, _, err = run("apply", str(plan_file), *_repo_args(platform_repo))
    assert code == 0, err
    assert sorted(_scripts(emulator_client)) == ["a1"]


def test_one_failing_upload_does_not_stop_the_others_and_a_rerun_converges(
    platform_repo, cf, run, emulator_client
):
    from wfp_reconcile.local.emulator import FaultConfig

    platform_repo.customer("acme", ["a1", "a2", "a3", "a4"])
    _ensure_namespace(emulator_client)
    cf.set_faults(FaultConfig(fail_scripts=("a3",)))

    code, out, err = _apply(run, platform_repo)
    assert code == 1
    assert "failed: create script a3" in out
    # The dispatcher would route to a3, which is not there: it waits for the next run.
    assert "not attempted until the failures are fixed: dispatcher test-dispatcher" in out
    assert "1 failed, 1 not attempted" in out
    assert sorted(_scripts(emulator_client)) == ["a1", "a2", "a4"]
    assert "test-dispatcher" not in {w.id for w in emulator_client.list_workers()}

    cf.set_faults(FaultConfig())
    code, out, err = _apply(run, platform_repo)
    assert code == 0, err
    assert "Plan: 2 to add" in out  # a3 and the dispatcher
    assert sorted(_scripts(emulator_client)) == ["a1", "a2", "a3", "a4"]
    assert run("plan", *_repo_args(platform_repo), "--detailed-exitcode")[0] == 0


@pytest.mark.list_modes("flat", "wrapped")
def test_list_without_tags_mode_gives_the_same_plan(platform_repo, cf, run, emulator_client):
    from wfp_reconcile.local.emulator import FaultConfig

    platform_repo.customer("acme", ["a1", "a2", "a3"])
    platform_repo.customer("globex", ["g1"])
    _ensure_namespace(emulator_client)
    assert _apply(run, platform_repo)[0] == 0
    platform_repo.edit_customer("globex", plan="advanced")
    (platform_repo.root / "customers" / "acme" / "a2.mjs").write_text(CHANGED)

    normal = _plan_json(run, platform_repo)
    cf.set_faults(FaultConfig(list_without_tags=True))
    cf.reset_requests()
    degraded = _plan_json(run, platform_repo)

    assert degraded["changes"] == normal["changes"]
    assert degraded["state_digest"] == normal["state_digest"]
    assert degraded["tags_from_list"] is False and normal["tags_from_list"] is True
    assert cf.count("get_tags") >= 4


def test_plan_says_which_settings_an_update_changes(platform_repo, cf, run, emulator_client):
    platform_repo.customer("acme", {"a1": {"vars": {"GREETING": "hi", "MODE": 1}}, "a2": {}})
    assert _apply(run, platform_repo)[0] == 0
    platform_repo.customer(
        "acme",
        {
            "a1": {"vars": {"GREETING": "hello", "LEVEL": 2}, "compatibility_date": "2025-01-01"},
            "a2": {},
        },
    )
    cf.reset_requests()

    code, out, err = run("plan", *_repo_args(platform_repo))
    assert code == 0, err
    assert "      compatibility_date: 2024-09-01 -> 2025-01-01" in out
    assert "      binding GREETING: text #" in out  # a hash, never the value
    assert '"hi"' not in out and '"hello"' not in out
    assert "      binding LEVEL: (none) -> json #" in out
    assert "      binding MODE: json #" in out and "#" in out.split("binding MODE: ")[1]
    assert cf.count("get_settings") == 1  # only for the one script whose config changed
    assert "a2" not in out.split("customer acme:")[1].split("Plan:")[0]


def test_applying_a_saved_plan_rereads_state_but_not_what_only_explains_it(
    platform_repo, cf, run, emulator_client, tmp_path: Path
):
    platform_repo.customer("acme", {"a1": {"vars": {"GREETING": "hi"}}})
    assert _apply(run, platform_repo)[0] == 0
    platform_repo.customer("acme", {"a1": {"vars": {"GREETING": "hello"}}})
    plan_file = tmp_path / "plan.json"
    assert run("plan", *_repo_args(platform_repo), "--out", str(plan_file))[0] == 0
    assert "binding GREETING" in plan_file.read_text()
    cf.reset_requests()

    code, _, err = run("apply", str(plan_file), *_repo_args(platform_repo))
    assert code == 0, err
    assert cf.count("get_settings") == 0
    assert cf.count("list_scripts") >= 1  # the namespace was checked for staleness
    assert cf.count("upload_script") == 1
