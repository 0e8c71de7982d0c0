"""GitHub Actions glue: job summary, step outputs, annotations, one updated comment.

The workflows stay thin YAML that call ``wfp-reconcile github ...``; the parts that
need care live here, tested: multiline-safe outputs, escaped workflow commands,
Markdown that fits GitHub's size limits, and a comment (or drift issue) found again
by a hidden marker so later runs update it instead of adding another.

Nothing here prints: functions return the strings the CLI writes to stdout, or
write to the files GitHub Actions names in the environment. The token is kept out
of every repr and message.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import httpx

from wfp_reconcile import __version__
from wfp_reconcile.errors import (
    ApiClientError,
    ApiConnectionError,
    ApiError,
    ApiServerError,
    AuthError,
    NotFoundError,
    RateLimitError,
    ValidationError,
    WfpError,
    register_secret,
)

__all__ = [
    "MAX_COMMENT_BYTES",
    "MAX_SUMMARY_BYTES",
    "ActionsEnv",
    "GitHubClient",
    "PullRequest",
    "UpsertResult",
    "annotation",
    "append_summary",
    "comment_body",
    "fit_markdown",
    "format_outputs",
    "load_event",
    "marker",
    "pull_request_from_event",
    "set_outputs",
]

# GitHub refuses comment and issue bodies over 65,536 characters. Counting UTF-8
# bytes instead is never more than that, however GitHub counts characters.
MAX_COMMENT_BYTES = 65_536
# A step summary is capped at 1 MiB; larger ones are dropped with an error.
MAX_SUMMARY_BYTES = 1024 * 1024

AnnotationLevel = Literal["error", "warning", "notice"]
_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_OUTPUT_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")


@dataclasses.dataclass(frozen=True)
class ActionsEnv:
    """What a GitHub Actions step learns from its environment."""

    step_summary: Path | None = None
    output: Path | None = None
    event_path: Path | None = None
    event_name: str | None = None
    repository: str | None = None
    api_url: str = "https://api.github.com"
    server_url: str = "https://github.com"
    run_id: str | None = None
    token: str | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ActionsEnv:
        def path(name: str) -> Path | None:
            value = environ.get(name)
            return Path(value) if value else None

        token = environ.get("GITHUB_TOKEN") or None
        register_secret(token)
        return cls(
            step_summary=path("GITHUB_STEP_SUMMARY"),
            output=path("GITHUB_OUTPUT"),
            event_path=path("GITHUB_EVENT_PATH"),
            event_name=environ.get("GITHUB_EVENT_NAME") or None,
            repository=environ.get("GITHUB_REPOSITORY") or None,
            api_url=(environ.get("GITHUB_API_URL") or cls.api_url).rstrip("/"),
            server_url=(environ.get("GITHUB_SERVER_URL") or cls.server_url).rstrip("/"),
            run_id=environ.get("GITHUB_RUN_ID") or None,
            token=token,
        )

    @property
    def run_url(self) -> str | None:
        if self.repository and self.run_id:
            return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"
        return None


# -- Markdown -------------------------------------------------------------------------


def marker(key: str) -> str:
    """The hidden HTML comment that identifies the comment or issue ``key`` is about."""
    if not _KEY_RE.match(key):
        raise WfpError(
            f"comment key {key!r} is not valid: use letters, digits, '.', '_', ':' or '-' "
            "(at most 64)."
        )
    return f"<!-- wfp-reconcile:{key} -->"


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def fit_markdown(text: str, limit: int, note: str) -> str:
    """``text`` cut at a line boundary so that it and ``note`` fit in ``limit`` bytes.

    Unchanged when it already fits. A code fence left open by the cut is closed, so
    the note is not swallowed into the code block.
    """
    if _size(text) <= limit:
        return text
    tail = "\n\n" + note + "\n"
    budget = limit - _size(tail) - len("```\n")
    if budget <= 0:
        raise ValueError(f"limit {limit} leaves no room for the note")
    kept: list[str] = []
    used = 0
    fence: str | None = None
    for line in text.splitlines(keepends=True):
        if used + _size(line) > budget:
            break
        kept.append(line)
        used += _size(line)
        found = _FENCE_RE.match(line)
        if found:
            fence = None if fence == found.group(1) else (fence or found.group(1))
    body = "".join(kept)
    if body and not body.endswith("\n"):
        body += "\n"
    if fence is not None:
        body += fence + "\n"
    return body.rstrip("\n") + tail


def comment_body(markdown: str, *, key: str, limit: int = MAX_COMMENT_BYTES) -> str:
    """The comment posted for ``key``: the hidden marker, then ``markdown`` made to fit.

    Deterministic: the same Markdown gives the same body on every run (no run ids or
    times), so an unchanged plan leaves the comment untouched.
    """
    head = marker(key) + "\n"
    note = (
        "> [!NOTE]\n> This output was truncated to fit in a GitHub comment. The full "
        "version is in the job summary and the plan artifact of the workflow run."
    )
    return head + fit_markdown(markdown.strip("\n") + "\n", limit - _size(head), note)


def append_summary(env: ActionsEnv, markdown: str) -> bool:
    """Append ``markdown`` to the job summary; False when not running in Actions."""
    if env.step_summary is None:
        return False
    note = "*Truncated to fit the 1 MiB job summary limit; see the plan artifact.*"
    existing = env.step_summary.stat().st_size if env.step_summary.exists() else 0
    room = max(MAX_SUMMARY_BYTES - existing, 1024)
    text = fit_markdown(markdown.rstrip("\n") + "\n", room, note)
    with env.step_summary.open("a", encoding="utf-8") as summary:
        summary.write(text + "\n")
    return True


# -- outputs and workflow commands ------------------------------------------------------


def format_outputs(outputs: Mapping[str, str]) -> str:
    """``GITHUB_OUTPUT`` records, each in heredoc form with a delimiter not in its value."""
    records: list[str] = []
    for name, value in outputs.items():
        if not _OUTPUT_NAME_RE.match(name):
            raise WfpError(
                f"step output name {name!r} is not valid: use letters, digits, '_' and '-'."
            )
        delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
        while delimiter in value:  # pragma: no cover - a random 128-bit clash
            delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
        records.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(records)


def set_outputs(env: ActionsEnv, outputs: Mapping[str, str]) -> bool:
    """Append step outputs to ``GITHUB_OUTPUT``; False when not running in Actions."""
    if env.output is None:
        return False
    with env.output.open("a", encoding="utf-8") as out:
        out.write(format_outputs(outputs))
    return True


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(
    level: AnnotationLevel,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    title: str | None = None,
) -> str:
    """A workflow command line that shows ``message`` on the run and the changed file."""
    props: list[str] = []
    if file is not None:
        props.append(f"file={_escape_property(file)}")
    if line is not None:
        props.append(f"line={int(line)}")
    if title is not None:
        props.append(f"title={_escape_property(title)}")
    joined = " " + ",".join(props) if props else ""
    return f"::{level}{joined}::{_escape_data(message)}"


# -- the event --------------------------------------------------------------------------


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


# -- the REST API -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class UpsertResult:
    """What happened to the comment or issue: created, updated, unchanged or closed."""

    action: Literal["created", "updated", "unchanged", "closed"]
    number: int
    """The comment id, or the issue number."""
    url: str


class GitHubClient:
    """The few GitHub REST calls wfp-reconcile makes, with ``GITHUB_TOKEN``.

    Comments and issues are found by their hidden marker, and only when a bot wrote
    them (``bot_login``, or any bot when None): anyone can paste the marker into a
    comment, and a human's comment must never be overwritten or trusted as the plan.
    """

    def __init__(
        self,
        *,
        token: str,
        repository: str,
        api_url: str = "https://api.github.com",
        bot_login: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not token:
            raise WfpError(
                "GITHUB_TOKEN is not set: pass it to the step as "
                "`env: GITHUB_TOKEN: ${{ github.token }}`."
            )
        if not re.match(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", repository):
            raise WfpError(f"repository {repository!r} is not of the form owner/name.")
        register_secret(token)
        self.repository = repository
        self.bot_login = bot_login
        self._http = httpx.Client(
            base_url=api_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": f"wfp-reconcile/{__version__}",
            },
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"GitHubClient(repository={self.repository!r})"

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise ApiConnectionError(
                f"GitHub API {method} {url} failed: {type(exc).__name__}; retry the job.",
                method=method,
                path=url,
            )
        if response.is_success:
            return response
        raise _api_error(method, url, response)

    def _paginate(self, url: str, params: Mapping[str, str]) -> Iterator[Mapping[str, Any]]:
        next_url: str | None = url
        query: Mapping[str, str] | None = {**params, "per_page": "100"}
        while next_url is not None:
            response = self._request("GET", next_url, params=query)
            items = response.json()
            if not isinstance(items, list):
                raise ApiError(f"GitHub API GET {next_url} did not return a list.")
            yield from (item for item in items if isinstance(item, Mapping))
            link = response.links.get("next")
            next_url = link.get("url") if link else None
            query = None  # the next link carries the query

    def _ours(self, item: Mapping[str, Any], key: str) -> bool:
        body = item.get("body")
        user = item.get("user")
        if not isinstance(body, str) or not body.startswith(marker(key)):
            return False
        if not isinstance(user, Mapping):
            return False
        if self.bot_login is not None:
            return bool(user.get("login") == self.bot_login)
        return bool(user.get("type") == "Bot")

    def find_comment(self, issue_number: int, key: str) -> Mapping[str, Any] | None:
        url = f"/repos/{self.repository}/issues/{int(issue_number)}/comments"
        for comment in self._paginate(url, {}):
            if self._ours(comment, key):
                return comment
        return None

    def upsert_comment(self, issue_number: int, markdown: str, *, key: str) -> UpsertResult:
        """Create the ``key`` comment on the pull request or issue, or update the one there."""
        body = comment_body(markdown, key=key)
        existing = self.find_comment(issue_number, key)
        if existing is None:
            url = f"/repos/{self.repository}/issues/{int(issue_number)}/comments"
            created = self._request("POST", url, json={"body": body}).json()
            return UpsertResult("created", int(created["id"]), str(created.get("html_url", "")))
        comment_id = int(existing["id"])
        if existing.get("body") == body:
            return UpsertResult("unchanged", comment_id, str(existing.get("html_url", "")))
        url = f"/repos/{self.repository}/issues/comments/{comment_id}"
        updated = self._request("PATCH", url, json={"body": body}).json()
        return UpsertResult("updated", comment_id, str(updated.get("html_url", "")))

    def find_issue(self, key: str) -> Mapping[str, Any] | None:
        """The open issue marked ``key`` (pull requests, also listed as issues, skipped)."""
        url = f"/repos/{self.repository}/issues"
        for issue in self._paginate(url, {"state": "open"}):
            if "pull_request" not in issue and self._ours(issue, key):
                return issue
        return None

    def upsert_issue(self, title: str, markdown: str, *, key: str) -> UpsertResult:
        """Open the ``key`` issue, or update the open one."""
        body = comment_body(markdown, key=key)
        existing = self.find_issue(key)
        if existing is None:
            url = f"/repos/{self.repository}/issues"
            created = self._request("POST", url, json={"title": title, "body": body}).json()
            return UpsertResult("created", int(created["number"]), str(created.get("html_url", "")))
        number = int(existing["number"])
        if existing.get("body") == body and existing.get("title") == title:
            return UpsertResult("unchanged", number, str(existing.get("html_url", "")))
        url = f"/repos/{self.repository}/issues/{number}"
        updated = self._request("PATCH", url, json={"title": title, "body": body}).json()
        return UpsertResult("updated", number, str(updated.get("html_url", "")))

    def close_issue(self, *, key: str, comment: str) -> UpsertResult | None:
        """Close the open ``key`` issue with a comment; None when there is none."""
        existing = self.find_issue(key)
        if existing is None:
            return None
        number = int(existing["number"])
        base = f"/repos/{self.repository}/issues/{number}"
        self._request("POST", f"{base}/comments", json={"body": comment})
        closed = self._request(
            "PATCH", base, json={"state": "closed", "state_reason": "completed"}
        ).json()
        return UpsertResult("closed", number, str(closed.get("html_url", "")))


def _api_error(method: str, url: str, response: httpx.Response) -> ApiError:
    status = response.status_code
    try:
        detail = str(response.json().get("message", ""))[:300]
    except (ValueError, AttributeError):
        detail = ""
    text = f"GitHub API {method} {url} answered {status}" + (f": {detail}" if detail else "")
    kwargs: dict[str, Any] = {"status": status, "method": method, "path": url}
    if status in (401, 403):
        return AuthError(
            text + ". Give the job the permission it needs (pull-requests: write for "
            "comments, issues: write for the drift issue).",
            **kwargs,
        )
    if status == 404:
        return NotFoundError(text + ". Check the repository and the number.", **kwargs)
    if status == 429:
        return RateLimitError(text + ". Retry the job later.", **kwargs)
    if 400 <= status < 500:
        if status == 422:
            return ValidationError(text + ".", **kwargs)
        return ApiClientError(text + ".", **kwargs)
    return ApiServerError(text + ". Retry the job.", **kwargs)
