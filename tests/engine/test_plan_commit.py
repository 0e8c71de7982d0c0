from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from wfp_reconcile.cli import main

from .conftest import ACCOUNT, PlatformRepoBuilder


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def git_repo(platform_repo: PlatformRepoBuilder) -> PlatformRepoBuilder:
    root = platform_repo.root
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "dev@example.com")
    _git(root, "config", "user.name", "Dev")
    platform_repo.customer("acme", ["a1"])
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "first")
    return platform_repo


@pytest.fixture
def cli(emulator, monkeypatch, capsys):
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", emulator.api_token)
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", emulator.api_base)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def test_saved_plan_records_its_commit_and_applies_only_at_that_commit(
    git_repo, cli, tmp_path: Path
):
    root = git_repo.root
    first = _git(root, "rev-parse", "HEAD")
    plan_file = tmp_path / "plan.json"
    code, _, err = cli("plan", "--repo", str(root), "--ref", "main", "--out", str(plan_file))
    assert code == 0, err
    assert json.loads(plan_file.read_text())["commit"] == first

    git_repo.customer("acme", ["a1", "a2"])
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "second")

    code, _, err = cli("apply", str(plan_file), "--repo", str(root), "--ref", "main")
    assert code == 1
    assert f"The plan was made from commit {first}" in err

    code, _, err = cli("apply", str(plan_file), "--repo", str(root))
    assert code == 1
    assert f"pass --ref {first[:12]}" in err

    code, _, err = cli("apply", str(plan_file), "--repo", str(root), "--ref", first)
    assert code == 0, err
