# Every handler has the same signature so the router can call any of them; many ignore
# some of their arguments.
# ruff: noqa: ARG001
"""What ``wrangler deploy`` of a regular Worker reads around its upload.

* ``GET /workers/services/{name}``: the service of a Worker, or 404 with 10090
  (``workers.api.error.service_not_found``) when it does not exist yet, as in wrangler's
  deploy mocks (``__tests__/deploy/helpers.ts`` ``mockServiceScriptData``).
* ``GET /workers/scripts/{name}/deployments`` and ``…/versions``: one deployment of one
  version per upload, the shapes of wrangler's ``helpers/msw/handlers/versions.ts``.
* ``GET /workers/workers/{name}``: the beta Workers API's Worker object (TS SDK
  ``workers.beta.workers``), 404 with 10007 when absent.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .handlers import read_json, read_upload, script_of, store_upload, version_id
from .paths import ACCOUNT, WORKER
from .registry import route
from .responses import ok, public_bindings, script_object
from .state import EmulatorState
from .store import REGULAR, ScriptRow, etag_of, now_iso
from .validation import ApiProblem

__all__: list[str] = []


def _service_script(row: ScriptRow) -> dict[str, Any]:
    return {**script_object(row), "last_deployed_from": "wrangler"}


@route("GET", ACCOUNT + r"/workers/services/(?P<script>[^/]+)", "get_service")
async def get_service(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    row = state.store.get_script(p["account"], REGULAR, p["script"])
    if row is None:
        raise ApiProblem(404, 10090, "workers.api.error.service_not_found")
    return ok(
        {
            "id": row.name,
            "default_environment": {
                "environment": "production",
                "created_on": row.created_on,
                "modified_on": row.modified_on,
                "script": _service_script(row),
            },
            "created_on": row.created_on,
            "modified_on": row.modified_on,
        }
    )


def _deployment(row: ScriptRow) -> dict[str, Any]:
    return {
        "id": version_id(row),
        "source": "api",
        "strategy": "percentage",
        "author_email": "local@emulator.invalid",
        "created_on": row.modified_on,
        "annotations": {},
        "versions": [{"version_id": version_id(row), "percentage": 100}],
    }


@route("GET", WORKER + "/deployments", "list_deployments")
async def list_deployments(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    row = script_of(state, p, REGULAR)
    return ok({"deployments": [_deployment(row)]})


def _version(row: ScriptRow) -> dict[str, Any]:
    return {
        "id": version_id(row),
        "number": 1,
        "metadata": {
            "created_on": row.modified_on,
            "modified_on": row.modified_on,
            "source": "api",
            "author_email": "local@emulator.invalid",
        },
        "annotations": {},
    }


@route("POST", WORKER + "/versions", "upload_version")
async def upload_version(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    upload = await read_upload(request, p["account"], REGULAR, p["script"], state)
    vid = str(uuid.uuid4())
    state.pending_versions[vid] = (p["account"], p["script"], upload)
    return ok(
        {
            "id": vid,
            "number": len(state.pending_versions),
            "metadata": {"created_on": now_iso(), "source": "api", "has_preview": False},
            "startup_time_ms": 0,
            "resources": {
                "bindings": public_bindings(upload.metadata.get("bindings", [])),
                "script": {"etag": etag_of(upload.modules), "handlers": ["fetch"]},
            },
        }
    )


@route("POST", WORKER + "/deployments", "create_deployment")
async def create_deployment(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    body = await read_json(request)
    versions = body.get("versions") if isinstance(body, dict) else None
    if (
        not isinstance(versions, list)
        or len(versions) != 1
        or not isinstance(versions[0], dict)
        or versions[0].get("percentage") != 100
    ):
        raise ApiProblem(
            400, 10021, "The emulator deploys one version at 100% (no gradual deployments)."
        )
    vid = versions[0].get("version_id")
    pending = state.pending_versions.get(str(vid))
    if pending is None or pending[:2] != (p["account"], p["script"]):
        raise ApiProblem(404, 10007, f"Version {vid!r} of Worker {p['script']!r} not found.")
    row = store_upload(state, p["account"], REGULAR, p["script"], pending[2])
    del state.pending_versions[str(vid)]
    return ok({**_deployment(row), "id": str(uuid.uuid4()), "versions": versions})


@route("GET", WORKER + "/versions", "list_versions")
async def list_versions(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    row = script_of(state, p, REGULAR)
    return ok({"items": [_version(row)]}, {"page": 1, "per_page": 1, "count": 1, "total_count": 1})


@route("GET", ACCOUNT + r"/workers/workers/(?P<script>[^/]+)", "get_beta_worker")
async def get_beta_worker(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    row = state.store.get_script(p["account"], REGULAR, p["script"])
    if row is None:
        raise ApiProblem(404, 10007, f"Worker {p['script']!r} not found.")
    return ok(
        {
            "id": row.name,
            "name": row.name,
            "created_on": row.created_on,
            "updated_on": row.modified_on,
            "tags": list(row.tags),
            "logpush": bool(row.metadata.get("logpush", False)),
            "observability": row.metadata.get("observability") or {"enabled": False},
            "subdomain": {"enabled": row.workers_dev, "previews_enabled": False},
            "tail_consumers": list(row.metadata.get("tail_consumers", [])),
        }
    )
