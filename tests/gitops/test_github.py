from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from wfp_reconcile.errors import AuthError, WfpError
from wfp_reconcile.github import (
    MAX_COMMENT_BYTES,
    ActionsEnv,
    GitHubClient,
    annotation,
    append_summary,
    comment_body,
    fit_markdown,
    format_outputs,
    load_event,
    marker,
    pull_request_from_event,
    set_outputs,
)

from .fake_github import API, REPO, FakeGitHub

TOKEN = "ghs_supersecrettokenvalue1234567890"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with respx.mock(assert_all_called=False) as router:
        yield FakeGitHub(router)


def client() -> GitHubClient:
    return GitHubClient(token=TOKEN, repository=REPO, api_url=API)


def actions_env(tmp_path: Path, event: dict[str, object] | None = None) -> ActionsEnv:
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event or {}))
    return ActionsEnv.from_environ(
        {
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
            "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": API,
            "GITHUB_RUN_ID": "42",
            "GITHUB_TOKEN": TOKEN,
        }
    )


def parse_outputs(text: str) -> dict[str, str]:
    """Read GITHUB_OUTPUT the way the runner does."""
    values: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            collected: list[str] = []
            for value_line in lines:
                if value_line == delimiter:
                    break
                collected.append(value_line)
            values[name] = "\n".join(collected)
    return values


def test_environment_is_read_and_the_token_stays_out_of_the_repr(tmp_path: Path) -> None:
    env = actions_env(tmp_path)

    assert env.step_summary == tmp_path / "summary.md"
    assert env.api_url == API
    assert env.run_url == f"https://github.com/{REPO}/actions/runs/42"
    assert TOKEN not in repr(env)
    assert TOKEN not in repr(client())


def test_summary_is_appended_to_the_step_summary_file(tmp_path: Path) -> None:
    env = actions_env(tmp_path)

    assert append_summary(env, "# Plan\n\n1 to create")
    assert append_summary(env, "## Ownership\n\nok")

    text = (tmp_path / "summary.md").read_text()
    assert text.index("# Plan") < text.index("## Ownership")


def test_summary_outside_actions_is_a_no_op() -> None:
    assert not append_summary(ActionsEnv(), "# Plan")


def test_outputs_survive_multiline_values_and_delimiter_lookalikes(tmp_path: Path) -> None:
    env = actions_env(tmp_path)
    tricky = "line one\nEOF\nghadelimiter_\nname=value"

    set_outputs(env, {"plan": tricky, "changes": "2"})
    set_outputs(env, {"passed": "true"})

    assert parse_outputs((tmp_path / "output.txt").read_text()) == {
        "plan": tricky,
        "changes": "2",
        "passed": "true",
    }


def test_output_names_are_validated() -> None:
    with pytest.raises(WfpError, match="output name"):
        format_outputs({"bad\nname": "x"})


def test_annotation_escapes_properties_and_message() -> None:
    line = annotation(
        "error", "100% wrong\nsecond line", file="customers/a,b/x:y.mjs", line=3, title="Own"
    )

    assert line == (
        "::error file=customers/a%2Cb/x%3Ay.mjs,line=3,title=Own::100%25 wrong%0Asecond line"
    )
    assert annotation("notice", "plain") == "::notice::plain"


def test_pull_request_is_read_from_the_event_payload(tmp_path: Path) -> None:
    event = {
        "pull_request": {
            "number": 7,
            "base": {"sha": "a" * 40},
            "head": {"sha": "b" * 40},
            "user": {"login": "alice"},
        }
    }
    pr = pull_request_from_event(load_event(actions_env(tmp_path, event)))

    assert (pr.number, pr.base_sha, pr.head_sha, pr.author) == (7, "a" * 40, "b" * 40, "alice")
    with pytest.raises(WfpError, match="not about a pull request"):
        pull_request_from_event({"push": {}})


def test_markdown_that_fits_is_unchanged() -> None:
    assert fit_markdown("# small\n", 100, "note") == "# small\n"


def big_plan(lines: int) -> str:
    rows = "\n".join(f"+ customer-{i:05d}/script — create ✓" for i in range(lines))
    return f"# Plan\n\n```diff\n{rows}\n```\n\nSummary: {lines} to create.\n"


def test_long_markdown_is_cut_within_the_limit_with_the_fence_closed() -> None:
    body = comment_body(big_plan(5000), key="plan")

    assert len(body.encode()) <= MAX_COMMENT_BYTES
    assert body.startswith(marker("plan") + "\n")
    assert body.count("```") % 2 == 0
    assert "truncated" in body
    assert "customer-00000" in body


def test_comment_body_is_stable_across_runs() -> None:
    assert comment_body(big_plan(5000), key="plan") == comment_body(big_plan(5000), key="plan")
    assert comment_body("# Plan\n", key="plan") == comment_body("# Plan\n", key="plan")


def test_bad_marker_key_is_refused() -> None:
    with pytest.raises(WfpError, match="comment key"):
        marker("plan -->")


def test_comment_is_created_once_then_updated_not_duplicated(fake: FakeGitHub) -> None:
    fake.add_comment(7, "LGTM", {"login": "bob", "type": "User"})
    fake.add_comment(7, "another", {"login": "carol", "type": "User"})
    with client() as gh:
        first = gh.upsert_comment(7, "# Plan\n\n1 to create", key="plan")
        second = gh.upsert_comment(7, "# Plan\n\n2 to create", key="plan")
        third = gh.upsert_comment(7, "# Plan\n\n2 to create", key="plan")

    assert [first.action, second.action, third.action] == ["created", "updated", "unchanged"]
    assert first.number == second.number == third.number
    ours = [c for c in fake.comments[7] if c["body"].startswith(marker("plan"))]
    assert len(ours) == 1
    assert ours[0]["body"].endswith("2 to create\n")
    assert fake.calls.count(("POST", f"/repos/{REPO}/issues/7/comments")) == 1
    assert fake.auth_headers == {f"Bearer {TOKEN}"}


def test_a_human_comment_with_the_marker_is_never_taken_over(fake: FakeGitHub) -> None:
    fake.add_comment(7, marker("plan") + "\nNo changes (trust me)", {"login": "mallory"})
    with client() as gh:
        result = gh.upsert_comment(7, "# Plan\n\n1 to delete", key="plan")

    assert result.action == "created"
    assert fake.comments[7][0]["body"].endswith("trust me)")


def test_different_keys_keep_separate_comments(fake: FakeGitHub) -> None:
    with client() as gh:
        gh.upsert_comment(7, "plan for prod", key="plan:prod")
        gh.upsert_comment(7, "plan for staging", key="plan:staging")

    assert len(fake.comments[7]) == 2


def test_drift_issue_is_opened_updated_and_closed(fake: FakeGitHub) -> None:
    fake.issues.append(
        {
            "number": 1,
            "title": "a PR",
            "body": marker("drift"),
            "state": "open",
            "pull_request": {},
            "user": {"type": "Bot"},
        }
    )
    with client() as gh:
        opened = gh.upsert_issue("Drift detected", "1 to update", key="drift")
        again = gh.upsert_issue("Drift detected", "2 to update", key="drift")
        closed = gh.close_issue(key="drift", comment="Clean again.")
        nothing = gh.close_issue(key="drift", comment="Clean again.")

    assert (opened.action, again.action, closed and closed.action) == (
        "created",
        "updated",
        "closed",
    )
    assert opened.number == again.number
    assert nothing is None
    issue = next(i for i in fake.issues if i["number"] == opened.number)
    assert issue["state"] == "closed"
    assert issue["body"].endswith("2 to update\n")


def test_api_errors_say_what_permission_is_missing_and_never_leak_the_token() -> None:
    with respx.mock() as router:
        router.get(url__regex=r".*/comments.*").mock(
            return_value=httpx.Response(403, json={"message": f"bad token {TOKEN}"})
        )
        with client() as gh, pytest.raises(AuthError) as info:
            gh.upsert_comment(7, "x", key="plan")

    assert "pull-requests: write" in info.value.message
    assert TOKEN not in info.value.message
    assert re.search(r"\b403\b", info.value.message)


def test_client_refuses_a_missing_token() -> None:
    with pytest.raises(WfpError, match="GITHUB_TOKEN"):
        GitHubClient(token="", repository=REPO)
