"""Issue 11, also looked at: with many names to probe, a script with no tags at all must
still be found (and be a conflict), whatever Cloudflare's tag filter does with it."""

from __future__ import annotations

from wfp_reconcile.bundle import Module, ScriptUpload

from .conftest import PlatformRepoBuilder

NS = "test-ns"


def test_an_untagged_script_among_many_new_names_is_a_conflict_not_overwritten(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client
):
    names = [f"s{i:02}" for i in range(30)]  # more than the per-name probe limit
    platform_repo.customer("acme", names)
    emulator_client.ensure_namespace(NS)
    untagged = ScriptUpload(
        metadata={"main_module": "u.mjs"},
        modules=(Module("u.mjs", b"export default {};", "application/javascript+module"),),
    )
    emulator_client.upload_script(NS, "s07", untagged)
    cf.reset_requests()

    code, out, err = run("plan", "--repo", str(platform_repo.root))
    assert code == 0, err
    assert "! script s07" in out
    # The probe reads the namespace without a tag filter: it cannot depend on whether
    # `tags=<management>:no` keeps scripts that have no tags.
    probes = [r for r in cf.requests("list_scripts") if "%3Ano" in r.query or ":no" in r.query]
    assert probes == []
