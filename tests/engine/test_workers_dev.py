"""Issue 11 item 10: ``dispatcher.workers_dev`` is applied, and the plan shows it."""

from __future__ import annotations

from wfp_reconcile.local.emulator.store import REGULAR

from .conftest import ACCOUNT, PlatformRepoBuilder


def _served_on_workers_dev(cf) -> bool:
    row = cf.state.store.get_script(ACCOUNT, REGULAR, "test-dispatcher")
    assert row is not None
    return row.workers_dev


def test_workers_dev_is_enabled_and_disabled_as_declared(
    platform_repo: PlatformRepoBuilder, cf, run
):
    platform_repo.customer("acme", ["a1"])
    args = ("--repo", str(platform_repo.root))
    code, out, err = run("plan", *args)
    assert code == 0, err
    assert "workers_dev: enabled" in out  # the default, shown on the new dispatcher
    assert run("apply", *args, "--auto-approve")[0] == 0
    assert _served_on_workers_dev(cf) is True

    platform_repo.platform["dispatcher"] = {"name": "test-dispatcher", "workers_dev": False}
    platform_repo.write_platform()
    code, out, err = run("plan", *args, "--detailed-exitcode")
    assert code == 2, err
    assert "~ dispatcher test-dispatcher" in out
    assert "workers_dev: enabled -> disabled" in out
    assert run("apply", *args, "--auto-approve")[0] == 0
    assert _served_on_workers_dev(cf) is False
    assert run("plan", *args, "--detailed-exitcode")[0] == 0
