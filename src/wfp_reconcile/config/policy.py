"""Which values of a file only platform admins may change, derived from the model.

A field is admin-only when its annotation carries ``ADMIN_ONLY`` (see
``config.model.AdminOnly``); nothing else lists them. ``admin_only_values`` walks a
model class together with a document's data and returns every admin-only value
that the document sets, keyed by its dotted path (``plan``, ``scripts.web.d1``).

The values are taken from the document as written (after the one YAML reader, before
``${VAR}`` expansion): two revisions that spell a policy value the same way mean the
same thing in every environment, so comparing them needs no secrets.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from .model import AdminOnly, Claimed

__all__ = ["admin_only_fields", "admin_only_values", "claimed_names"]

_WILDCARD = "<name>"


def _arguments(annotation: Any) -> Iterator[Any]:
    """The types an annotation may hold a value of (through unions and ``Annotated``)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _arguments(typing.get_args(annotation)[0])
    elif origin is typing.Union or origin is types.UnionType:
        for arg in typing.get_args(annotation):
            yield from _arguments(arg)
    else:
        yield annotation


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _children(tp: Any) -> Iterator[tuple[str, Any]]:
    """``(step kind, element type)`` of a container type: 'key' for mappings, 'item' for
    sequences; models are handled by the caller."""
    origin = typing.get_origin(tp)
    if origin is None:
        return
    args = typing.get_args(tp)
    if isinstance(origin, type) and issubclass(origin, Mapping) and len(args) == 2:
        yield "key", args[1]
    elif origin in (tuple, list) and args:
        yield "item", args[0]


def _walk(tp: Any, data: Any, path: tuple[str, ...], out: dict[str, str], depth: int = 0) -> None:
    if depth > 16:  # models are a few levels deep; the YAML reader bounds data anyway
        return
    for candidate in _arguments(tp):
        if _is_model(candidate) and isinstance(data, Mapping):
            for name, field in candidate.model_fields.items():
                key = field.alias or name
                if data.get(key) is None:
                    continue  # absent and null both mean the model's default
                label = (*path, key)
                if any(isinstance(m, AdminOnly) for m in field.metadata):
                    out[".".join(label)] = _canonical(data[key])
                elif _has_marker(field.annotation):
                    _walk(field.annotation, data[key], label, out, depth + 1)
            return
        for step, element in _children(candidate):
            if step == "key" and isinstance(data, Mapping):
                for key, value in data.items():
                    _walk(element, value, (*path, str(key)), out, depth + 1)
                return
            if step == "item" and isinstance(data, list):
                for i, value in enumerate(data):
                    _walk(element, value, (*path, str(i)), out, depth + 1)
                return


@functools.cache
def _has_marker(tp: Any) -> bool:
    """Whether a type, or anything inside it, has an admin-only field."""
    for candidate in _arguments(tp):
        if _is_model(candidate):
            for field in candidate.model_fields.values():
                if any(isinstance(m, AdminOnly) for m in field.metadata):
                    return True
                if field.annotation is not candidate and _has_marker(field.annotation):
                    return True
        for _, element in _children(candidate):
            if _has_marker(element):
                return True
    return False


def _canonical(value: object) -> str:
    # Key order and YAML spelling do not matter, only the value.
    return json.dumps(value, sort_keys=True, default=str)


def admin_only_values(model: type[BaseModel], data: Any) -> dict[str, str]:
    """Every admin-only value ``data`` sets, by dotted path, as canonical JSON.

    A field that is absent (or null) is not listed, so adding or removing one shows
    as a difference between two revisions.
    """
    out: dict[str, str] = {}
    _walk(model, data, (), out)
    return out


def admin_only_fields(model: type[BaseModel]) -> list[str]:
    """The dotted paths of the admin-only fields (``<name>`` for any mapping key)."""
    found: list[str] = []

    def visit(tp: Any, path: tuple[str, ...], depth: int) -> None:
        if depth > 16:
            return
        for candidate in _arguments(tp):
            if _is_model(candidate):
                for name, field in candidate.model_fields.items():
                    label = (*path, field.alias or name)
                    if any(isinstance(m, AdminOnly) for m in field.metadata):
                        found.append(".".join(label))
                    elif _has_marker(field.annotation):
                        visit(field.annotation, label, depth + 1)
            for step, element in _children(candidate):
                visit(element, (*path, _WILDCARD if step == "key" else "<n>"), depth + 1)

    visit(model, (), 0)
    return found


def claimed_names(instance: BaseModel) -> dict[str, frozenset[str]]:
    """The names a validated document claims, by what they are (``Claimed.what``).

    Every top-level mapping field marked ``Claimed`` contributes its keys.
    """
    claims: dict[str, frozenset[str]] = {}
    for name, field in type(instance).model_fields.items():
        for marker in field.metadata:
            if isinstance(marker, Claimed):
                value = getattr(instance, name)
                keys = (
                    frozenset(str(k) for k in value) if isinstance(value, Mapping) else frozenset()
                )
                claims[marker.what] = claims.get(marker.what, frozenset()) | keys
    return claims
