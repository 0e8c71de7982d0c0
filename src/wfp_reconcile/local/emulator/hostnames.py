# Every handler has the same signature so the router can call any of them.
# ruff: noqa: ARG001
"""Cloudflare for SaaS custom hostnames, emulated: ``/zones/{zone_id}/custom_hostnames``.

Shapes follow Cloudflare's API as the official clients type it (TypeScript SDK
``cloudflare`` 7.x ``resources/custom-hostnames``; see wfp_reconcile.cloudflare.
custom_hostnames). What the emulator adds is a simulated lifecycle, steered through
``/__emulator/custom_hostnames``:

* a new hostname is ``status: pending``, ``ssl.status: pending_validation``, with an
  ownership TXT record (``_cf-custom-hostname.<hostname>``) and the certificate's
  validation record (``_acme-challenge.<hostname>`` TXT, or an HTTP token for ``http``);
* it becomes ``active`` (``ssl.status: active``, validation records gone) after
  ``activation_delay_seconds`` (``null``: never by itself) or at once with
  ``POST /__emulator/custom_hostnames/{zone_id}/{hostname} {"status": "active"}``;
* ``{"status": "validation_failed"}`` leaves it pending with ``ssl.status:
  validation_timed_out`` and the errors Cloudflare reports for a missing CNAME.

Zones are scoped: every zone id of Cloudflare's form (32 lowercase hex digits) is a zone of
the account with its own hostnames; any other id is Cloudflare's 404 (code 7003). Auth and
faults apply as for every emulated endpoint (``api``).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .responses import fail, ok
from .validation import ApiProblem

__all__ = ["HOSTNAME_ROUTES", "HostnameStore", "hostname_handlers", "hostname_internal_routes"]

_Z = r"/zones/(?P<zone>[^/]+)/custom_hostnames"
HOSTNAME_ROUTES: list[tuple[str, str, str]] = [
    ("GET", _Z, "custom_hostnames_list"),
    ("POST", _Z, "custom_hostnames_create"),
    ("GET", _Z + r"/(?P<id>[^/]+)", "custom_hostnames_get"),
    ("PATCH", _Z + r"/(?P<id>[^/]+)", "custom_hostnames_edit"),
    ("DELETE", _Z + r"/(?P<id>[^/]+)", "custom_hostnames_delete"),
]
"""(method, path pattern under /client/v4, kind) for the emulator's router."""

_STATE_FILE = "custom_hostnames.json"
_ZONE_ID = re.compile(r"^[0-9a-f]{32}$")
_MAX_PER_PAGE = 50
_MIN_PER_PAGE = 5
_TLS_VERSIONS = {"1.0", "1.1", "1.2", "1.3"}
_NOT_FOUND_ZONE = (
    "Could not route to /zones/{zone}/custom_hostnames, perhaps your object identifier is invalid?"
)


@dataclasses.dataclass
class _Settings:
    activation_delay_seconds: float | None = None


class HostnameStore:
    """Zones and their custom hostnames; thread-safe, saved as JSON in ``state_dir``."""

    def __init__(self, state_dir: Path | None = None, *, clock: Callable[[], float] = time.time):
        self._lock = threading.Lock()
        self._path = state_dir / _STATE_FILE if state_dir is not None else None
        self.clock = clock
        """Seconds since the epoch; tests replace it to step through the lifecycle."""
        self.settings = _Settings()
        self._zones: dict[str, dict[str, dict[str, Any]]] = {}
        if self._path is not None and self._path.exists():
            saved = json.loads(self._path.read_text())
            self._zones = saved.get("zones", {})
            self.settings = _Settings(**saved.get("settings", {}))

    def _save(self) -> None:
        if self._path is None:
            return
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"zones": self._zones, "settings": dataclasses.asdict(self.settings)})
        )
        tmp.replace(self._path)

    def configure(self, activation_delay_seconds: float | None) -> None:
        with self._lock:
            self.settings = _Settings(activation_delay_seconds)
            self._save()

    def _zone(self, zone: str) -> dict[str, dict[str, Any]]:
        if not _ZONE_ID.match(zone):
            raise ApiProblem(404, 7003, _NOT_FOUND_ZONE.format(zone=zone))
        return self._zones.setdefault(zone, {})

    def _advance(self, record: dict[str, Any]) -> None:
        """Applies the configured delay: a pending hostname whose time has come is active."""
        delay = self.settings.activation_delay_seconds
        if (
            delay is not None
            and record["status"] == "pending"
            and not record.get("_failed")
            and self.clock() - record["_created"] >= delay
        ):
            _activate(record)

    def list(self, zone: str) -> list[dict[str, Any]]:
        with self._lock:
            records = list(self._zone(zone).values())
            for record in records:
                self._advance(record)
            return [_public(r) for r in sorted(records, key=lambda r: r["_created_seq"])]

    def get(self, zone: str, hostname_id: str) -> dict[str, Any]:
        with self._lock:
            record = self._zone(zone).get(hostname_id)
            if record is None:
                raise ApiProblem(404, 1436, "The custom hostname was not found.")
            self._advance(record)
            return _public(record)

    def create(self, zone: str, body: dict[str, Any]) -> dict[str, Any]:
        hostname = body.get("hostname")
        if not isinstance(hostname, str) or not hostname or hostname != hostname.lower():
            raise ApiProblem(400, 1411, "Invalid custom hostname: send a lowercase hostname.")
        ssl = _ssl(body.get("ssl"))
        metadata = _metadata(body.get("custom_metadata"))
        with self._lock:
            records = self._zone(zone)
            for other_zone in self._zones.values():
                if any(r["hostname"] == hostname for r in other_zone.values()):
                    raise ApiProblem(409, 1406, "Duplicate custom hostname found.")
            hostname_id = str(uuid.uuid4())
            seq = max((r["_created_seq"] for r in records.values()), default=0) + 1
            record: dict[str, Any] = {
                "id": hostname_id,
                "hostname": hostname,
                "status": "pending",
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock())),
                "custom_metadata": metadata,
                "ownership_verification": {
                    "type": "txt",
                    "name": f"_cf-custom-hostname.{hostname}",
                    "value": str(uuid.uuid4()),
                },
                "ownership_verification_http": {
                    "http_url": (
                        f"http://{hostname}/.well-known/cf-custom-hostname-challenge/{hostname_id}"
                    ),
                    "http_body": str(uuid.uuid4()),
                },
                "ssl": {"id": str(uuid.uuid4()), "status": "pending_validation", **ssl},
                "verification_errors": [],
                "_created": self.clock(),
                "_created_seq": seq,
            }
            _validation_records(record)
            records[hostname_id] = record
            self._save()
            return _public(record)

    def edit(self, zone: str, hostname_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            record = self._zone(zone).get(hostname_id)
            if record is None:
                raise ApiProblem(404, 1436, "The custom hostname was not found.")
            if "custom_metadata" in body:
                record["custom_metadata"] = _metadata(body["custom_metadata"])
            if "ssl" in body:
                ssl = _ssl(body["ssl"])
                record["ssl"].update(ssl)
                if record["status"] != "active":
                    _validation_records(record)
            self._advance(record)
            self._save()
            return _public(record)

    def delete(self, zone: str, hostname_id: str) -> dict[str, Any]:
        with self._lock:
            if self._zone(zone).pop(hostname_id, None) is None:
                raise ApiProblem(404, 1436, "The custom hostname was not found.")
            self._save()
            return {"id": hostname_id}

    def set_status(self, zone: str, hostname: str, status: str) -> dict[str, Any] | None:
        """The emulator's lifecycle control: ``active`` or ``validation_failed``."""
        with self._lock:
            for record in self._zones.get(zone, {}).values():
                if record["hostname"] == hostname:
                    if status == "active":
                        _activate(record)
                    else:
                        record["status"] = "pending"
                        record["_failed"] = True
                        record["ssl"]["status"] = "validation_timed_out"
                        record["ssl"]["validation_errors"] = [
                            {"message": "The certificate authority could not validate the "
                             "hostname: the validation record was not found."}
                        ]  # fmt: skip
                        record["verification_errors"] = [
                            "custom hostname does not CNAME to this zone."
                        ]
                    self._save()
                    return _public(record)
            return None


def _activate(record: dict[str, Any]) -> None:
    record["status"] = "active"
    record.pop("_failed", None)
    record["verification_errors"] = []
    ssl = record["ssl"]
    ssl["status"] = "active"
    ssl.pop("validation_records", None)
    ssl.pop("validation_errors", None)


def _validation_records(record: dict[str, Any]) -> None:
    ssl = record["ssl"]
    hostname = record["hostname"]
    if ssl.get("method") == "txt":
        ssl["validation_records"] = [
            {"txt_name": f"_acme-challenge.{hostname}", "txt_value": secrets.token_urlsafe(32)}
        ]
    else:
        token = secrets.token_urlsafe(24)
        ssl["validation_records"] = [
            {
                "http_url": f"http://{hostname}/.well-known/acme-challenge/{token}",
                "http_body": f"{token}.{secrets.token_urlsafe(32)}",
            }
        ]


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy({k: v for k, v in record.items() if not k.startswith("_")})


def _ssl(raw: Any) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ApiProblem(400, 1409, "ssl must be an object.")
    method = raw.get("method", "http")
    if method not in ("http", "txt", "email"):
        raise ApiProblem(400, 1409, f"Invalid ssl.method {method!r}: use http, txt or email.")
    if raw.get("type", "dv") != "dv":
        raise ApiProblem(400, 1409, "ssl.type must be 'dv'.")
    out: dict[str, Any] = {"method": method, "type": "dv"}
    settings = raw.get("settings") or {}
    if not isinstance(settings, dict):
        raise ApiProblem(400, 1409, "ssl.settings must be an object.")
    tls = settings.get("min_tls_version")
    if tls is not None and tls not in _TLS_VERSIONS:
        raise ApiProblem(400, 1409, f"Invalid ssl.settings.min_tls_version {tls!r}.")
    out["settings"] = {k: v for k, v in settings.items() if v is not None}
    if raw.get("certificate_authority") is not None:
        out["certificate_authority"] = raw["certificate_authority"]
    return out


def _metadata(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ApiProblem(400, 1413, "custom_metadata must be an object of strings.")
    return dict(raw)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiProblem(400, 10026, "Could not parse the request body as JSON.")
    if not isinstance(body, dict):
        raise ApiProblem(400, 10026, "The body must be a JSON object.")
    return body


def _page_params(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", "1"))
        per_page = int(request.query_params.get("per_page", "20"))
    except ValueError:
        raise ApiProblem(400, 1004, "page and per_page must be numbers.")
    if page < 1 or not _MIN_PER_PAGE <= per_page <= _MAX_PER_PAGE:
        raise ApiProblem(
            400, 1004, f"per_page must be between {_MIN_PER_PAGE} and {_MAX_PER_PAGE}."
        )
    return page, per_page


def hostname_handlers(store_of: Callable[[Any], HostnameStore]) -> dict[str, Any]:
    """The API handlers by kind; ``store_of(state)`` finds the store in the emulator state."""

    async def list_(request: Request, p: dict[str, str], state: Any) -> Response:
        page, per_page = _page_params(request)
        items = store_of(state).list(p["zone"])
        wanted = request.query_params.get("hostname")
        if wanted is not None:
            items = [i for i in items if i["hostname"] == wanted]
        wanted_id = request.query_params.get("id")
        if wanted_id is not None:
            items = [i for i in items if i["id"] == wanted_id]
        chunk = items[(page - 1) * per_page : page * per_page]
        total_pages = max(1, -(-len(items) // per_page))
        info = {
            "page": page,
            "per_page": per_page,
            "count": len(chunk),
            "total_count": len(items),
            "total_pages": total_pages,
        }
        return ok(chunk, info)

    async def create(request: Request, p: dict[str, str], state: Any) -> Response:
        return ok(store_of(state).create(p["zone"], await _body(request)))

    async def get(request: Request, p: dict[str, str], state: Any) -> Response:
        return ok(store_of(state).get(p["zone"], p["id"]))

    async def edit(request: Request, p: dict[str, str], state: Any) -> Response:
        return ok(store_of(state).edit(p["zone"], p["id"], await _body(request)))

    async def delete(request: Request, p: dict[str, str], state: Any) -> Response:
        return ok(store_of(state).delete(p["zone"], p["id"]))

    return {
        "custom_hostnames_list": list_,
        "custom_hostnames_create": create,
        "custom_hostnames_get": get,
        "custom_hostnames_edit": edit,
        "custom_hostnames_delete": delete,
    }


def hostname_internal_routes(
    store: HostnameStore, guard: Callable[[Request], Response | None]
) -> list[Route]:
    """``/__emulator`` routes: set the activation delay, steer a hostname."""

    async def settings(request: Request) -> Response:
        denied = guard(request)
        if denied:
            return denied
        if request.method == "POST":
            try:
                body = await _body(request)
            except ApiProblem as problem:
                return fail(problem.status, problem.code, problem.message)
            delay = body.get("activation_delay_seconds")
            if delay is not None and (not isinstance(delay, int | float) or delay < 0):
                return JSONResponse({"error": "activation_delay_seconds: >= 0 or null"}, 400)
            store.configure(None if delay is None else float(delay))
        return JSONResponse(dataclasses.asdict(store.settings))

    async def steer(request: Request) -> Response:
        denied = guard(request)
        if denied:
            return denied
        try:
            body = await _body(request)
        except ApiProblem as problem:
            return fail(problem.status, problem.code, problem.message)
        status = body.get("status")
        if status not in ("active", "validation_failed"):
            return JSONResponse({"error": 'status must be "active" or "validation_failed"'}, 400)
        p = request.path_params
        found = store.set_status(p["zone"], p["hostname"], status)
        if found is None:
            return JSONResponse({"error": f"no custom hostname {p['hostname']!r}"}, 404)
        return JSONResponse(found)

    return [
        Route("/__emulator/custom_hostnames/settings", settings, methods=["GET", "POST"]),
        Route("/__emulator/custom_hostnames/{zone}/{hostname}", steer, methods=["POST"]),
    ]
