# Every handler has the same signature so the router can call any of them; many ignore
# some of their arguments.
# ruff: noqa: ARG001
"""Handlers of the emulated Cloudflare endpoints (namespaces, scripts, Workers, D1).

Each handler takes the request, the decoded path parameters and the emulator state, and
returns a response or raises ``ApiProblem``. Faults and auth are applied before (``api``).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from wfp_reconcile.preflight.upload_gate import rejected_upload

from .d1 import D1Error, split_statements
from .formdata import FormDataError, parse_form_data
from .responses import ok, public_bindings, script_object, settings_object
from .state import EmulatorState
from .store import REGULAR, ScriptRow
from .validation import ApiProblem, check_script_name, check_tags, parse_tag_filter, parse_upload

__all__ = ["Handler", "HANDLERS"]

Handler = Callable[[Request, dict[str, str], EmulatorState], Awaitable[Response]]
HANDLERS: dict[str, Handler] = {}

MAX_PAGE = 1000


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def _not_found(what: str) -> ApiProblem:
    return ApiProblem(404, 10007, f"{what} not found.")


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, 10026, f"Could not parse the request body as JSON: {exc}.")


def _namespace(state: EmulatorState, p: dict[str, str]) -> str:
    if state.store.get_namespace(p["account"], p["ns"]) is None:
        raise _not_found(f"Dispatch namespace {p['ns']!r}")
    return p["ns"]


def _script(state: EmulatorState, p: dict[str, str], namespace: str) -> ScriptRow:
    row = state.store.get_script(p["account"], namespace, p["script"])
    if row is None:
        raise _not_found(f"Worker {p['script']!r}")
    return row


# -- namespaces -------------------------------------------------------------------------


@handler("list_namespaces")
async def list_namespaces(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return ok(state.store.list_namespaces(p["account"]))


@handler("create_namespace")
async def create_namespace(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    body = await _json(request) if await request.body() else {}
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


# -- scripts (namespaced and regular) ------------------------------------------------------


async def _list(request: Request, account: str, namespace: str, state: EmulatorState) -> Response:
    query = request.query_params
    raw_limit = query.get("limit", str(MAX_PAGE))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE:
        raise ApiProblem(400, 10021, f"limit must be an integer from 1 to {MAX_PAGE}.")
    limit = int(raw_limit)
    filters = parse_tag_filter(query["tags"]) if query.get("tags") else []
    after = ""
    if query.get("cursor"):
        try:
            after = base64.b64decode(query["cursor"], altchars=b"-_", validate=True).decode()
            if not after:
                raise ValueError("empty cursor")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ApiProblem(400, 10021, "Invalid cursor: pass back the cursor from result_info.")
    rows = state.store.list_scripts(
        account, namespace, filters=filters, after=after, limit=limit + 1
    )
    page, more = rows[:limit], len(rows) > limit
    cursor = base64.urlsafe_b64encode(page[-1].name.encode()).decode() if more else ""
    with_tags = not state.faults.config.list_without_tags
    items = [script_object(r, include_tags=with_tags) for r in page]
    return ok(items, {"cursor": cursor, "count": len(items), "per_page": limit})


@handler("list_scripts")
async def list_scripts(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return await _list(request, p["account"], _namespace(state, p), state)


@handler("list_workers")
async def list_workers(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return await _list(request, p["account"], REGULAR, state)


@handler("get_script")
async def get_script(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = _namespace(state, p)
    row = _script(state, p, ns)
    return ok(
        {
            "created_on": row.created_on,
            "modified_on": row.modified_on,
            "dispatch_namespace": ns,
            "script": script_object(row),
        }
    )


def _merge_kept_bindings(metadata: dict[str, Any], previous: ScriptRow | None) -> dict[str, Any]:
    # keep_bindings carries bindings of the listed types over from the previous upload,
    # unless the new upload defines a binding of the same name.
    keep = set(metadata.get("keep_bindings", []))
    if previous is None or not keep:
        return metadata
    bindings = list(metadata.get("bindings", []))
    names = {b["name"] for b in bindings}
    for old in previous.metadata.get("bindings", []):
        if old.get("type") in keep and old.get("name") not in names:
            bindings.append(old)
    return {**metadata, "bindings": bindings}


async def _upload(
    request: Request, account: str, namespace: str, name: str, state: EmulatorState
) -> Response:
    check_script_name(name)
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiProblem(
            400, 10001, f"Unsupported content type {content_type!r}: use multipart/form-data."
        )
    try:
        parts = parse_form_data(await request.body(), content_type)
    except FormDataError as exc:
        raise ApiProblem(400, 10026, f"Could not parse the multipart body: {exc}.")
    upload = parse_upload(parts, max_bytes=state.max_script_bytes)
    if (failure := await rejected_upload(upload.metadata, upload.modules)) is not None:
        raise ApiProblem(400, 10021, failure)  # Cloudflare's answer when it does not start
    previous = state.store.get_script(account, namespace, name)
    metadata = _merge_kept_bindings(upload.metadata, previous)
    row = state.store.put_script(account, namespace, name, metadata, upload.modules, upload.tags)
    return ok({**script_object(row), "startup_time_ms": 0})


@handler("upload_script")
async def upload_script(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = _namespace(state, p)
    return await _upload(request, p["account"], ns, p["script"], state)


@handler("upload_worker")
async def upload_worker(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return await _upload(request, p["account"], REGULAR, p["script"], state)


@handler("delete_script")
async def delete_script(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = _namespace(state, p)
    if not state.store.delete_script(p["account"], ns, p["script"]):
        raise _not_found(f"Worker {p['script']!r}")
    return ok(None)


@handler("delete_worker")
async def delete_worker(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    if not state.store.delete_script(p["account"], REGULAR, p["script"]):
        raise _not_found(f"Worker {p['script']!r}")
    return ok(None)


@handler("delete_by_tag")
async def delete_by_tag(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    # Recorded so tests can assert it is never called; not emulated on purpose.
    raise ApiProblem(400, 10021, "Delete-by-tag is not emulated; wfp-reconcile never uses it.")


def _content(state: EmulatorState, account: str, namespace: str, row: ScriptRow) -> Response:
    modules = state.store.get_modules(account, namespace, row.name)
    if len(modules) == 1:
        return Response(modules[0].content, media_type=modules[0].content_type)
    boundary = "emulator-" + row.etag[:24]
    chunks = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{m.name}"; filename="{m.name}"'
        f"\r\nContent-Type: {m.content_type}\r\n\r\n".encode()
        + m.content
        + b"\r\n"
        for m in modules
    ]
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return Response(body, media_type=f"multipart/form-data; boundary={boundary}")


@handler("get_content")
async def get_content(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = _namespace(state, p)
    return _content(state, p["account"], ns, _script(state, p, ns))


@handler("get_worker_content")
async def get_worker_content(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return _content(state, p["account"], REGULAR, _script(state, p, REGULAR))


@handler("get_settings")
async def get_settings(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return ok(settings_object(_script(state, p, _namespace(state, p))))


@handler("get_worker_settings")
async def get_worker_settings(
    request: Request, p: dict[str, str], state: EmulatorState
) -> Response:
    return ok(settings_object(_script(state, p, REGULAR)))


@handler("get_bindings")
async def get_bindings(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    row = _script(state, p, _namespace(state, p))
    return ok(public_bindings(row.metadata.get("bindings", [])))


# -- tags -------------------------------------------------------------------------------


@handler("get_tags")
async def get_tags(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return ok(list(_script(state, p, _namespace(state, p)).tags))


@handler("put_tags")
async def put_tags(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = _namespace(state, p)
    body = await _json(request)
    tags = check_tags([] if body is None else body)
    stored = state.store.set_tags(p["account"], ns, p["script"], tags)
    if stored is None:
        raise _not_found(f"Worker {p['script']!r}")
    return ok(list(stored))


@handler("put_tag")
async def put_tag(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = _namespace(state, p)
    row = _script(state, p, ns)
    tags = check_tags([*row.tags, p["tag"]])
    state.store.set_tags(p["account"], ns, row.name, tags)
    return ok(None)


@handler("delete_tag")
async def delete_tag(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = _namespace(state, p)
    row = _script(state, p, ns)
    state.store.set_tags(p["account"], ns, row.name, [t for t in row.tags if t != p["tag"]])
    return ok(None)


# -- workers.dev ------------------------------------------------------------------------


@handler("get_subdomain")
async def get_subdomain(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return ok({"subdomain": f"account-{p['account'][:12].lower()}"})


@handler("get_script_subdomain")
async def get_script_subdomain(
    request: Request, p: dict[str, str], state: EmulatorState
) -> Response:
    row = _script(state, p, REGULAR)
    return ok({"enabled": row.workers_dev, "previews_enabled": False})


@handler("enable_subdomain")
async def enable_subdomain(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    body = await _json(request)
    if not isinstance(body, dict) or not isinstance(body.get("enabled"), bool):
        raise ApiProblem(400, 10021, 'The body must be {"enabled": true|false}.')
    if not state.store.set_workers_dev(p["account"], p["script"], body["enabled"]):
        raise _not_found(f"Worker {p['script']!r}")
    return ok({"enabled": body["enabled"], "previews_enabled": False})


# -- D1 ---------------------------------------------------------------------------------


@handler("d1_list")
async def d1_list(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    dbs = state.store.list_d1(p["account"])
    return ok(dbs, {"page": 1, "per_page": len(dbs), "count": len(dbs), "total_count": len(dbs)})


@handler("d1_create")
async def d1_create(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    body = await _json(request)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise ApiProblem(400, 10021, 'The body must be {"name": "<database name>"}.')
    created = state.store.create_d1(p["account"], name)
    if created is None:
        raise ApiProblem(400, 7502, f"A D1 database named {name!r} already exists.")
    return ok(created)


def _d1_db(state: EmulatorState, p: dict[str, str]) -> dict[str, Any]:
    found = state.store.get_d1(p["account"], p["db"])
    if found is None:
        raise ApiProblem(404, 7404, f"D1 database {p['db']!r} not found.")
    return found


@handler("d1_get")
async def d1_get(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return ok({**_d1_db(state, p), "num_tables": 0, "file_size": 0})


@handler("d1_delete")
async def d1_delete(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    _d1_db(state, p)
    state.store.delete_d1(p["account"], p["db"])
    state.d1.drop(p["db"])
    return ok(None)


def _statements(body: Any) -> list[tuple[str, list[Any]]]:
    items = body.get("batch") if isinstance(body, dict) and "batch" in body else body
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise ApiProblem(400, 10021, 'The body must be {"sql", "params"} or {"batch": [...]}.')
    out: list[tuple[str, list[Any]]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("sql"), str):
            raise ApiProblem(400, 10021, "Every statement needs an 'sql' string.")
        params = item.get("params") or []
        if not isinstance(params, list):
            raise ApiProblem(400, 10021, "'params' must be a list.")
        parts = split_statements(item["sql"])
        if len(parts) > 1 and params:
            raise ApiProblem(400, 7500, "Parameters need a single statement per 'sql'.")
        out.extend((sql, params) for sql in parts)
    return out


async def _d1_run(request: Request, p: dict[str, str], state: EmulatorState) -> list[Any]:
    _d1_db(state, p)
    statements = _statements(await _json(request))
    try:
        return state.d1.run(p["db"], statements)
    except D1Error as exc:
        raise ApiProblem(400, 7500, str(exc))


@handler("d1_query")
async def d1_query(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return ok(await _d1_run(request, p, state))


@handler("d1_raw")
async def d1_raw(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    results = await _d1_run(request, p, state)
    raw = []
    for item in results:
        rows = item["results"]
        columns = list(rows[0]) if rows else []
        raw.append(
            {**item, "results": {"columns": columns, "rows": [list(r.values()) for r in rows]}}
        )
    return ok(raw)
