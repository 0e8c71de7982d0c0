"""Ownership of secrets, through check-owners on a real git repository: a customer's
secrets are its owners' to change; the recipients in platform.yaml are the admins'."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from wfp_reconcile.cli import main
from wfp_reconcile.owners import check_revisions

from .helpers import PLAINTEXT, write_secret_repo


def _git(root: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "PATH": "/usr/bin:/bin",
        "HOME": str(root),
    }
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    root = write_secret_repo(tmp_path / "repo")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    return root


def _branch_commit(root: Path, name: str) -> str:
    _git(root, "checkout", "-q", "-b", name)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", name)
    sha = _git(root, "rev-parse", "HEAD")
    _git(root, "checkout", "-q", "main")
    return sha


def test_owner_may_add_a_secret_others_may_not(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _git(git_repo, "checkout", "-q", "-b", "add-secret")
    monkeypatch.setattr("sys.stdin", io.StringIO(PLAINTEXT))
    r = ["--repo", str(git_repo)]
    assert main(["secret", "set", "acme", "--script", "acme-pay", "STRIPE_KEY", *r]) == 0
    _git(git_repo, "add", "-A")
    _git(git_repo, "commit", "-q", "-m", "add secret")
    head = _git(git_repo, "rev-parse", "HEAD")
    _git(git_repo, "checkout", "-q", "main")

    assert check_revisions(git_repo, "main", head, "acme-dev").passed
    assert check_revisions(git_repo, "main", head, "admin").passed
    stranger = check_revisions(git_repo, "main", head, "mallory")
    assert not stranger.passed
    assert [v.path for v in stranger.violations] == ["customers/acme/customer.yaml"]
    out = capsys.readouterr()
    assert PLAINTEXT not in out.out + out.err


def test_recipients_are_admin_only(git_repo: Path) -> None:
    platform = git_repo / "platform.yaml"
    platform.write_text(
        platform.read_text()
        + "    - age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n"
    )
    head = _branch_commit(git_repo, "add-recipient")

    owner = check_revisions(git_repo, "main", head, "acme-dev")
    assert not owner.passed
    assert [v.path for v in owner.violations] == ["platform.yaml"]
    assert check_revisions(git_repo, "main", head, "admin").passed
