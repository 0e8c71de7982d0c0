from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from wfp_reconcile.cli import main
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.errors import ConfigError, ConfigProblem

from .conftest import BETA_YAML


def _break_twice(repo: Path) -> None:
    """Two defects in two files: a bad limit and an unknown key."""
    platform = repo / "platform.yaml"
    platform.write_text(platform.read_text().replace("cpu_ms: 50", "cpu_ms: -1"))
    beta = repo / "customers/beta/customer.yaml"
    beta.write_text(BETA_YAML.replace("plan: advanced", "plan: advanced\nowner: [x]"))


def test_every_problem_is_reported_in_one_run(repo: Path) -> None:
    _break_twice(repo)
    with pytest.raises(ConfigError) as caught:
        load_repo_dir(repo, env={})
    assert caught.value.problems == (
        ConfigProblem(
            "customers/beta/customer.yaml",
            4,
            1,
            "unknown key 'owner'; did you mean 'owners'?",
        ),
        ConfigProblem(
            "platform.yaml",
            12,
            11,
            "default_limits.cpu_ms: must be greater than 0, not the integer -1",
        ),
    )


def test_validate_json_lists_problems_for_machines(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _break_twice(repo)
    assert main(["validate", "--repo", str(repo), "--format", "json"]) == 1
    body = json.loads(capsys.readouterr().out)
    assert body["ok"] is False
    assert [(p["path"], p["line"], p["column"]) for p in body["problems"]] == [
        ("customers/beta/customer.yaml", 4, 1),
        ("platform.yaml", 12, 11),
    ]


def test_validate_json_summarises_a_clean_repository(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--repo", str(repo), "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert (body["ok"], body["customers"], body["scripts"], body["outbound_workers"]) == (
        True,
        2,
        2,
        1,
    )


def test_validate_github_prints_workflow_annotations(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_twice(repo)
    monkeypatch.chdir(repo.parent)
    assert main(["validate", "--repo", "repo", "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "::error file=repo/customers/beta/customer.yaml,line=4,col=1,title=wfp-reconcile::"
        "unknown key 'owner'; did you mean 'owners'?",
        "::error file=repo/platform.yaml,line=12,col=11,title=wfp-reconcile::"
        "default_limits.cpu_ms: must be greater than 0, not the integer -1",
    ]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_validate_ref_reads_the_commit_not_the_work_tree(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "valid")
    _break_twice(repo)

    assert main(["validate", "--repo", str(repo)]) == 1
    assert main(["validate", "--repo", str(repo), "--ref", "HEAD"]) == 0
    assert "OK: 2 customers, 2 scripts" in capsys.readouterr().out
