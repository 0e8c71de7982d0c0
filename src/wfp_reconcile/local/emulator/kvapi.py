# Every handler has the same signature so the router can call any of them; many ignore
# some of their arguments.
# ruff: noqa: ARG001
"""Workers KV over the REST API: namespaces, values, bulk write/delete/get, key listing.

Paths, bodies and answers follow the TS SDK ``cloudflare`` (``resources/kv/namespaces``:
``namespaces.ts``, ``keys.ts``, ``values.ts``; ``core/pagination.ts`` for the two list
shapes):

* namespaces: ``GET`` is ``V4PagePaginationArray`` (``page``, ``per_page`` up to 100,
  ``order`` ``id|title``, ``direction``); ``POST {"title"}`` answers the namespace, 400
  code 10014 when the account has the title; ``GET|PUT|DELETE .../{id}``; an unknown id
  is 404 code 10013 ("namespace not found").
* ``GET .../values/{key}`` answers the raw bytes (``application/octet-stream``), 404 code
  10009 ("get: 'key not found'"); ``PUT`` stores the raw body (``expiration`` /
  ``expiration_ttl`` query, TTL at least 60); ``DELETE`` removes it.
* ``PUT .../bulk``: ``[{key, value, base64?, expiration?, expiration_ttl?, metadata?}]``,
  at most 10,000 pairs and 100 MB; ``POST .../bulk/delete``: ``["key", ...]``, at most
  10,000; both answer ``{successful_key_count, unsuccessful_keys: []}``.
* ``POST .../bulk/get``: ``{keys (at most 100), type: text|json, withMetadata}`` answers
  ``{values: {key: value | null}}`` (with metadata: ``{key: {value, metadata} | null}``).
* ``GET .../keys``: ``prefix``, ``limit`` (10 to 1000, default 1000), ``cursor``; answers
  ``[{name, expiration?, metadata?}]`` with ``result_info: {count, cursor}``, the cursor
  empty on the last page (``CursorLimitPagination``).

Keys are at most 512 bytes and may not be ``.`` or ``..``; values at most 25 MiB.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .handlers import read_json
from .kvrecords import KvPair
from .paths import ACCOUNT
from .registry import route
from .responses import fail, ok
from .state import EmulatorState
from .validation import ApiProblem

__all__ = ["kv_internal_routes"]

_KV = ACCOUNT + r"/storage/kv/namespaces"
_ONE = _KV + r"/(?P<kv>[^/]+)"
MAX_BULK = 10_000
MAX_BULK_GET = 100
MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 25 * 1024 * 1024
MAX_BULK_BYTES = 100 * 1000 * 1000
MIN_TTL = 60


def _namespace(state: EmulatorState, p: dict[str, str]) -> str:
    if state.store.get_kv(p["account"], p["kv"]) is None:
        raise ApiProblem(404, 10013, "namespace not found")
    return p["kv"]


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise ApiProblem(400, 10021, "A key must be a non-empty string.")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise ApiProblem(414, 10033, f"The key {key[:40]!r}... is longer than 512 bytes.")
    if key in (".", ".."):
        raise ApiProblem(400, 10021, "Illegal key name: '.' and '..' are not allowed.")
    return key


def _expiry(expiration: Any, ttl: Any) -> int | None:
    """Seconds since the epoch a pair expires at; ``expiration_ttl`` wins over both."""
    now = int(time.time())
    if ttl not in (None, ""):
        try:
            seconds = int(ttl)
        except (TypeError, ValueError):
            raise ApiProblem(400, 10021, "expiration_ttl must be an integer number of seconds.")
        if seconds < MIN_TTL:
            raise ApiProblem(400, 10021, f"expiration_ttl must be at least {MIN_TTL} seconds.")
        return now + seconds
    if expiration not in (None, ""):
        try:
            at = int(expiration)
        except (TypeError, ValueError):
            raise ApiProblem(400, 10021, "expiration must be seconds since the UNIX epoch.")
        if at < now + MIN_TTL:
            raise ApiProblem(400, 10021, "expiration must be at least 60 seconds in the future.")
        return at
    return None


def _pair(item: Any) -> KvPair:
    if not isinstance(item, dict) or "key" not in item or "value" not in item:
        raise ApiProblem(400, 10021, "Every pair needs a 'key' and a 'value'.")
    key = _check_key(item["key"])
    value = item["value"]
    if not isinstance(value, str):
        raise ApiProblem(400, 10021, f"The value of {key!r} must be a string.")
    if item.get("base64"):
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ApiProblem(400, 10021, f"The value of {key!r} is not valid base64.")
    else:
        raw = value.encode()
    if len(raw) > MAX_VALUE_BYTES:
        raise ApiProblem(413, 10033, f"The value of {key!r} is larger than 25 MiB.")
    metadata = json.dumps(item["metadata"]) if item.get("metadata") is not None else None
    return key, raw, metadata, _expiry(item.get("expiration"), item.get("expiration_ttl"))


def _bulk_answer(count: int) -> Response:
    return ok({"successful_key_count": count, "unsuccessful_keys": []})


@route("GET", _KV, "kv_list_namespaces")
async def kv_list_namespaces(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    query = request.query_params
    try:
        page = int(query.get("page") or 1)
        per_page = int(query.get("per_page") or 20)
    except ValueError:
        raise ApiProblem(400, 10021, "page and per_page must be integers.")
    if page < 1 or not 5 <= per_page <= 100:
        raise ApiProblem(400, 10021, "page must be at least 1 and per_page from 5 to 100.")
    items = state.store.list_kv(p["account"])
    order = query.get("order") or "title"
    if order not in ("id", "title"):
        raise ApiProblem(400, 10021, "order must be 'id' or 'title'.")
    items.sort(key=lambda n: str(n[order]), reverse=query.get("direction") == "desc")
    chunk = items[(page - 1) * per_page : page * per_page]
    info = {
        "page": page,
        "per_page": per_page,
        "count": len(chunk),
        "total_count": len(items),
        "total_pages": max(1, math.ceil(len(items) / per_page)),
    }
    return ok(chunk, info)


def _title(body: Any) -> str:
    title = body.get("title") if isinstance(body, dict) else None
    if not isinstance(title, str) or not title.strip():
        raise ApiProblem(400, 10019, 'The body must be {"title": "<namespace title>"}.')
    return title


@route("POST", _KV, "kv_create_namespace")
async def kv_create_namespace(
    request: Request, p: dict[str, str], state: EmulatorState
) -> Response:
    created = state.store.create_kv(p["account"], _title(await read_json(request)))
    if created is None:
        raise ApiProblem(400, 10014, "a namespace with this account ID and title already exists")
    return ok(created)


@route("GET", _ONE, "kv_get_namespace")
async def kv_get_namespace(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    _namespace(state, p)
    return ok(state.store.get_kv(p["account"], p["kv"]))


@route("PUT", _ONE, "kv_rename_namespace")
async def kv_rename_namespace(
    request: Request, p: dict[str, str], state: EmulatorState
) -> Response:
    ns = _namespace(state, p)
    if not state.store.rename_kv(p["account"], ns, _title(await read_json(request))):
        raise ApiProblem(400, 10014, "a namespace with this account ID and title already exists")
    return ok(state.store.get_kv(p["account"], ns))


@route("DELETE", _ONE, "kv_delete_namespace")
async def kv_delete_namespace(
    request: Request, p: dict[str, str], state: EmulatorState
) -> Response:
    state.store.delete_kv(p["account"], _namespace(state, p))
    return ok({})


@route("GET", _ONE + r"/values/(?P<key>[^/]+)", "kv_get")
async def kv_get(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    found = state.store.kv_get(p["account"], _namespace(state, p), _check_key(p["key"]))
    if found is None:
        raise ApiProblem(404, 10009, "get: 'key not found'")
    headers = {"content-type": "application/octet-stream"}
    if found[3] is not None:
        headers["expiration"] = str(found[3])
    return Response(found[1], headers=headers)


@route("PUT", _ONE + r"/values/(?P<key>[^/]+)", "kv_put")
async def kv_put(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = _namespace(state, p)
    key = _check_key(p["key"])
    value = await request.body()
    if len(value) > MAX_VALUE_BYTES:
        raise ApiProblem(413, 10033, f"The value of {key!r} is larger than 25 MiB.")
    query = request.query_params
    expiry = _expiry(query.get("expiration"), query.get("expiration_ttl"))
    state.store.kv_put(p["account"], ns, [(key, value, None, expiry)])
    return ok({})


@route("DELETE", _ONE + r"/values/(?P<key>[^/]+)", "kv_delete")
async def kv_delete(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    state.store.kv_delete(p["account"], _namespace(state, p), [_check_key(p["key"])])
    return ok({})


@route("PUT", _ONE + "/bulk", "kv_bulk_write")
async def kv_bulk_write(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = _namespace(state, p)
    raw = await request.body()
    if len(raw) > MAX_BULK_BYTES:
        raise ApiProblem(413, 10033, "A bulk write may be at most 100 MB.")
    body = await read_json(request)
    if not isinstance(body, list):
        raise ApiProblem(400, 10021, "The body must be a list of {key, value} pairs.")
    if len(body) > MAX_BULK:
        raise ApiProblem(400, 10021, f"A bulk write takes at most {MAX_BULK} pairs.")
    pairs = [_pair(item) for item in body]
    state.store.kv_put(p["account"], ns, pairs)
    return _bulk_answer(len(pairs))


@route("POST", _ONE + "/bulk/delete", "kv_bulk_delete")
async def kv_bulk_delete(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = _namespace(state, p)
    body = await read_json(request)
    if not isinstance(body, list) or not all(isinstance(k, str) for k in body):
        raise ApiProblem(400, 10021, "The body must be a list of key names.")
    if len(body) > MAX_BULK:
        raise ApiProblem(400, 10021, f"A bulk delete takes at most {MAX_BULK} keys.")
    keys = [_check_key(k) for k in body]
    state.store.kv_delete(p["account"], ns, keys)
    return _bulk_answer(len(keys))


@route("POST", _ONE + "/bulk/get", "kv_bulk_get")
async def kv_bulk_get(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = _namespace(state, p)
    body = await read_json(request)
    keys = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise ApiProblem(400, 10021, 'The body must be {"keys": ["<key>", ...]}.')
    if len(keys) > MAX_BULK_GET:
        raise ApiProblem(400, 10021, f"A bulk get takes at most {MAX_BULK_GET} keys.")
    as_json = body.get("type") == "json"
    with_metadata = bool(body.get("withMetadata"))
    values: dict[str, Any] = {}
    for key in keys:
        found = state.store.kv_get(p["account"], ns, _check_key(key))
        if found is None:
            values[key] = None
            continue
        try:
            text = found[1].decode()
            value: Any = json.loads(text) if as_json else text
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiProblem(
                400, 10021, f"The value of {key!r} is not {'JSON' if as_json else 'text'}."
            )
        if with_metadata:
            meta = json.loads(found[2]) if found[2] is not None else None
            values[key] = {"value": value, "metadata": meta}
            if found[3] is not None:
                values[key]["expiration"] = found[3]
        else:
            values[key] = value
    return ok({"values": values})


def _cursor(after: str) -> str:
    return base64.urlsafe_b64encode(after.encode()).decode()


def _after(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiProblem(400, 10021, "The cursor is not one this API returned.")


@route("GET", _ONE + "/keys", "kv_list_keys")
async def kv_list_keys(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = _namespace(state, p)
    query = request.query_params
    try:
        limit = int(query.get("limit") or 1000)
    except ValueError:
        raise ApiProblem(400, 10021, "limit must be an integer.")
    if not 10 <= limit <= 1000:
        raise ApiProblem(400, 10021, "limit must be from 10 to 1000.")
    cursor = query.get("cursor") or ""
    after = _after(cursor) if cursor else None
    # One more than asked tells whether another page follows.
    rows = state.store.kv_keys(
        p["account"], ns, prefix=query.get("prefix") or "", after=after, limit=limit + 1
    )
    page, more = rows[:limit], len(rows) > limit
    items: list[dict[str, Any]] = []
    for name, metadata, expiration in page:
        item: dict[str, Any] = {"name": name}
        if expiration is not None:
            item["expiration"] = expiration
        if metadata is not None:
            item["metadata"] = json.loads(metadata)
        items.append(item)
    next_cursor = _cursor(page[-1][0]) if more and page else ""
    return ok(items, {"count": len(items), "cursor": next_cursor})


def kv_internal_routes(
    state: EmulatorState, guard: Callable[[Request], Response | None]
) -> list[Route]:
    """``/__emulator/kv/...``: the local runtime's KV binding reads values here, and the
    local stack makes the namespace platform.yaml names exist under its id."""

    async def value(request: Request) -> Response:
        denied = guard(request)
        if denied:
            return denied
        q = request.path_params
        found = state.store.kv_get(q["account"], q["kv"], q["key"])
        if found is None:
            return JSONResponse({"error": "no such key"}, status_code=404)
        return Response(found[1], headers={"content-type": "application/octet-stream"})

    async def ensure(request: Request) -> Response:
        denied = guard(request)
        if denied:
            return denied
        q = request.path_params
        if len(q["kv"]) != 32 or any(c not in "0123456789abcdef" for c in q["kv"]):
            return fail(400, 10021, "A KV namespace id is 32 lowercase hex digits.")
        existing = state.store.get_kv(q["account"], q["kv"])
        if existing is not None:
            return ok(existing)
        created = state.store.create_kv(q["account"], f"wfp-local-{q['kv']}", q["kv"])
        if created is None:
            return fail(409, 10014, "a namespace with this account ID and title already exists")
        return ok(created, status=201)

    return [
        Route("/__emulator/kv/{account}/{kv}/values/{key:path}", value, methods=["GET"]),
        Route("/__emulator/kv/{account}/{kv}", ensure, methods=["PUT"]),
    ]
