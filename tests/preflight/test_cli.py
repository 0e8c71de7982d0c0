"""``validate --preflight`` (offline, against a base revision) and ``plan --preflight``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from wfp_reconcile.cli import main

from .conftest import ACCOUNT, HELLO, requires_node, write_repo

pytestmark = [requires_node, pytest.mark.workerd]

SCRIPTS = {"good": {"main_module": "good.mjs"}, "other": {"main_module": "other.mjs"}}


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(root.parent),
    }
    done = subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    return done.stdout.decode().strip()


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def test_validate_against_the_base_revision_annotates_the_broken_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "platform"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_repo(root, SCRIPTS, {"good.mjs": HELLO, "other.mjs": HELLO})
    base = commit(root, "base")
    (root / "customers" / "acme" / "other.mjs").write_text("export default {\n  oops\n};\n")
    head = commit(root, "break other")
    monkeypatch.chdir(root)

    code = main(["validate", "--ref", head, "--base", base, "--preflight", "--format", "github"])
    out = capsys.readouterr().out
    assert code == 1
    annotations = [line for line in out.splitlines() if line.startswith("::error")]
    assert len(annotations) == 1
    assert annotations[0].startswith("::error file=customers/acme/other.mjs,line=2,col=3,")
    assert "ReferenceError: oops is not defined" in annotations[0]
    # Only what differs from the base is loaded: the broken script and the dispatcher
    # (its manifest names every script's fingerprint); `good` is unchanged.
    assert "1 of 2 Workers would be rejected by Cloudflare, 1 unchanged" in out

    # The base against itself: nothing differs, nothing is loaded, exit 0.
    code = main(["validate", "--ref", base, "--base", base, "--preflight", "--format", "json"])
    body = json.loads(capsys.readouterr().out)
    assert code == 0
    assert body["ok"] is True
    assert body["preflight"]["checked"] == 0
    assert body["preflight"]["unchanged"] == 3


def test_plan_preflight_loads_what_the_plan_uploads(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    emulator: object,
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", emulator.api_token)  # type: ignore[attr-defined]
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", emulator.api_base)  # type: ignore[attr-defined]
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
    root = write_repo(
        tmp_path / "platform",
        SCRIPTS,
        {"good.mjs": HELLO, "other.mjs": 'import "./missing.mjs";\n' + HELLO},
    )
    code = main(["plan", "--repo", str(root), "--preflight"])
    captured = capsys.readouterr()
    assert code == 1
    assert "other" in captured.out  # the plan itself is printed as usual
    assert (
        "error: customers/acme/other.mjs:1:8: script other of customer acme: "
        'Uncaught Error: No such module "missing.mjs".' in captured.err
    )
