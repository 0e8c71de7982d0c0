# Every handler has the same signature so the router can call any of them; many ignore
# some of their arguments.
# ruff: noqa: ARG001
"""Secrets of namespaced scripts and regular Workers.

``PUT …/secrets`` (``{name, text, type: "secret_text"}`` or a ``secret_key``),
``GET …/secrets``, ``GET|DELETE …/secrets/{name}`` under both
``/workers/dispatch/namespaces/{ns}/scripts/{s}`` and ``/workers/scripts/{s}``, as the
TS SDK's ``secrets`` resources and wrangler's secret mocks (``helpers/msw/secrets.ts``)
have them. A secret is a binding of the script: it shows in settings and bindings as
``{name, type}`` and its value is never returned. A later upload keeps it only when its
metadata names the type in ``keep_bindings``, as on Cloudflare.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .handlers import namespace_of, read_json, script_of
from .paths import NS_SCRIPT, WORKER
from .registry import route
from .responses import SECRET_TYPES, ok
from .state import EmulatorState
from .store import REGULAR
from .validation import ApiProblem

__all__: list[str] = []

MAX_SECRET_BYTES = 5 * 1024  # Workers platform limit: 5 KB per environment variable
MAX_BINDINGS = 128  # variables and secrets per Worker
_KEY_FIELDS = ("algorithm", "format", "usages", "key_base64", "key_jwk")


def _secret_binding(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        raise ApiProblem(400, 10021, 'The body must be {"name", "text", "type": "secret_text"}.')
    kind = body.get("type", "secret_text")
    if kind not in SECRET_TYPES:
        raise ApiProblem(
            400, 10021, f"Secret type must be secret_text or secret_key, not {kind!r}."
        )
    if kind == "secret_text":
        text = body.get("text")
        if not isinstance(text, str):
            raise ApiProblem(400, 10021, "A secret_text secret needs a 'text' string.")
        if len(text.encode()) > MAX_SECRET_BYTES:
            raise ApiProblem(400, 10054, f"Secret {body['name']!r} is over 5 KB.")
        return {"type": kind, "name": body["name"], "text": text}
    key = {k: body[k] for k in _KEY_FIELDS if k in body}
    if not ({"key_base64", "key_jwk"} & set(key)) or "algorithm" not in key:
        raise ApiProblem(400, 10021, "A secret_key secret needs algorithm and key material.")
    return {"type": kind, "name": body["name"], **key}


def _public(binding: dict[str, Any]) -> dict[str, Any]:
    return {"name": binding["name"], "type": binding["type"]}


def _where(state: EmulatorState, p: dict[str, str], regular: bool) -> str:
    return REGULAR if regular else namespace_of(state, p)


async def _put(request: Request, p: dict[str, str], state: EmulatorState, ns: str) -> Response:
    row = script_of(state, p, ns)
    secret = _secret_binding(await read_json(request))
    bindings = [b for b in row.metadata.get("bindings", []) if isinstance(b, dict)]
    clash = next((b for b in bindings if b.get("name") == secret["name"]), None)
    if clash is not None and clash.get("type") not in SECRET_TYPES:
        raise ApiProblem(
            400,
            10053,
            f"Binding name {secret['name']!r} already in use. Please use a different name "
            "and try again.",
        )
    rest = [b for b in bindings if b.get("name") != secret["name"]]
    if len(rest) + 1 > MAX_BINDINGS:
        raise ApiProblem(400, 10055, f"A Worker can have at most {MAX_BINDINGS} variables.")
    metadata = {**row.metadata, "bindings": [*rest, secret]}
    state.store.update_script(p["account"], ns, row.name, metadata)
    return ok(_public(secret))


def _secrets(state: EmulatorState, p: dict[str, str], ns: str) -> list[dict[str, Any]]:
    row = script_of(state, p, ns)
    return [
        b
        for b in row.metadata.get("bindings", [])
        if isinstance(b, dict) and b.get("type") in SECRET_TYPES
    ]


def _one(state: EmulatorState, p: dict[str, str], ns: str) -> dict[str, Any]:
    found = next((b for b in _secrets(state, p, ns) if b["name"] == p["secret"]), None)
    if found is None:
        raise ApiProblem(404, 10056, f"Secret {p['secret']!r} not found.")
    return found


async def _delete(p: dict[str, str], state: EmulatorState, ns: str) -> Response:
    _one(state, p, ns)
    row = script_of(state, p, ns)
    kept = [b for b in row.metadata.get("bindings", []) if b.get("name") != p["secret"]]
    state.store.update_script(p["account"], ns, row.name, {**row.metadata, "bindings": kept})
    return ok(None)


_SECRET = r"/secrets/(?P<secret>[^/]+)"


@route("PUT", NS_SCRIPT + "/secrets", "put_secret")
async def put_secret(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return await _put(request, p, state, _where(state, p, False))


@route("GET", NS_SCRIPT + "/secrets", "list_secrets")
async def list_secrets(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return ok([_public(b) for b in _secrets(state, p, _where(state, p, False))])


@route("GET", NS_SCRIPT + _SECRET, "get_secret")
async def get_secret(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return ok(_public(_one(state, p, _where(state, p, False))))


@route("DELETE", NS_SCRIPT + _SECRET, "delete_secret")
async def delete_secret(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return await _delete(p, state, _where(state, p, False))


@route("PUT", WORKER + "/secrets", "put_worker_secret")
async def put_worker_secret(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return await _put(request, p, state, REGULAR)


@route("GET", WORKER + "/secrets", "list_worker_secrets")
async def list_worker_secrets(
    request: Request, p: dict[str, str], state: EmulatorState
) -> Response:
    return ok([_public(b) for b in _secrets(state, p, REGULAR)])


@route("GET", WORKER + _SECRET, "get_worker_secret")
async def get_worker_secret(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return ok(_public(_one(state, p, REGULAR)))


@route("DELETE", WORKER + _SECRET, "delete_worker_secret")
async def delete_worker_secret(
    request: Request, p: dict[str, str], state: EmulatorState
) -> Response:
    return await _delete(p, state, REGULAR)
