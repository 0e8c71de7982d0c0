"""The ownership workflow cannot be edited by the pull request it judges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def load(name: str) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # PyYAML reads the key `on` as the boolean True.
    on: dict[str, Any] = workflow[True]
    return on


def owners_steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = load("wfp-owners.yml")["jobs"]["owners"]["steps"]
    return steps


def test_owners_check_runs_from_the_base_branch_without_secrets() -> None:
    caller = load("pull-request-owners.yml")
    assert set(triggers(caller)) == {"pull_request_target"}
    job = caller["jobs"]["owners"]
    assert job["uses"] == "./.github/workflows/wfp-owners.yml"
    assert "secrets" not in job
    assert job["permissions"] == {"contents": "read"}
    reusable = load("wfp-owners.yml")
    assert "secrets" not in triggers(reusable)["workflow_call"]
    assert "secrets." not in (WORKFLOWS / "wfp-owners.yml").read_text()


def test_owners_job_checks_out_the_base_and_installs_the_tool_from_it() -> None:
    checkout = next(s for s in owners_steps() if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert checkout["with"]["persist-credentials"] is False


def test_owners_job_checks_author_and_pusher_and_validates_the_head() -> None:
    runs = "\n".join(str(s.get("run", "")) for s in owners_steps())
    envs: dict[str, str] = {}
    for step in owners_steps():
        envs.update(step.get("env", {}))
    assert '--actor "$AUTHOR" --actor "$PUSHER"' in runs
    assert envs["AUTHOR"] == "${{ github.event.pull_request.user.login }}"
    assert envs["PUSHER"] == "${{ github.actor }}"
    assert 'wfp-reconcile validate --ref "$HEAD_SHA"' in runs


def test_plan_workflow_no_longer_carries_the_ownership_check() -> None:
    assert set(load("wfp-plan.yml")["jobs"]) == {"plan"}
