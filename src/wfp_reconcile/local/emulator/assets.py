# Every handler has the router's signature; some ignore arguments.
# ruff: noqa: ARG001
"""Static assets in the emulator: upload sessions, bucket uploads, the stored sites.

What it follows (docs/assets.md): Cloudflare's direct-upload guide, the TS SDK types of
``assets-upload-session`` and ``workers/assets/upload``, and wrangler's ``syncAssets``.

* A session registers a manifest and answers, in buckets, the hashes the **namespace**
  lacks: content is kept per namespace by hash, as Cloudflare deduplicates it. When
  nothing is missing the answer's JWT is already the completion token.
* The upload endpoint is authenticated with the session's JWT (not the API token),
  wants ``?base64=true``, accepts only hashes of its session, and answers the completion
  token (201) once every file of the manifest is stored.
* JWTs are signed (HS256, a key per emulator state) and expire after an hour, as the
  guide says; an expired or forged token is refused with 401.
* A script upload with ``assets.jwt`` stores that manifest and config with the script
  (``has_assets``); ``keep_assets: true`` keeps the previous upload's; neither drops them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .formdata import FormDataError, parse_form_data
from .handlers import handler
from .responses import ok
from .state import EmulatorState
from .store import ScriptRow
from .validation import ApiProblem

__all__ = ["asset_blob", "resolve_upload_assets"]

_BUCKET_BYTES = 50 * 1024 * 1024  # Pages' MAX_BUCKET_SIZE, which workers assets share
_BUCKET_FILES = 5000  # Pages' MAX_BUCKET_FILE_COUNT
_MAX_FILES = 100_000
_MAX_FILE_BYTES = 25 * 1024 * 1024
_HASH = re.compile(r"^[0-9a-f]{32}$")


def _check_manifest(body: Any) -> dict[str, dict[str, Any]]:
    manifest = body.get("manifest") if isinstance(body, dict) else None
    if not isinstance(manifest, dict) or not manifest:
        raise ApiProblem(400, 10021, "manifest must be a non-empty object of path -> {hash, size}.")
    if len(manifest) > _MAX_FILES:
        raise ApiProblem(400, 10021, f"manifest has more than {_MAX_FILES} files.")
    out: dict[str, dict[str, Any]] = {}
    for path, entry in manifest.items():
        if not isinstance(path, str) or not path.startswith("/"):
            raise ApiProblem(400, 10021, f"manifest path {path!r} must start with '/'.")
        if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
            raise ApiProblem(400, 10021, f"manifest entry {path!r} needs a hash and a size.")
        size = entry.get("size")
        if not _HASH.match(entry["hash"]) or not isinstance(size, int) or size < 0:
            raise ApiProblem(400, 10021, f"manifest entry {path!r}: hash must be 32 hex digits.")
        if size > _MAX_FILE_BYTES:
            raise ApiProblem(400, 10021, f"asset {path!r} is larger than 25 MiB.")
        out[path] = {"hash": entry["hash"], "size": size}
    return out


def _buckets(manifest: dict[str, dict[str, Any]], missing: set[str]) -> list[list[str]]:
    sizes = {e["hash"]: int(e["size"]) for e in manifest.values() if e["hash"] in missing}
    buckets: list[list[str]] = []
    current: list[str] = []
    current_bytes = 0
    for digest in sorted(sizes):
        if current and (
            current_bytes + sizes[digest] > _BUCKET_BYTES or len(current) >= _BUCKET_FILES
        ):
            buckets.append(current)
            current, current_bytes = [], 0
        current.append(digest)
        current_bytes += sizes[digest]
    if current:
        buckets.append(current)
    return buckets


async def _session(
    request: Request, p: dict[str, str], state: EmulatorState, namespace: str
) -> Response:
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, 10026, f"Could not parse the request body as JSON: {exc}.")
    manifest = _check_manifest(body)
    store = state.assets
    session = store.new_session(p["account"], namespace, p["script"], manifest)
    missing = store.missing(p["account"], namespace, {e["hash"] for e in manifest.values()})
    if not missing:
        return ok({"jwt": store.token(session, "complete"), "buckets": []})
    return ok({"jwt": store.token(session, "upload"), "buckets": _buckets(manifest, missing)})


@handler("assets_upload_session")
async def assets_upload_session(
    request: Request, p: dict[str, str], state: EmulatorState
) -> Response:
    if not state.store.has_namespace(p["account"], p["ns"]):
        raise ApiProblem(404, 10007, f"Dispatch namespace {p['ns']!r} not found.")
    return await _session(request, p, state, p["ns"])


@handler("assets_upload")
async def assets_upload(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(
            401, 10000, "Authentication error: send the session's JWT as a bearer token."
        )
    store = state.assets
    session = store.check_token(token.strip(), "upload")
    account, namespace, _script, manifest = store.session(session)
    if account != p["account"]:
        raise ApiProblem(401, 10000, "Authentication error: the token is for another account.")
    if request.query_params.get("base64") != "true":
        raise ApiProblem(400, 10021, "Asset contents must be base64-encoded: add ?base64=true.")
    content_type = request.headers.get("content-type", "")
    try:
        parts = parse_form_data(await request.body(), content_type)
    except FormDataError as exc:
        raise ApiProblem(400, 10026, f"Could not parse the multipart body: {exc}.")
    wanted = {e["hash"]: int(e["size"]) for e in manifest.values()}
    blobs: list[tuple[str, str, bytes]] = []
    for part in parts:
        if part.name not in wanted:
            raise ApiProblem(
                400, 10021, f"File {part.name!r} is not in this upload session's manifest."
            )
        try:
            content = base64.b64decode(part.content, validate=True)
        except binascii.Error:
            raise ApiProblem(400, 10021, f"File {part.name!r} is not valid base64.")
        if len(content) != wanted[part.name]:
            raise ApiProblem(
                400, 10021, f"File {part.name!r} has {len(content)} bytes, not {wanted[part.name]}."
            )
        blobs.append((part.name, part.full_content_type or "application/null", content))
    # Checked first, stored together: a refused bucket stores nothing.
    store.put_blobs(account, namespace, blobs)
    if store.missing(account, namespace, set(wanted)):
        return ok({}, status=202)
    return ok({"jwt": store.token(session, "complete")}, status=201)


def resolve_upload_assets(
    state: EmulatorState,
    account: str,
    namespace: str,
    name: str,
    metadata: dict[str, Any],
    previous: ScriptRow | None,
) -> dict[str, Any]:
    """The metadata to store for a script upload: ``assets`` replaced by the stored site."""
    out = {k: v for k, v in metadata.items() if k not in ("assets", "keep_assets")}
    assets = metadata.get("assets")
    if isinstance(assets, dict) and assets.get("jwt"):
        session = state.assets.check_token(str(assets["jwt"]), "complete")
        s_account, s_namespace, s_script, manifest = state.assets.session(session)
        if (s_account, s_namespace, s_script) != (account, namespace, name):
            raise ApiProblem(400, 10021, "The assets completion token belongs to another script.")
        if state.assets.missing(account, namespace, {e["hash"] for e in manifest.values()}):
            raise ApiProblem(400, 10021, "Not every asset of the completion token was uploaded.")
        config = assets.get("config") if isinstance(assets.get("config"), dict) else {}
        out["assets"] = {"config": config, "manifest": manifest}
    elif metadata.get("keep_assets") is True and previous is not None:
        kept = previous.metadata.get("assets")
        if kept:
            config = assets.get("config") if isinstance(assets, dict) else None
            out["assets"] = {**kept, "config": config} if isinstance(config, dict) else kept
    return out


def asset_blob(
    state: EmulatorState, account: str, namespace: str, digest: str
) -> tuple[str, bytes] | None:
    """The stored content of one asset (for the local runtime)."""
    return state.assets.blob(account, namespace, digest)
