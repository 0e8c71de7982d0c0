"""JSON Schemas of the two file kinds, for editors (yaml-language-server) and CI."""

from __future__ import annotations

import json
from typing import Any

import pydantic

from .model import Customer, Platform

__all__ = ["SCHEMA_FILES", "json_schemas", "render_schema"]

SCHEMA_FILES: dict[str, type[pydantic.BaseModel]] = {
    "platform.schema.json": Platform,
    "customer.schema.json": Customer,
}

_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _schema(model: type[pydantic.BaseModel], filename: str) -> dict[str, Any]:
    body = model.model_json_schema(mode="validation")
    kind = filename.split(".", 1)[0]
    return {
        "$schema": _DRAFT,
        **body,
        "title": f"wfp-reconcile {kind}.yaml",
    }


def json_schemas() -> dict[str, dict[str, Any]]:
    """The schema of each file kind, by the file name it is published under."""
    return {name: _schema(model, name) for name, model in SCHEMA_FILES.items()}


def render_schema(schema: dict[str, Any]) -> str:
    """Stable text for a schema file (sorted keys would scramble property order)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
