"""The emulated ``/client/v4`` API as one ASGI app: route, inject faults, authenticate, answer.

The order per request mirrors what a client can observe from Cloudflare: the request is
counted and may be delayed or rate limited before anything else; then the token is
checked; then the handler runs. Injected faults happen before any state changes, so a
retried request never applies twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import math
import re
from urllib.parse import unquote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

# Importing a module registers its handlers (and routes): one line per module.
from . import (  # noqa: F401
    assets as _assets,  # noqa: F401  (registers the asset handlers)
    d1api,
    hostnames_api,
    kvapi,
    namespaces,
    scriptsettings,
    secretsapi,
    services,
)
from .faults import FaultDecision
from .paths import ACCOUNT as _A, D1 as _D1, NAMESPACES as _NS, NS_SCRIPT as _S, WORKER as _W
from .registry import HANDLERS, ROUTES
from .responses import fail, retry_after_headers
from .state import EmulatorState
from .validation import ApiProblem

__all__ = ["API_PREFIX", "CloudflareApi", "classify"]

API_PREFIX = "/client/v4"

# The core table; modules add theirs with `registry.route` (see registry.py).
_TABLE: list[tuple[str, str, str]] = [
    ("GET", _NS, "list_namespaces"),
    ("POST", _NS, "create_namespace"),
    ("GET", _NS + r"/(?P<ns>[^/]+)", "get_namespace"),
    ("PUT", _NS + r"/(?P<ns>[^/]+)", "update_namespace"),
    ("DELETE", _NS + r"/(?P<ns>[^/]+)", "delete_namespace"),
    ("GET", _NS + r"/(?P<ns>[^/]+)/scripts", "list_scripts"),
    ("DELETE", _NS + r"/(?P<ns>[^/]+)/scripts", "delete_by_tag"),
    ("GET", _S, "get_script"),
    ("PUT", _S, "upload_script"),
    ("DELETE", _S, "delete_script"),
    ("GET", _S + "/content", "get_content"),
    ("GET", _S + "/settings", "get_settings"),
    ("GET", _S + "/bindings", "get_bindings"),
    ("POST", _S + "/assets-upload-session", "assets_upload_session"),
    ("POST", _A + "/workers/assets/upload", "assets_upload"),
    ("GET", _S + "/tags", "get_tags"),
    ("PUT", _S + "/tags", "put_tags"),
    ("PUT", _S + r"/tags/(?P<tag>[^/]+)", "put_tag"),
    ("DELETE", _S + r"/tags/(?P<tag>[^/]+)", "delete_tag"),
    ("GET", _A + "/workers/scripts", "list_workers"),
    ("GET", _W, "get_worker_content"),
    ("GET", _W + "/content/v2", "get_worker_content_v2"),
    ("PUT", _W, "upload_worker"),
    ("DELETE", _W, "delete_worker"),
    ("GET", _W + "/settings", "get_worker_settings"),
    ("GET", _W + "/subdomain", "get_script_subdomain"),
    ("POST", _W + "/subdomain", "enable_subdomain"),
    ("GET", _A + "/workers/subdomain", "get_subdomain"),
    ("GET", _D1, "d1_list"),
    ("POST", _D1, "d1_create"),
    ("GET", _D1 + r"/(?P<db>[^/]+)", "d1_get"),
    ("DELETE", _D1 + r"/(?P<db>[^/]+)", "d1_delete"),
    ("POST", _D1 + r"/(?P<db>[^/]+)/query", "d1_query"),
    ("POST", _D1 + r"/(?P<db>[^/]+)/raw", "d1_raw"),
]
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(f"^{pattern}/?$"), kind) for method, pattern, kind in [*_TABLE, *ROUTES]
]

_UPLOADS = {"upload_script", "upload_worker"}
_JWT_AUTH = {"assets_upload"}  # authenticated by the asset session's JWT (assets.py)


def classify(method: str, raw_path: str) -> tuple[str, dict[str, str]]:
    """The operation kind and decoded path parameters of an API path (after the prefix).

    Unknown paths are ``"unknown"``; a known path with another method is ``"bad_method"``.
    """
    kind = "unknown"
    for route_method, pattern, route_kind in _ROUTES:
        match = pattern.match(raw_path)
        if match:
            if route_method == method:
                return route_kind, {k: unquote(v) for k, v in match.groupdict().items()}
            kind = "bad_method"
    return kind, {}


def authorized(request: Request, token: str) -> bool:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token)


class CloudflareApi:
    """ASGI app serving the emulated API under ``/client/v4``."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        request = Request(scope, receive)
        raw = scope.get("raw_path") or scope["path"].encode()
        raw_path = raw.decode("latin-1").split("?", 1)[0]
        sub_path = raw_path[raw_path.find(API_PREFIX) + len(API_PREFIX) :]
        method = request.method
        kind, params = classify(method, sub_path)
        log = self.state.log
        query = scope.get("query_string", b"").decode("latin-1")
        faults = self.state.faults

        if faults.config.latency_ms:
            await asyncio.sleep(faults.config.latency_ms / 1000)
        decision = faults.decide()
        if decision.fault == "drop":
            log.add(method, raw_path, query, kind, 0, "drop")
            await _drop(send)
            return
        response: Response
        if decision.fault in ("429", "rate_limit"):
            response = fail(
                429, 971, "Please wait and consider throttling your request speed",
                retry_after_headers(decision.retry_after),
            )  # fmt: skip
        elif decision.fault == "5xx":
            response = fail(decision.status, 10002, "Internal server error (injected).")
        elif kind not in _JWT_AUTH and not authorized(request, self.state.api_token):
            response = fail(403, 10000, "Authentication error")
        elif kind in _UPLOADS and params.get("script") in faults.config.fail_scripts:
            decision = dataclasses.replace(decision, fault="fail_script", status=500)
            response = fail(500, 10002, f"Upload of {params['script']!r} failed (injected).")
        elif kind == "bad_method":
            response = fail(405, 7001, f"Method {method} not allowed for this route.")
        elif kind == "unknown":
            response = fail(404, 7003, "No route for the URI")
        else:
            try:
                response = await HANDLERS[kind](request, params, self.state)
            except ApiProblem as problem:
                response = fail(problem.status, problem.code, problem.message)
            except ClientDisconnect:
                # The client went away mid-request (killed, timed out): nothing was
                # written and there is nobody to answer.
                log.add(method, raw_path, query, kind, 0, "client_disconnect")
                return
        if decision.fault == "drop_after":
            # The work is done but the answer is lost: the hardest case for a client that
            # retries, since a retry repeats something that already happened.
            log.add(method, raw_path, query, kind, 0, "drop_after")
            await _drop(send)
            return
        if decision.remaining is not None and self.state.faults.config.rate_headers:
            response.headers.update(self._ratelimit_headers(decision))
        log.add(method, raw_path, query, kind, response.status_code, decision.fault)
        await response(scope, receive, send)

    def _ratelimit_headers(self, decision: FaultDecision) -> dict[str, str]:
        # Cloudflare's IETF-draft headers on every answer (changelog 2025-09-03):
        # remaining budget and seconds to reset, and the policy they belong to.
        cfg = self.state.faults.config
        return {
            "Ratelimit": f'"default";r={decision.remaining};t={math.ceil(decision.reset)}',
            "Ratelimit-Policy": f'"default";q={cfg.rate_limit};w={cfg.rate_window_seconds:g}',
        }


async def _drop(send: Send) -> None:
    # Headers promising a body that never comes: the client sees the connection close
    # mid-answer, as with a dropped connection.
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", b"64")],
        }
    )
