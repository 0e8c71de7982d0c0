# Every handler has the same signature so the router can call any of them; many ignore
# some of their arguments.
# ruff: noqa: ARG001
"""Dispatch namespaces: list, create, get, update (rename, ``trusted_workers``), delete.

Follows the TS SDK's ``dispatch/namespaces`` (list/create/get/delete) and wrangler's
``dispatch-namespace rename`` (``PUT`` with ``{"name"}``), which is also how the docs set
trusted mode (``{"name", "trusted_workers": true}``, reference/worker-isolation).
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

from .handlers import not_found, read_json
from .registry import handler
from .responses import ok
from .state import EmulatorState
from .validation import ApiProblem

__all__: list[str] = []

_not_found = not_found


@handler("list_namespaces")
async def list_namespaces(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return ok(state.store.list_namespaces(p["account"]))


@handler("create_namespace")
async def create_namespace(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    body = await read_json(request) if await request.body() else {}
    if not isinstance(body, dict):
        raise ApiProblem(400, 10021, 'The body must be a JSON object like {"name": "..."}.')
    name = body.get("name") or f"namespace-{secrets.token_hex(4)}"
    if not isinstance(name, str) or not name.strip() or "/" in name:
        raise ApiProblem(400, 10021, f"Invalid namespace name {name!r}.")
    created = state.store.create_namespace(p["account"], name)
    if created is None:
        raise ApiProblem(409, 10021, f"A dispatch namespace named {name!r} already exists.")
    return ok(created)


@handler("get_namespace")
async def get_namespace(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    found = state.store.get_namespace(p["account"], p["ns"])
    if found is None:
        raise _not_found(f"Dispatch namespace {p['ns']!r}")
    return ok(found)


@handler("delete_namespace")
async def delete_namespace(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    if not state.store.delete_namespace(p["account"], p["ns"]):
        raise _not_found(f"Dispatch namespace {p['ns']!r}")
    return ok(None)


@handler("update_namespace")
async def update_namespace(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiProblem(400, 10021, 'The body must be a JSON object like {"name": "..."}.')
    name = body.get("name", p["ns"])
    if not isinstance(name, str) or not name.strip() or "/" in name:
        raise ApiProblem(400, 10021, f"Invalid namespace name {name!r}.")
    trusted = body.get("trusted_workers")
    if trusted is not None and not isinstance(trusted, bool):
        raise ApiProblem(400, 10021, "trusted_workers must be true or false.")
    updated = state.store.update_namespace(p["account"], p["ns"], name, trusted)
    if updated is None:
        raise _not_found(f"Dispatch namespace {p['ns']!r}")
    if updated is False:
        raise ApiProblem(409, 10021, f"A dispatch namespace named {name!r} already exists.")
    return ok(updated)
