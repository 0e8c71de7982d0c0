"""Shared fixtures: a real emulator over HTTP, a client pointed at it, the OpenAPI subset.

``emulator`` is function-scoped with its state in ``tmp_path``; ``emulator_client`` uses
fast retry settings so fault-injection tests finish quickly.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from wfp_reconcile.cloudflare import ClientSettings, CloudflareClient
from wfp_reconcile.local.emulator import EmulatorServer, run_emulator

EMULATOR_TOKEN = "test-emulator-token-0123456789"
EMULATOR_ACCOUNT = "0123456789abcdef0123456789abcdef"
OPENAPI_PATH = (
    Path(__file__).parent / "data" / "openapi" / "cloudflare-openapi-2024-workers-subset.json"
)


def fast_settings(api_base: str, **overrides: Any) -> ClientSettings:
    """Client settings for tests: no pacing to speak of, millisecond backoff."""
    values: dict[str, Any] = {
        "account_id": EMULATOR_ACCOUNT,
        "api_token": EMULATOR_TOKEN,
        "base_url": api_base,
        "requests_per_window": 1_000_000,
        "window_seconds": 1.0,
        "max_attempts": 8,
        "max_retry_seconds": 30.0,
        "timeout_seconds": 10.0,
        "backoff_base_seconds": 0.005,
        "backoff_max_seconds": 0.05,
    }
    values.update(overrides)
    return ClientSettings(**values)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorServer]:
    """A running emulator on a free 127.0.0.1 port, state under ``tmp_path/emulator``."""
    with run_emulator(tmp_path / "emulator", api_token=EMULATOR_TOKEN) as server:
        yield server


@pytest.fixture
def emulator_client(emulator: EmulatorServer) -> Iterator[CloudflareClient]:
    """A ``CloudflareClient`` for ``EMULATOR_ACCOUNT`` on the emulator, with fast retries."""
    with CloudflareClient(fast_settings(emulator.api_base)) as client:
        yield client


# -- OpenAPI subset -------------------------------------------------------------------------


def _openapi30_to_jsonschema(node: Any) -> Any:
    # OpenAPI 3.0 spells "or null" as `nullable: true`; JSON Schema needs it in `type`,
    # and `enum: [null]` must then be allowed as well.
    if isinstance(node, list):
        return [_openapi30_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _openapi30_to_jsonschema(v) for k, v in node.items()}
    if out.pop("nullable", False) is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    for key in ("example", "x-cfLinkErrors", "readOnly", "x-auditable"):
        out.pop(key, None)
    return out


class OpenApiSubset:
    """Validates bodies against the response and request schemas of the OpenAPI subset."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self._root = _openapi30_to_jsonschema(copy.deepcopy(spec))
        # The D1 envelope declares `result` an object while every D1 operation that uses
        # it (list, query, raw) says array: allOf can never hold, so the base yields.
        del self._root["components"]["schemas"]["d1_api-response-common"]["properties"]["result"]
        self._paths = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in spec["paths"]
        ]

    def template(self, path: str) -> str | None:
        """The spec path template matching a concrete API path (after /client/v4)."""
        matches = [t for rx, t in self._paths if rx.match(path)]
        # Prefer the most specific template (fewest placeholders).
        return min(matches, key=lambda t: t.count("{")) if matches else None

    def _schema(self, ref_holder: dict[str, Any]) -> dict[str, Any]:
        return {**ref_holder, "components": self._root["components"]}

    def response_schema(self, method: str, path: str, status: int) -> dict[str, Any] | None:
        template = self.template(path)
        if template is None:
            return None
        op = self._root["paths"][template].get(method.lower())
        if op is None:
            return None
        if status >= 400:
            # Several 4XX entries of the subset point at the *success* envelope (which
            # requires success: true); Cloudflare's documented failure shape is this one.
            return self._schema(
                {"$ref": "#/components/schemas/workers_api-response-common-failure"}
            )
        responses = op["responses"]
        entry = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
        if entry is None:
            return None
        if "$ref" in entry:
            name = entry["$ref"].rsplit("/", 1)[1]
            entry = self._root["components"]["responses"][name]
        schema = entry.get("content", {}).get("application/json", {}).get("schema")
        return self._schema(schema) if schema else None

    def request_schema(self, method: str, path: str, content_type: str) -> dict[str, Any] | None:
        template = self.template(path)
        if template is None:
            return None
        op = self._root["paths"][template].get(method.lower())
        body = (op or {}).get("requestBody")
        if not body:
            return None
        if "$ref" in body:
            body = self._root["components"]["requestBodies"][body["$ref"].rsplit("/", 1)[1]]
        schema = body.get("content", {}).get(content_type, {}).get("schema")
        return self._schema(schema) if schema else None

    def validate_response(self, method: str, path: str, status: int, body: Any) -> bool:
        """Validate; return False when the spec has no schema for it (nothing checked)."""
        schema = self.response_schema(method, path, status)
        if schema is None:
            return False
        jsonschema.validate(body, schema, cls=jsonschema.Draft7Validator)
        return True

    def validate_request(self, method: str, path: str, content_type: str, body: Any) -> bool:
        schema = self.request_schema(method, path, content_type)
        if schema is None:
            return False
        jsonschema.validate(body, schema, cls=jsonschema.Draft7Validator)
        return True


@pytest.fixture(scope="session")
def openapi() -> OpenApiSubset:
    """The official OpenAPI subset (tests/data/openapi), ready to validate bodies."""
    return OpenApiSubset(json.loads(OPENAPI_PATH.read_text()))


@pytest.fixture
def make_client(emulator: EmulatorServer) -> Iterator[Callable[..., CloudflareClient]]:
    """Build extra clients on the emulator with settings overrides; closed afterwards."""
    made: list[CloudflareClient] = []

    def make(**overrides: Any) -> CloudflareClient:
        client = CloudflareClient(fast_settings(emulator.api_base, **overrides))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
