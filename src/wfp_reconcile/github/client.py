"""The few GitHub REST calls: one comment per key, one drift issue per key."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
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
    redact,
    register_secret,
)

from .markdown import comment_body, marker

__all__ = ["GitHubClient", "UpsertResult"]


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
        title = redact(title)
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
        self._request("POST", f"{base}/comments", json={"body": redact(comment)})
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
