# Every handler has the same signature so the router can call any of them; many ignore
# some of their arguments.
# ruff: noqa: ARG001
"""Editing a script's settings without uploading code.

* ``PATCH …/dispatch/namespaces/{ns}/scripts/{s}/settings`` and
  ``PATCH …/workers/scripts/{s}/settings``: multipart with one JSON part named
  ``settings`` (TS SDK ``settings.edit``; the Python SDK sends it with
  ``multipart_syntax="json"``).
* ``GET|PATCH …/workers/scripts/{s}/script-settings``: a JSON body with the script-level
  subset (logpush, observability, tags, tail_consumers), what wrangler's deploy patches
  (its mock ``mockPatchScriptSettings``).

Fields left out stay as they are. ``bindings``, when given, replace the binding list; a
``secret_text``/``secret_key`` binding given without its value keeps the stored value
(values are never readable, so a read-modify-write of settings must not erase them).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .formdata import FormDataError, parse_form_data
from .handlers import namespace_of, read_json, script_of
from .paths import NS_SCRIPT, WORKER
from .registry import route
from .responses import SECRET_TYPES, ok, settings_object
from .state import EmulatorState
from .store import REGULAR, ScriptRow
from .validation import ApiProblem, check_bindings, check_metadata, check_tags

__all__ = ["merge_settings"]

_SETTINGS_FIELDS = frozenset(
    {
        "bindings", "compatibility_date", "compatibility_flags", "limits", "logpush",
        "observability", "placement", "tags", "tail_consumers", "usage_model",
    }
)  # fmt: skip
_REGULAR_ONLY = frozenset({"annotations"})
_SCRIPT_LEVEL = frozenset({"logpush", "observability", "tags", "tail_consumers"})
_VALUE_FIELDS = ("text", "key_base64", "key_jwk")


def _keep_secret_values(
    bindings: list[dict[str, Any]], previous: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    stored = {b.get("name"): b for b in previous if b.get("type") in SECRET_TYPES}
    out = []
    for binding in bindings:
        if binding.get("type") in SECRET_TYPES and not any(f in binding for f in _VALUE_FIELDS):
            old = stored.get(binding["name"])
            if old is None or old.get("type") != binding["type"]:
                raise ApiProblem(
                    400, 10021, f"Secret binding {binding['name']!r} has no value to keep."
                )
            binding = old
        out.append(binding)
    return out


def merge_settings(
    row: ScriptRow, patch: Any, *, allowed: frozenset[str]
) -> tuple[dict[str, Any], list[str] | None]:
    """The script's metadata with ``patch`` applied, and its new tags (``None``: unchanged)."""
    if not isinstance(patch, dict):
        raise ApiProblem(400, 10021, "settings must be a JSON object.")
    unknown = sorted(set(patch) - allowed)
    if unknown:
        raise ApiProblem(400, 10021, f"Unknown settings field(s): {', '.join(unknown)}.")
    metadata = dict(row.metadata)
    tags: list[str] | None = None
    for key, value in patch.items():
        if key == "tags":
            tags = list(check_tags([] if value is None else value))
        elif key == "bindings":
            check_bindings(value)
            metadata["bindings"] = _keep_secret_values(value, metadata.get("bindings", []))
        elif value is None:
            metadata.pop(key, None)
        else:
            metadata[key] = value
    check_metadata(metadata)
    return metadata, tags


async def _settings_part(request: Request) -> Any:
    content_type = request.headers.get("content-type", "")
    try:
        parts = parse_form_data(await request.body(), content_type)
    except FormDataError as exc:
        raise ApiProblem(400, 10026, f"Could not parse the multipart body: {exc}.")
    found = [p for p in parts if p.name == "settings"]
    if len(found) != 1:
        # What Cloudflare says of a missing metadata part (cloudflare-typescript#158);
        # the TS SDK 7.x sends settings[...] fields instead of one JSON part (#2799).
        raise ApiProblem(400, 10021, "could not read content for part settings")
    try:
        return json.loads(found[0].content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, 10026, f"Could not parse the settings part as JSON: {exc}.")


async def _patch(
    request: Request,
    p: dict[str, str],
    state: EmulatorState,
    namespace: str,
    patch: Any,
    allowed: frozenset[str],
) -> ScriptRow:
    row = script_of(state, p, namespace)
    metadata, tags = merge_settings(row, patch, allowed=allowed)
    updated = state.store.update_script(p["account"], namespace, row.name, metadata, tags)
    if updated is None:  # deleted in between
        raise ApiProblem(404, 10007, f"Worker {row.name!r} not found.")
    return updated


@route("PATCH", NS_SCRIPT + "/settings", "patch_settings")
async def patch_settings(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    ns = namespace_of(state, p)
    patch = await _settings_part(request)
    return ok(settings_object(await _patch(request, p, state, ns, patch, _SETTINGS_FIELDS)))


@route("PATCH", WORKER + "/settings", "patch_worker_settings")
async def patch_worker_settings(
    request: Request, p: dict[str, str], state: EmulatorState
) -> Response:
    patch = await _settings_part(request)
    allowed = _SETTINGS_FIELDS | _REGULAR_ONLY
    return ok(settings_object(await _patch(request, p, state, REGULAR, patch, allowed)))


def _script_settings(row: ScriptRow) -> dict[str, Any]:
    full = settings_object(row)
    return {k: v for k, v in full.items() if k in _SCRIPT_LEVEL}


@route("GET", WORKER + "/script-settings", "get_script_settings")
async def get_script_settings(
    request: Request, p: dict[str, str], state: EmulatorState
) -> Response:
    return ok(_script_settings(script_of(state, p, REGULAR)))


@route("PATCH", WORKER + "/script-settings", "patch_script_settings")
async def patch_script_settings(
    request: Request, p: dict[str, str], state: EmulatorState
) -> Response:
    patch = await read_json(request)
    return ok(_script_settings(await _patch(request, p, state, REGULAR, patch, _SCRIPT_LEVEL)))
