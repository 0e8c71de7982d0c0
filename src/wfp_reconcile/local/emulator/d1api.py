# Every handler has the same signature so the router can call any of them; many ignore
# some of their arguments.
# ruff: noqa: ARG001
"""D1 over the REST API: list (paged), create, get (by id or name), delete, query, raw.

Shapes follow the TS SDK's ``d1/database`` types: the list is ``V4PagePagination``
(``page``/``per_page`` in, ``result_info.{page, per_page, count, total_count,
total_pages}`` out), and newer wrangler resolves a database by name with
``GET /d1/database/{name}?fields=uuid,name``.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .d1 import D1Error, split_statements
from .handlers import read_json
from .registry import handler
from .responses import ok
from .state import EmulatorState
from .validation import ApiProblem

__all__: list[str] = []

MAX_PER_PAGE = 10_000
DEFAULT_PER_PAGE = 1_000


def _positive(raw: str | None, name: str, default: int, ceiling: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= ceiling:
        raise ApiProblem(400, 10021, f"{name} must be an integer from 1 to {ceiling}.")
    return int(raw)


@handler("d1_list")
async def d1_list(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    query = request.query_params
    page = _positive(query.get("page"), "page", 1, 1_000_000)
    per_page = _positive(query.get("per_page"), "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    dbs = state.store.list_d1(p["account"], name=query.get("name") or None)
    chunk = dbs[(page - 1) * per_page : page * per_page]
    info = {
        "page": page,
        "per_page": per_page,
        "count": len(chunk),
        "total_count": len(dbs),
        "total_pages": max(1, math.ceil(len(dbs) / per_page)),
    }
    return ok(chunk, info)


@handler("d1_create")
async def d1_create(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    body = await read_json(request)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise ApiProblem(400, 10021, 'The body must be {"name": "<database name>"}.')
    created = state.store.create_d1(p["account"], name)
    if created is None:
        raise ApiProblem(400, 7502, f"A D1 database named {name!r} already exists.")
    return ok(created)


def _d1_db(state: EmulatorState, p: dict[str, str]) -> dict[str, Any]:
    found = state.store.find_d1(p["account"], p["db"])
    if found is None:
        raise ApiProblem(404, 7404, f"D1 database {p['db']!r} not found.")
    return found


@handler("d1_get")
async def d1_get(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    found: dict[str, Any] = {**_d1_db(state, p), "num_tables": 0, "file_size": 0}
    fields = request.query_params.get("fields")
    if fields:
        wanted = {f.strip() for f in fields.split(",")}
        found = {k: v for k, v in found.items() if k in wanted}
    return ok(found)


@handler("d1_delete")
async def d1_delete(request: Request, p: dict[str, str], state: EmulatorState) -> Response:
    db_uuid = _d1_db(state, p)["uuid"]
    state.store.delete_d1(p["account"], db_uuid)
    state.d1.drop(db_uuid)
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
    db_uuid = _d1_db(state, p)["uuid"]
    statements = _statements(await read_json(request))
    try:
        return state.d1.run(db_uuid, statements)
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
