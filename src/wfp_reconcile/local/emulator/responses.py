"""Cloudflare's envelope and the shapes of script objects, as the emulator answers them."""

from __future__ import annotations

import math
from typing import Any

from starlette.responses import JSONResponse

from .store import ScriptRow

__all__ = [
    "SECRET_TYPES",
    "fail",
    "list_item",
    "ok",
    "public_bindings",
    "script_object",
    "settings_object",
]

_SECRET_FIELDS = {"text", "key_base64", "key_jwk"}
SECRET_TYPES = frozenset({"secret_text", "secret_key"})
_SECRET_TYPES = SECRET_TYPES


def ok(result: Any, result_info: dict[str, Any] | None = None, status: int = 200) -> JSONResponse:
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return JSONResponse(body, status_code=status)


def fail(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
        "result": None,
    }
    return JSONResponse(body, status_code=status, headers=headers)


def retry_after_headers(seconds: float) -> dict[str, str]:
    """``Retry-After`` in whole seconds (HTTP) plus ``retry-after-ms`` for precision."""
    return {
        "Retry-After": str(max(0, math.ceil(seconds))),
        "retry-after-ms": str(max(0, round(seconds * 1000))),
    }


def public_bindings(bindings: Any) -> list[dict[str, Any]]:
    """Bindings as Cloudflare shows them: secrets listed, their values never."""
    out: list[dict[str, Any]] = []
    for binding in bindings if isinstance(bindings, list) else []:
        if isinstance(binding, dict):
            if binding.get("type") in _SECRET_TYPES:
                binding = {k: v for k, v in binding.items() if k not in _SECRET_FIELDS}
            out.append(binding)
    return out


def script_object(row: ScriptRow, *, include_tags: bool = True) -> dict[str, Any]:
    meta = row.metadata
    obj: dict[str, Any] = {
        "id": row.name,
        "etag": row.etag,
        "created_on": row.created_on,
        "modified_on": row.modified_on,
        "handlers": ["fetch"],
        "compatibility_date": meta.get("compatibility_date", "2021-11-02"),
        "compatibility_flags": list(meta.get("compatibility_flags", [])),
        "usage_model": meta.get("usage_model", "bundled"),
        "has_modules": "main_module" in meta,
        "has_assets": bool(meta.get("assets")),
        "logpush": bool(meta.get("logpush", False)),
        "tail_consumers": list(meta.get("tail_consumers", [])),
    }
    if "observability" in meta:
        obj["observability"] = meta["observability"]
    if include_tags:
        obj["tags"] = list(row.tags)
    return obj


def list_item(
    row: ScriptRow, namespace: str, *, include_tags: bool, wrapped: bool
) -> dict[str, Any]:
    """One item of "list scripts": flat (what Cloudflare's example project reads) or
    wrapped (``workers_namespace-script-response`` in the OpenAPI)."""
    script = script_object(row, include_tags=include_tags)
    if not wrapped:
        return script
    return {
        "created_on": row.created_on,
        "modified_on": row.modified_on,
        "dispatch_namespace": namespace,
        "script": script,
    }


# Settings fields that are copied from the metadata only when set: the SDK types give
# them no empty form (``placement: {}`` matches none of the placement variants).
_OPTIONAL_SETTINGS = ("placement", "observability")


def settings_object(row: ScriptRow) -> dict[str, Any]:
    meta = row.metadata
    out: dict[str, Any] = {
        "bindings": public_bindings(meta.get("bindings", [])),
        "compatibility_date": meta.get("compatibility_date", "2021-11-02"),
        "compatibility_flags": list(meta.get("compatibility_flags", [])),
        "limits": dict(meta.get("limits", {})),
        "logpush": bool(meta.get("logpush", False)),
        "tags": list(row.tags),
        "tail_consumers": list(meta.get("tail_consumers", [])),
        "usage_model": meta.get("usage_model", "bundled"),
    }
    for key in _OPTIONAL_SETTINGS:
        if meta.get(key):
            out[key] = meta[key]
    return out
