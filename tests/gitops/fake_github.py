"""A small in-memory GitHub REST API for respx: issues and their comments."""

from __future__ import annotations

import json
from typing import Any

import httpx
import respx

API = "https://api.github.test"
REPO = "acme/platform"


class FakeGitHub:
    """Stores what the client creates, pages lists two at a time, records every call."""

    page_size = 2

    def __init__(self, router: respx.MockRouter) -> None:
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.issues: list[dict[str, Any]] = []
        self.next_id = 1000
        self.calls: list[tuple[str, str]] = []
        self.auth_headers: set[str] = set()
        base = f"{API}/repos/{REPO}"
        router.route(method="GET", url__regex=rf"{base}/issues/(?P<n>\d+)/comments.*").mock(
            side_effect=self._list_comments
        )
        router.route(method="POST", url__regex=rf"{base}/issues/(?P<n>\d+)/comments$").mock(
            side_effect=self._create_comment
        )
        router.route(method="PATCH", url__regex=rf"{base}/issues/comments/(?P<cid>\d+)$").mock(
            side_effect=self._update_comment
        )
        router.route(method="GET", url__regex=rf"{base}/issues(\?.*)?$").mock(
            side_effect=self._list_issues
        )
        router.route(method="POST", url__regex=rf"{base}/issues$").mock(
            side_effect=self._create_issue
        )
        router.route(method="PATCH", url__regex=rf"{base}/issues/(?P<n>\d+)$").mock(
            side_effect=self._update_issue
        )

    def _record(self, request: httpx.Request) -> None:
        self.calls.append((request.method, request.url.path))
        self.auth_headers.add(request.headers.get("authorization", ""))

    def _page(self, request: httpx.Request, items: list[dict[str, Any]]) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        start = (page - 1) * self.page_size
        chunk = items[start : start + self.page_size]
        headers = {}
        if start + self.page_size < len(items):
            url = request.url.copy_set_param("page", str(page + 1))
            headers["link"] = f'<{url}>; rel="next"'
        return httpx.Response(200, json=chunk, headers=headers)

    def add_comment(self, number: int, body: str, user: dict[str, str]) -> None:
        self.next_id += 1
        self.comments.setdefault(number, []).append(
            {"id": self.next_id, "body": body, "user": user, "html_url": f"c/{self.next_id}"}
        )

    def _list_comments(self, request: httpx.Request, n: str) -> httpx.Response:
        self._record(request)
        return self._page(request, self.comments.get(int(n), []))

    def _create_comment(self, request: httpx.Request, n: str) -> httpx.Response:
        self._record(request)
        body = json.loads(request.content)["body"]
        self.add_comment(int(n), body, {"login": "github-actions[bot]", "type": "Bot"})
        return httpx.Response(201, json=self.comments[int(n)][-1])

    def _update_comment(self, request: httpx.Request, cid: str) -> httpx.Response:
        self._record(request)
        for comments in self.comments.values():
            for comment in comments:
                if comment["id"] == int(cid):
                    comment["body"] = json.loads(request.content)["body"]
                    return httpx.Response(200, json=comment)
        return httpx.Response(404, json={"message": "Not Found"})

    def _list_issues(self, request: httpx.Request) -> httpx.Response:
        self._record(request)
        state = request.url.params.get("state", "open")
        return self._page(request, [i for i in self.issues if i["state"] == state])

    def _create_issue(self, request: httpx.Request) -> httpx.Response:
        self._record(request)
        data = json.loads(request.content)
        self.next_id += 1
        issue = {
            "number": self.next_id,
            "title": data["title"],
            "body": data["body"],
            "state": "open",
            "user": {"login": "github-actions[bot]", "type": "Bot"},
            "html_url": f"i/{self.next_id}",
        }
        self.issues.append(issue)
        return httpx.Response(201, json=issue)

    def _update_issue(self, request: httpx.Request, n: str) -> httpx.Response:
        self._record(request)
        for issue in self.issues:
            if issue["number"] == int(n):
                issue.update(json.loads(request.content))
                return httpx.Response(200, json=issue)
        return httpx.Response(404, json={"message": "Not Found"})
