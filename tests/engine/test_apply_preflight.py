"""Issue 17: apply pre-flights its uploads and skips the ones Cloudflare would reject.

Against the emulator over HTTP with the real workerd: a broken update keeps the last
good version live (and its routing entry), a broken new script is neither created nor
routed, everything else (another update, a delete, the dispatcher) is applied, and the
apply exits 1 naming each skipped script at its file and line.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from wfp_reconcile.local.emulator import EmulatorServer
from wfp_reconcile.local.runtime.install import install_dir

from .conftest import ACCOUNT, TEMPLATE, PlatformRepoBuilder
from .outcome_check import deployed_manifest

pytestmark = [
    pytest.mark.workerd,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
    pytest.mark.skipif(
        not (install_dir() / "node_modules" / "miniflare").is_dir(),
        reason="the local runtime is not installed (scripts/bootstrap installs it)",
    ),
]

NS = "test-ns"
DISPATCHER = "test-dispatcher"
# A ReferenceError at start-up (line 2, column 3) and a syntax error (line 2).
BROKEN_X = "export default {\n  oops\n};\n"
BROKEN_Z = 'export default { fetch() { return new Response("z"); } };\nconst = 1;\n'


def _apply(run, builder: PlatformRepoBuilder, *extra: str) -> tuple[int, str, str]:
    return run("apply", "--repo", str(builder.root), "--auto-approve", *extra)


def _module(cf: EmulatorServer, name: str) -> bytes | None:
    modules = cf.state.store.get_modules(ACCOUNT, NS, name)
    main = [m for m in modules if m.name == f"{name}.mjs"]
    return main[0].content if main else None


def _routes(cf: EmulatorServer) -> dict[str, str]:
    manifest = deployed_manifest(cf, ACCOUNT, DISPATCHER)
    assert manifest is not None
    return {name: entry["fingerprint"] for name, entry in manifest["scripts"].items()}


def _deployed(platform_repo: PlatformRepoBuilder, run, cf: EmulatorServer) -> Path:
    platform_repo.customer("acme", ["x", "y", "gone"])
    code, out, err = _apply(run, platform_repo)
    assert code == 0, out + err
    return platform_repo.root / "customers" / "acme"


def _break_some(directory: Path, platform_repo: PlatformRepoBuilder) -> None:
    (directory / "x.mjs").write_text(BROKEN_X)
    (directory / "y.mjs").write_text(TEMPLATE % "y, version 2")
    (directory / "z.mjs").write_text(BROKEN_Z)
    platform_repo.customer("acme", ["x", "y", "z"])  # "gone" is removed: a delete


def test_apply_skips_broken_uploads_and_applies_the_rest(
    platform_repo: PlatformRepoBuilder, cf: EmulatorServer, run
) -> None:
    directory = _deployed(platform_repo, run, cf)
    good_x = _module(cf, "x")
    routes_before = _routes(cf)
    _break_some(directory, platform_repo)

    code, out, err = _apply(run, platform_repo)

    assert code == 1, out + err
    # Y is uploaded, X keeps its last good version, Z is not created, the delete happened.
    assert _module(cf, "y") == (TEMPLATE % "y, version 2").encode()
    assert _module(cf, "x") == good_x
    assert _module(cf, "z") is None
    assert _module(cf, "gone") is None
    # The dispatcher was uploaded: Y's new version, X's old entry, no route to Z.
    routes = _routes(cf)
    assert set(routes) == {"x", "y"}
    assert routes["x"] == routes_before["x"]
    assert routes["y"] != routes_before["y"]
    # The summary names both skipped scripts at their file and line, and why.
    skipped = [line for line in out.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == 2, out
    x_line = next(line for line in skipped if "script x " in line)
    z_line = next(line for line in skipped if "script z " in line)
    assert x_line.startswith("skipped: update script x (the deployed version stays live): ")
    assert "customers/acme/x.mjs:2:3: Uncaught ReferenceError: oops is not defined" in x_line
    assert z_line.startswith("skipped: create script z (not created, not routed): ")
    assert "customers/acme/z.mjs:2:" in z_line and "SyntaxError" in z_line
    assert "failed:" not in out and "not attempted" not in out
    assert "Pre-flight: 2 of 4 Workers would be rejected by Cloudflare" in out
    assert "Apply finished with skipped uploads: 3 succeeded, 2 skipped by pre-flight." in out
    assert "2 of 5 operations were skipped: Cloudflare would reject them" in err
    # Progress lines say skipped, not failed.
    assert "update script x: SKIPPED: would be rejected by Cloudflare (pre-flight)" in err


def test_a_second_apply_skips_again_and_leaves_the_dispatcher_alone(
    platform_repo: PlatformRepoBuilder, cf: EmulatorServer, run
) -> None:
    directory = _deployed(platform_repo, run, cf)
    (directory / "x.mjs").write_text(BROKEN_X)
    assert _apply(run, platform_repo)[0] == 1
    uploads = cf.count("upload_worker")

    # The plan still routes to X's new version; derived without it, the dispatcher is
    # the deployed one: nothing is uploaded, nothing else is left to do.
    code, out, err = _apply(run, platform_repo)

    assert code == 1, out + err
    assert cf.count("upload_worker") == uploads
    assert "Apply finished with skipped uploads: 0 succeeded, 1 skipped by pre-flight." in out


def test_without_preflight_cloudflare_refuses_the_upload(
    platform_repo: PlatformRepoBuilder, cf: EmulatorServer, run
) -> None:
    directory = _deployed(platform_repo, run, cf)
    good_x = _module(cf, "x")
    _break_some(directory, platform_repo)

    code, out, err = _apply(run, platform_repo, "--no-preflight")

    assert code == 1, out + err
    # The emulator answers as Cloudflare does (400, code 10021, workerd's message):
    # failures, not skips, so
    # the dispatcher and the delete wait for the next run.
    failed = [line for line in out.splitlines() if line.startswith("failed: ")]
    assert {line.split(":")[1].strip() for line in failed} == {
        "update script x",
        "create script z",
    }
    assert all("failed with HTTP 400: Uncaught " in line for line in failed), failed
    assert "skipped" not in out and "Pre-flight" not in out
    assert "not attempted until the failures are fixed: dispatcher test-dispatcher" in out
    assert _module(cf, "x") == good_x
    assert _module(cf, "gone") is not None


def test_without_the_runtime_apply_uploads_unchecked_and_says_so_once(
    platform_repo: PlatformRepoBuilder,
    cf: EmulatorServer,
    run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    directory = _deployed(platform_repo, run, cf)
    (directory / "y.mjs").write_text(TEMPLATE % "y, version 2")
    # No installed runtime and no Node.js to install one: pre-flight cannot run (and the
    # emulator's own upload check is off, as it is without the runtime).
    monkeypatch.setenv("WFP_RUNTIME_CACHE", str(tmp_path / "no-runtime"))
    bare = tmp_path / "bin"
    bare.mkdir()
    git = shutil.which("git")
    assert git is not None
    (bare / "git").symlink_to(git)
    monkeypatch.setenv("PATH", str(bare))

    code, out, err = _apply(run, platform_repo)

    assert code == 0, out + err
    assert (out + err).count("pre-flight did not run") == 1
    assert "warning: pre-flight did not run (Node.js was not found on PATH." in out
    assert "uploads were sent unchecked." in out
    assert _module(cf, "y") == (TEMPLATE % "y, version 2").encode()
