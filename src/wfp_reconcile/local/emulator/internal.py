"""The emulator's own endpoints under ``/__emulator`` (not part of Cloudflare's API).

They feed the local Workers runtime (bundles, a state version, the D1 databases that
customer scripts bind) and let tests steer and observe the emulator (faults, request
log). Every caller must send the per-run internal secret (``X-Wfp-Emulator-Secret``) or
the API token: bundles hold every customer's secrets and customer scripts in ``dev``
run on the same loopback interface, so being local proves nothing (issue 11 item 8).
"""

from __future__ import annotations

import base64
import hmac
import json
import re
from typing import Any

import pydantic
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .api import authorized
from .faults import FaultConfig
from .handlers import HANDLERS
from .hostnames import hostname_internal_routes
from .kvapi import kv_internal_routes
from .responses import fail, ok
from .state import EmulatorState
from .store import REGULAR
from .validation import ApiProblem

__all__ = ["SECRET_HEADER", "internal_routes"]

SECRET_HEADER = "x-wfp-emulator-secret"


def _bundle(state: EmulatorState, account: str, namespace: str, name: str) -> Response:
    row = state.store.get_script(account, namespace, name)
    if row is None:
        return JSONResponse({"error": f"script {name!r} not found"}, status_code=404)
    meta = row.metadata
    modules = state.store.get_modules(account, namespace, name)
    return JSONResponse(
        {
            "name": row.name,
            "etag": row.etag,
            "main_module": meta.get("main_module") or meta.get("body_part"),
            "compatibility_date": meta.get("compatibility_date"),
            "compatibility_flags": list(meta.get("compatibility_flags", [])),
            "bindings": list(meta.get("bindings", [])),
            "tags": list(row.tags),
            "limits": dict(meta.get("limits", {})),
            "tail_consumers": list(meta.get("tail_consumers", [])),
            "logpush": bool(meta.get("logpush", False)),
            "observability": meta.get("observability"),
            "assets": meta.get("assets"),
            "workers_dev": row.workers_dev,
            "modules": [
                {
                    "name": m.name,
                    "content_type": m.content_type,
                    "content_b64": base64.b64encode(m.content).decode(),
                }
                for m in modules
            ],
        }
    )


_UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


async def _d1_statement(request: Request, state: EmulatorState, kind: str) -> Response:
    """Cloudflare's D1 ``query``/``raw`` for the runtime: same body, envelope and errors,
    but neither the API token nor the fault injector nor the request log (what a script
    does is not API traffic)."""
    p = request.path_params
    try:
        return await HANDLERS[kind](request, {"account": p["account"], "db": p["db"]}, state)
    except ApiProblem as exc:
        return fail(exc.status, exc.code, exc.message)


def _register_d1(state: EmulatorState, account: str, db_uuid: str, name: str) -> Response:
    found = state.store.get_d1(account, db_uuid)
    if found is not None:
        return ok(found)
    if any(db["name"] == name for db in state.store.list_d1(account)):
        return fail(409, 7502, f"A D1 database named {name!r} already exists with another id.")
    created = state.store.create_d1(account, name, db_uuid)
    if created is None:  # the name was taken between the check and the write
        return fail(409, 7502, f"A D1 database named {name!r} already exists with another id.")
    return ok(created, status=201)


async def _ensure_d1(request: Request, state: EmulatorState) -> Response:
    p = request.path_params
    if not _UUID_RE.match(p["db"]):
        return fail(400, 7400, "A D1 database id is a UUID.")
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return fail(400, 10026, "Could not parse the request body as JSON.")
    name = body.get("name", p["db"]) if isinstance(body, dict) else None
    if not isinstance(name, str) or not name.strip():
        return fail(400, 10021, 'The body must be empty or {"name": "<database name>"}.')
    return _register_d1(state, p["account"], p["db"], name)


def internal_routes(state: EmulatorState) -> list[Route]:
    """The ``/__emulator`` routes bound to one emulator's state."""

    def guard(request: Request) -> Response | None:
        given = request.headers.get(SECRET_HEADER, "")
        if (given and hmac.compare_digest(given, state.internal_secret)) or authorized(
            request, state.api_token
        ):
            return None
        return JSONResponse({"error": "authentication required"}, status_code=403)

    async def bundle(request: Request) -> Response:
        p = request.path_params
        return guard(request) or _bundle(state, p["account"], p["namespace"], p["script"])

    async def worker(request: Request) -> Response:
        p = request.path_params
        return guard(request) or _bundle(state, p["account"], REGULAR, p["script"])

    async def asset(request: Request) -> Response:
        p = request.path_params
        found = state.assets.blob(p["account"], p["namespace"], p["hash"])
        if found is None:
            return guard(request) or JSONResponse({"error": "no such asset"}, status_code=404)
        return guard(request) or Response(found[1], headers={"content-type": found[0]})

    async def version(request: Request) -> Response:
        return guard(request) or JSONResponse({"version": state.store.version})

    async def faults(request: Request) -> Response:
        denied = guard(request)
        if denied:
            return denied
        if request.method == "POST":
            try:
                state.faults.configure(FaultConfig.model_validate_json(await request.body()))
            except pydantic.ValidationError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(state.faults.config.model_dump(mode="json"))

    async def requests(request: Request) -> Response:
        denied = guard(request)
        if denied:
            return denied
        kind = request.query_params.get("kind")
        body: dict[str, Any] = {
            "counts": state.log.counts(),
            "total": state.log.count(),
            "requests": [r.to_json() for r in state.log.records(kind)],
        }
        return JSONResponse(body)

    async def reset(request: Request) -> Response:
        denied = guard(request)
        if denied:
            return denied
        state.log.reset()
        return JSONResponse({"reset": True})

    async def d1_query(request: Request) -> Response:
        return guard(request) or await _d1_statement(request, state, "d1_query")

    async def d1_raw(request: Request) -> Response:
        return guard(request) or await _d1_statement(request, state, "d1_raw")

    async def d1_ensure(request: Request) -> Response:
        return guard(request) or await _ensure_d1(request, state)

    return [
        Route("/__emulator/d1/{account}/{db}/query", d1_query, methods=["POST"]),
        Route("/__emulator/d1/{account}/{db}/raw", d1_raw, methods=["POST"]),
        Route("/__emulator/d1/{account}/{db}", d1_ensure, methods=["PUT"]),
        Route("/__emulator/bundles/{account}/{namespace}/{script}", bundle, methods=["GET"]),
        Route("/__emulator/workers/{account}/{script}", worker, methods=["GET"]),
        Route("/__emulator/assets/{account}/{namespace}/{hash}", asset, methods=["GET"]),
        Route("/__emulator/state", version, methods=["GET"]),
        Route("/__emulator/faults", faults, methods=["GET", "POST"]),
        Route("/__emulator/requests", requests, methods=["GET"]),
        Route("/__emulator/requests/reset", reset, methods=["POST"]),
        *hostname_internal_routes(state.hostnames, guard),
        *kv_internal_routes(state, guard),
    ]
