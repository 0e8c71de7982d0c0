from __future__ import annotations

import json
from pathlib import Path

import pytest
import respx

from wfp_reconcile.cli import main
from wfp_reconcile.github import marker

from .conftest import GitRepo, customer_yaml, module
from .fake_github import API, REPO, FakeGitHub

TOKEN = "ghs_clitesttokenvalue_abcdefghijklmnop"


def branch(repo: GitRepo, name: str, files: dict[str, object]) -> str:
    repo.git("checkout", "-q", "-b", name)
    sha = repo.commit(name, files)
    repo.git("checkout", "-q", "main")
    return sha


@pytest.fixture
def actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A simulated GitHub Actions step environment; returns its directory."""
    step = tmp_path / "step"
    step.mkdir()
    event = {
        "pull_request": {
            "number": 12,
            "base": {"sha": "a" * 40},
            "head": {"sha": "b" * 40},
            "user": {"login": "alice"},
        }
    }
    (step / "event.json").write_text(json.dumps(event))
    for name, value in {
        "GITHUB_STEP_SUMMARY": step / "summary.md",
        "GITHUB_OUTPUT": step / "output.txt",
        "GITHUB_EVENT_PATH": step / "event.json",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": API,
        "GITHUB_RUN_ID": "99",
        "GITHUB_TOKEN": TOKEN,
    }.items():
        monkeypatch.setenv(name, str(value))
    return step


def test_changed_lists_customers_and_platform_files_as_json(
    platform_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    head = branch(
        platform_repo,
        "pr",
        {"customers/acme/acme-shop.mjs": module("v2"), "platform.yaml": "x: 1\n"},
    )

    args = ["changed", "--repo", str(platform_repo.root), "--base", "main", "--head", head]

    assert main([*args, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["customers"] == ["acme"]
    assert data["platform_files"] == ["platform.yaml"]


def test_changed_text_shows_renames(
    platform_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    platform_repo.git("checkout", "-q", "-b", "mv")
    platform_repo.git("mv", "customers/bolt", "customers/volt")
    head = platform_repo.commit("mv")
    platform_repo.git("checkout", "-q", "main")

    main(["changed", "--repo", str(platform_repo.root), "--base", "main", "--head", head])

    out = capsys.readouterr().out
    assert "Customers: bolt, volt" in out
    assert "R customers/bolt/bolt-api.mjs -> customers/volt/bolt-api.mjs" in out


def test_check_owners_passes_for_the_owner(
    platform_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    head = branch(platform_repo, "pr", {"customers/acme/acme-shop.mjs": module("v2")})
    args = ["check-owners", "--repo", str(platform_repo.root), "--base", "main"]

    assert main([*args, "--head", head, "--actor", "alice"]) == 0
    assert "OK: alice owns all 1 changed path(s)" in capsys.readouterr().out


def test_check_owners_fails_with_exit_1_naming_path_and_owners(
    platform_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    head = branch(platform_repo, "pr", {"customers/bolt/bolt-api.mjs": module("x")})
    args = ["check-owners", "--repo", str(platform_repo.root), "--base", "main"]

    assert main([*args, "--head", head, "--actor", "alice", "--format", "json"]) == 1

    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["passed"] is False
    assert data["violations"][0]["path"] == "customers/bolt/bolt-api.mjs"
    assert data["violations"][0]["owners"] == ["bob"]
    assert "not owned by alice" in captured.err


def test_check_owners_github_format_annotates_summarizes_and_sets_output(
    platform_repo: GitRepo,
    actions: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    head = branch(
        platform_repo,
        "pr",
        {"customers/bolt/customer.yaml": customer_yaml("bolt", ["bob", "alice"], ["bolt-api"])},
    )
    monkeypatch.chdir(platform_repo.root)
    args = ["check-owners", "--base", "main", "--head", head, "--actor", "alice"]

    assert main([*args, "--format", "github"]) == 1

    out = capsys.readouterr().out
    assert out.startswith("::error file=customers/bolt/customer.yaml::")
    assert "bob" in out
    assert "## Ownership check failed" in (actions / "summary.md").read_text()
    assert "passed<<" in (actions / "output.txt").read_text()
    assert "\nfalse\n" in (actions / "output.txt").read_text()


def test_github_comment_posts_once_and_updates_on_the_next_push(
    actions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.md"
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGitHub(router)
        plan.write_text("# Plan\n\n+ acme-shop (create)\n")
        assert main(["github", "comment", "--body-file", str(plan)]) == 0
        plan.write_text("# Plan\n\n~ acme-shop (update)\n")
        assert main(["github", "comment", "--body-file", str(plan)]) == 0

    comments = fake.comments[12]
    assert len(comments) == 1
    assert comments[0]["body"].startswith(marker("plan"))
    assert "~ acme-shop (update)" in comments[0]["body"]
    summary = (actions / "summary.md").read_text()
    assert "+ acme-shop (create)" in summary and "~ acme-shop (update)" in summary
    outputs = (actions / "output.txt").read_text()
    assert "created" in outputs and "updated" in outputs
    assert TOKEN not in capsys.readouterr().out + summary + outputs


def test_github_drift_issue_opens_and_closes(actions: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text("# Plan\n\n~ acme-shop (update)\n")
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGitHub(router)
        assert main(["github", "drift-issue", "--status", "drift", "--body-file", str(plan)]) == 0
        assert main(["github", "drift-issue", "--status", "drift", "--body-file", str(plan)]) == 0
        assert [i["state"] for i in fake.issues] == ["open"]
        assert main(["github", "drift-issue", "--status", "clean"]) == 0

    assert [i["state"] for i in fake.issues] == ["closed"]
    assert "actions/runs/99" in fake.issues[0]["body"]


def test_github_summary_wraps_text_output_as_code(actions: Path, tmp_path: Path) -> None:
    log = tmp_path / "apply.log"
    log.write_text("done: 3\nfailed: 1\n")

    assert main(["github", "summary", str(log), "--code", "--title", "Apply"]) == 0

    assert (
        actions / "summary.md"
    ).read_text() == "## Apply\n\n```text\ndone: 3\nfailed: 1\n```\n\n"


def test_github_comment_without_a_token_says_how_to_pass_it(
    actions: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    plan = tmp_path / "plan.md"
    plan.write_text("# Plan\n")

    assert main(["github", "comment", "--body-file", str(plan), "--no-summary"]) == 1
    assert "GITHUB_TOKEN" in capsys.readouterr().err
