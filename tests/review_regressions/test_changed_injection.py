"""`changed` prints raw paths: a file name with a newline injects workflow commands.

The owners job runs `changed` in GitHub Actions; a pull request adding
``customers/acme/x\n::error::owned`` (or ``::add-mask::``, ``::stop-commands::``) makes a
line of stdout that the runner executes as a command (issue 11 item 9).
"""

from __future__ import annotations

import pytest
from tests.gitops.conftest import GitRepo, module as module_text, platform_repo, repo  # noqa: F401

from wfp_reconcile.cli import main


def test_changed_text_does_not_let_a_file_name_start_a_workflow_command(
    platform_repo: GitRepo,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    platform_repo.git("checkout", "-q", "-b", "pr")
    evil = "customers/acme/x\n::stop-commands::pwned\n.mjs"
    head = platform_repo.commit("pr", {evil: module_text("v2")})
    platform_repo.git("checkout", "-q", "main")

    code = main(["changed", "--repo", str(platform_repo.root), "--base", "main", "--head", head])

    out = capsys.readouterr().out
    assert code == 0
    starts = [line for line in out.splitlines() if line.lstrip().startswith("::")]
    assert starts == [], f"workflow command injected by a file name: {starts!r}"
