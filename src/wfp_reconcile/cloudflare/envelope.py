"""Cloudflare's response envelope, unwrapped in one place, and its errors mapped to the tree.

Every JSON answer looks like ``{"success", "errors", "messages", "result", "result_info"}``.
``success: false`` or an HTTP error status becomes an ``ApiError`` subclass chosen by
status and Cloudflare error code, carrying both.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx

from wfp_reconcile.errors import (
    ApiError,
    ApiServerError,
    AuthError,
    NotFoundError,
    RateLimitError,
    ValidationError,
)

__all__ = ["Envelope", "error_for", "unwrap"]

CODE_AUTH = 10000
CODE_NOT_FOUND = 10007
# Also "does not exist": 10090 service_not_found (/workers/services/{name}), 10092
# environment_not_found (a namespaced script; wrangler's deploy mocks), 7404 (D1).
_NOT_FOUND_CODES = frozenset({CODE_NOT_FOUND, 10090, 10092, 7404})
_MAX_REMOTE_TEXT = 256

# What to tell the user next, by Cloudflare code; the remote message says what went wrong.
_HINTS = {
    CODE_AUTH: "check CLOUDFLARE_API_TOKEN and that it has 'Workers Scripts: Edit' permission",
    CODE_NOT_FOUND: "check the account, namespace and script names",
    10016: "script names must match ^[a-z0-9_][a-z0-9-_]*$",
    10021: "fix the upload's metadata or modules",
    10027: "make the bundle smaller",
}


@dataclasses.dataclass(frozen=True)
class Envelope:
    """A successful answer: its ``result`` and ``result_info`` (empty when absent)."""

    result: Any
    result_info: dict[str, Any]


def _messages(body: Any) -> list[tuple[int, str]]:
    if not isinstance(body, dict):
        return []
    out: list[tuple[int, str]] = []
    for item in body.get("errors") or []:
        if isinstance(item, dict):
            code = item.get("code")
            out.append((code if isinstance(code, int) else 0, str(item.get("message", ""))))
    return out


def _error_class(status: int, codes: tuple[int, ...]) -> type[ApiError]:
    if CODE_AUTH in codes or status in (401, 403):
        return AuthError
    if _NOT_FOUND_CODES.intersection(codes) or status == 404:
        return NotFoundError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return ApiServerError
    return ValidationError


def error_for(response: httpx.Response, body: Any = None) -> ApiError:
    """The typed error for a failed answer (an HTTP error or ``success: false``)."""
    request = response.request
    method, path = request.method, request.url.path
    if body is None:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
    pairs = _messages(body)
    codes = tuple(code for code, _ in pairs if code)
    if pairs:
        remote = "; ".join(f"{msg} (code {code})" if code else msg for code, msg in pairs)
    else:
        remote = response.text.strip() or response.reason_phrase or "no details"
    if len(remote) > _MAX_REMOTE_TEXT:
        remote = remote[:_MAX_REMOTE_TEXT] + "…"
    hints = [_HINTS[c] for c in codes if c in _HINTS]
    message = f"Cloudflare API {method} {path} failed with HTTP {response.status_code}: {remote}"
    if hints:
        message += f". Next: {hints[0]}."
    cls = _error_class(response.status_code, codes)
    return cls(message, status=response.status_code, codes=codes, method=method, path=path)


def unwrap(response: httpx.Response) -> Envelope:
    """Return the envelope's result, or raise the ``ApiError`` the answer stands for."""
    if response.status_code >= 400:
        raise error_for(response)
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise error_for(response, {"errors": [{"code": 0, "message": "answer is not JSON"}]})
    if not isinstance(body, dict) or body.get("success") is not True:
        raise error_for(response, body)
    info = body.get("result_info")
    return Envelope(result=body.get("result"), result_info=info if isinstance(info, dict) else {})
