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
import hashlib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .formdata import FormDataError, parse_form_data
from .listing import page_response
from .registry import HANDLERS, Handler, handler
from .responses import ok, public_bindings, script_object, settings_object
from .state import EmulatorState
from .store import REGULAR, ScriptRow
from .validation import (
    ApiProblem,
    ParsedUpload,
    check_script_name,
    check_tags,
    parse_raw_script,
    parse_tag_filter,
    parse_upload,
)

__all__ = [
    "HANDLERS",
    "Handler",
    "handler",
    "namespace_of",
    "not_found",
    "read_json",
    "read_upload",
    "script_of",
    "store_upload",
    "version_id",
]

MAX_PAGE = 1000


def version_id(row: ScriptRow) -> str:
    """A UUID-shaped id of one upload (its content hash and time), for versions and
    deployments."""
    digest = hashlib.sha256(f"{row.etag}:{row.modified_on}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def not_found(what: str) -> ApiProblem:
    """404 with 10007 (``workers.api.error.script_not_found``), Cloudflare's answer for a
    missing script on most paths."""
    return ApiProblem(404, 10007, f"{what} not found.")


_not_found = not_found


async def read_json(request: Request) -> Any:
    """The body as JSON, or 400 with 10026 (Cloudflare's "could not parse request body")."""
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, 10026, f"Could not parse the request body as JSON: {exc}.")


def namespace_of(state: EmulatorState, p: dict[str, str]) -> str:
    if not state.store.has_namespace(p["account"], p["ns"]):
        raise _not_found(f"Dispatch namespace {p['ns']!r}")
    return p["ns"]


def script_of(state: EmulatorState, p: dict[str, str], namespace: str) -> ScriptRow:
    row = state.store.get_script(p["account"], namespace, p["script"])
    if row is None:
        raise _not_found(f"Worker {p['script']!r}")
    return row


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
    rows = state.store.list_scripts_raw(
        account, namespace, filters=filters, after=after, limit=limit + 1
    )
    page, more = rows[:limit], len(rows) > limit
    cursor = base64.urlsafe_b64encode(page[-1][0].encode()).decode() if more else ""
    config = state.faults.config
    with_tags = not config.list_without_tags
    wrapped = config.list_shape == "wrapped" and namespace != REGULAR
    items = state.list_items.items(
        account, namespace, page, include_tags=with_tags, wrapped=wrapped
    )
    return page_response(items, {"cursor": cursor, "count": len(items), "per_page": limit})


@handler("list_scripts")
async def list_scripts(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return await _list(request, p["account"], namespace_of(state, p), state)


@handler("list_workers")
async def list_workers(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return await _list(request, p["account"], REGULAR, state)


@handler("get_script")
async def get_script(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = namespace_of(state, p)
    row = state.store.get_script(p["account"], ns, p["script"])
    if row is None:
        # wrangler's deploy mocks (src/__tests__/deploy/helpers.ts mockServiceScriptData)
        # answer this path with 10092, the code wrangler reads as "not created yet".
        raise ApiProblem(404, 10092, "workers.api.error.environment_not_found")
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


def resolve_upload_assets(
    state: EmulatorState,
    account: str,
    namespace: str,
    name: str,
    metadata: dict[str, Any],
    previous: ScriptRow | None,
) -> dict[str, Any]:
    from .assets import resolve_upload_assets as resolve  # assets registers handlers here

    return resolve(state, account, namespace, name, metadata, previous)


async def read_upload(
    request: Request, account: str, namespace: str, name: str, state: EmulatorState
) -> ParsedUpload:
    """Parse and check an upload body (multipart, or a raw service-worker script)."""
    check_script_name(name)
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("application/javascript", "text/javascript"):
        # A raw service-worker script (how Cloudflare reads the TS SDK 7.x upload, whose
        # multipart body arrives labelled application/javascript: cloudflare-typescript#2799).
        upload = parse_raw_script(await request.body(), max_bytes=state.max_script_bytes)
    elif media == "multipart/form-data":
        try:
            parts = parse_form_data(await request.body(), content_type)
        except FormDataError as exc:
            raise ApiProblem(400, 10026, f"Could not parse the multipart body: {exc}.")
        upload = parse_upload(parts, max_bytes=state.max_script_bytes)
    else:
        raise ApiProblem(
            415,
            10001,
            "Content-Type must be one of: application/javascript, text/javascript, "
            "multipart/form-data",
        )
    for check in state.upload_checks:
        check(account, namespace, name, upload)
    return upload


def store_upload(
    state: EmulatorState, account: str, namespace: str, name: str, upload: ParsedUpload
) -> ScriptRow:
    """Make an upload the script's live content (``keep_bindings`` applied)."""
    previous = state.store.get_script(account, namespace, name)
    metadata = _merge_kept_bindings(upload.metadata, previous)
    metadata = resolve_upload_assets(state, account, namespace, name, metadata, previous)
    return state.store.put_script(account, namespace, name, metadata, upload.modules, upload.tags)


async def _upload(
    request: Request, account: str, namespace: str, name: str, state: EmulatorState
) -> Response:
    upload = await read_upload(request, account, namespace, name, state)
    row = store_upload(state, account, namespace, name, upload)
    # wrangler prints deployment_id as the "Current Version ID" of an upload.
    return ok({**script_object(row), "startup_time_ms": 0, "deployment_id": version_id(row)})


@handler("upload_script")
async def upload_script(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = namespace_of(state, p)
    return await _upload(request, p["account"], ns, p["script"], state)


@handler("upload_worker")
async def upload_worker(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return await _upload(request, p["account"], REGULAR, p["script"], state)


@handler("delete_script")
async def delete_script(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = namespace_of(state, p)
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
    ns = namespace_of(state, p)
    return _content(state, p["account"], ns, script_of(state, p, ns))


@handler("get_worker_content")
async def get_worker_content(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return _content(state, p["account"], REGULAR, script_of(state, p, REGULAR))


@handler("get_worker_content_v2")
async def get_worker_content_v2(
    request: Request, p: dict[str, str], state: EmulatorState
) -> Response:
    # The TS SDK's workers.scripts.content.get reads this path; same body as the v1 GET.
    return _content(state, p["account"], REGULAR, script_of(state, p, REGULAR))


@handler("get_settings")
async def get_settings(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return ok(settings_object(script_of(state, p, namespace_of(state, p))))


@handler("get_worker_settings")
async def get_worker_settings(
    request: Request, p: dict[str, str], state: EmulatorState
) -> Response:
    return ok(settings_object(script_of(state, p, REGULAR)))


@handler("get_bindings")
async def get_bindings(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    row = script_of(state, p, namespace_of(state, p))
    return ok(public_bindings(row.metadata.get("bindings", [])))


# -- tags -------------------------------------------------------------------------------


@handler("get_tags")
async def get_tags(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    return ok(list(script_of(state, p, namespace_of(state, p)).tags))


@handler("put_tags")
async def put_tags(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = namespace_of(state, p)
    body = await read_json(request)
    tags = check_tags([] if body is None else body)
    stored = state.store.set_tags(p["account"], ns, p["script"], tags)
    if stored is None:
        raise _not_found(f"Worker {p['script']!r}")
    return ok(list(stored))


@handler("put_tag")
async def put_tag(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = namespace_of(state, p)
    row = script_of(state, p, ns)
    tags = check_tags([*row.tags, p["tag"]])
    state.store.set_tags(p["account"], ns, row.name, tags)
    return ok(None)


@handler("delete_tag")
async def delete_tag(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = namespace_of(state, p)
    row = script_of(state, p, ns)
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
    row = script_of(state, p, REGULAR)
    return ok({"enabled": row.workers_dev, "previews_enabled": False})


@handler("enable_subdomain")
async def enable_subdomain(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("enabled"), bool):
        raise ApiProblem(400, 10021, 'The body must be {"enabled": true|false}.')
    if not state.store.set_workers_dev(p["account"], p["script"], body["enabled"]):
        raise _not_found(f"Worker {p['script']!r}")
    return ok({"enabled": body["enabled"], "previews_enabled": False})
