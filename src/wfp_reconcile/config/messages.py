"""Pydantic validation errors -> one clear sentence each, at a YAML position.

Pydantic's messages name types the user never wrote (``list[str]``, union
members) and patterns instead of the rule behind them; these are rewritten
into what to change in the file.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any

import pydantic
from pydantic_core import ErrorDetails

from wfp_reconcile.secrets.age import RECIPIENT_PATTERN

from .model import D1_ID_PATTERN, KV_NAMESPACE_ID_PATTERN, SCRIPT_NAME_PATTERN
from .yamlread import Loc, Position, YamlDoc

__all__ = ["FieldProblem", "describe_value", "format_loc", "problems_from_validation"]

FieldProblem = tuple[Position, str]

_TOKEN_HINT = (
    "plaintext tokens never belong in git: create a token with "
    "`wfp-reconcile token create CUSTOMER NAME`, which stores only its SHA-256"
)

# Messages for the patterns of ``model``: the rule, not the regular expression.
_PATTERN_MESSAGES = {
    SCRIPT_NAME_PATTERN: (
        "is not a valid Worker name: use lowercase letters, digits, '-' and '_' "
        "(not '-' first), at most 63 characters"
    ),
    r"^[a-z0-9][a-z0-9-]*$": (
        "must be lowercase letters, digits and '-', starting with a letter or digit"
    ),
    r"^[A-Za-z0-9][A-Za-z0-9._\-]*$": (
        "must be letters, digits, '.', '_' and '-', starting with a letter or digit "
        "(no ',', '&', ':' or spaces)"
    ),
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$": (
        "must be letters, digits, '.', '_' and '-', starting with a letter or digit"
    ),
    r"^[A-Za-z0-9][A-Za-z0-9-]*$": "must be a git host login (letters, digits and '-')",
    r"^[0-9a-f]{64}$": f"must be a SHA-256 digest (64 lowercase hex characters); {_TOKEN_HINT}",
    r"^\d{4}-\d{2}-\d{2}$": "must be a date written YYYY-MM-DD, such as 2024-09-23",
    r"^[A-Za-z_][A-Za-z0-9_]*$": (
        "must be an identifier (letters, digits and '_', not starting with a digit)"
    ),
    RECIPIENT_PATTERN: "must be an age recipient: age1 followed by 58 characters (`age-keygen -y`)",
    D1_ID_PATTERN: (
        "must be a D1 database id, a UUID such as 0f4b5e2a-9c1d-4e7f-8a6b-3c2d1e0f9a8b "
        "(`wrangler d1 list` shows them), or ${D1_NAME} to read it from the environment"
    ),
    KV_NAMESPACE_ID_PATTERN: (
        "must be a Workers KV namespace id, 32 lowercase hex digits "
        "(`wrangler kv namespace list` shows them), or ${VAR} to read it from the environment"
    ),
}

_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean (true or false)",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}

_UNION_MEMBER_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "list[str]": "a list of strings",
}


def describe_value(value: Any) -> str:
    """How a YAML value reads to its author, for "got ..." messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'the string "{shown}"'
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def format_loc(loc: Loc) -> str:
    """``('tokens', 0, 'sha256')`` -> ``tokens[0].sha256``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


def _lookup(data: Any, loc: Loc) -> tuple[Loc, Any, Loc]:
    """Split an error ``loc`` into the part present in ``data`` and the rest."""
    current = data
    for i, part in enumerate(loc):
        if isinstance(current, dict) and isinstance(part, str) and part in current:
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        else:
            return loc[:i], current, loc[i:]
    return loc, current, ()


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to the model or container type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _model_at(root: type[pydantic.BaseModel], loc: Loc) -> type[pydantic.BaseModel] | None:
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, pydantic.BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
            current = args[1]
        elif origin is tuple and args:
            current = args[0]
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, pydantic.BaseModel):
        return current
    return None


def _unknown_key(root: type[pydantic.BaseModel], loc: Loc) -> str:
    key = str(loc[-1])
    model = _model_at(root, loc[:-1])
    allowed = sorted(model.model_fields) if model else []
    where = f" in {format_loc(loc[:-1])}" if loc[:-1] else ""
    message = f"unknown key '{key}'{where}"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"{message}; did you mean '{close[0]}'?"
    if allowed:
        return f"{message}; allowed keys: {', '.join(allowed)}"
    return message


def _message(error: ErrorDetails, value: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _TYPE_NAMES:
        return f"must be {_TYPE_NAMES[kind]}, not {describe_value(value)}"
    if kind == "missing":
        return "is required"
    if kind == "string_pattern_mismatch":
        return _PATTERN_MESSAGES.get(str(ctx.get("pattern")), error["msg"])
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"is too long (at most {ctx.get('max_length')} characters)"
    if kind == "greater_than":
        return f"must be greater than {ctx.get('gt')}, not {describe_value(value)}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, not {describe_value(value)}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}, not {describe_value(value)}"
    if kind == "literal_error" and ctx.get("expected") == "False":
        # The only `Literal[False]` is a list-or-false field such as customer `tail`.
        return f"must be a list of names or false, not {describe_value(value)}"
    if kind in ("enum", "literal_error"):
        return f"must be {ctx.get('expected')}, not {describe_value(value)}"
    return str(error["msg"])


def problems_from_validation(
    root: type[pydantic.BaseModel], doc: YamlDoc, exc: pydantic.ValidationError
) -> list[FieldProblem]:
    """One problem per offending field of ``doc``, at the field's position."""
    out: dict[tuple[Loc, str], FieldProblem] = {}
    unions: dict[Loc, list[str]] = {}
    for error in exc.errors():
        loc: Loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            out[(loc, "extra")] = (doc.key_pos(loc), _unknown_key(root, loc))
            continue
        if loc and loc[-1] == "[key]":
            key_loc = loc[:-1]
            text = _message(error, key_loc[-1])
            out[(key_loc, "key")] = (
                doc.key_pos(key_loc),
                f"{format_loc(key_loc[:-1])}: key '{key_loc[-1]}' {text}",
            )
            continue
        found, value, rest = _lookup(doc.data, loc)
        if error["type"] == "missing":
            out[(loc, "missing")] = (
                doc.value_pos(found),
                f"{format_loc(loc)} is required",
            )
            continue
        if rest and isinstance(rest[0], str) and rest[0] in _UNION_MEMBER_NAMES:
            # A union: pydantic reports every member it tried; say what is accepted.
            names = unions.setdefault(found, [])
            member = _UNION_MEMBER_NAMES[rest[0]]
            if member not in names:
                names.append(member)
            continue
        out[(found, "value")] = (
            doc.value_pos(found),
            f"{format_loc(found)}: {_message(error, value)}",
        )
    for found, names in unions.items():
        if (found, "value") in out:
            continue
        _, value, _ = _lookup(doc.data, found)
        accepted = ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]
        out[(found, "value")] = (
            doc.value_pos(found),
            f"{format_loc(found)}: must be {accepted}, not {describe_value(value)}",
        )
    return list(out.values())
