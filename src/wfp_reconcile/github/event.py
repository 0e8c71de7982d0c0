"""The webhook payload of the event that started the workflow."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from wfp_reconcile.errors import WfpError

from .actions import ActionsEnv

__all__ = ["PullRequest", "load_event", "pull_request_from_event"]


@dataclasses.dataclass(frozen=True)
class PullRequest:
    number: int
    base_sha: str
    head_sha: str
    author: str


def load_event(env: ActionsEnv) -> Mapping[str, Any]:
    """The webhook payload of the event that started the workflow."""
    if env.event_path is None:
        raise WfpError(
            "GITHUB_EVENT_PATH is not set: run this in GitHub Actions, or pass the pull "
            "request number explicitly."
        )
    try:
        data = json.loads(env.event_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WfpError(f"cannot read the event payload {env.event_path}: {exc}")
    if not isinstance(data, dict):
        raise WfpError(f"the event payload {env.event_path} is not a JSON object.")
    return data


def pull_request_from_event(event: Mapping[str, Any]) -> PullRequest:
    """The pull request a ``pull_request`` event is about."""
    pr = event.get("pull_request")
    try:
        if not isinstance(pr, Mapping):
            raise KeyError("pull_request")
        return PullRequest(
            number=int(pr["number"]),
            base_sha=str(pr["base"]["sha"]),
            head_sha=str(pr["head"]["sha"]),
            author=str(pr["user"]["login"]),
        )
    except (KeyError, TypeError, ValueError):
        raise WfpError(
            "the event payload is not about a pull request; run this step only on "
            "pull_request events, or pass --pr."
        )
