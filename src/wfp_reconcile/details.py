"""Which settings an update changes, for plans people read (pure).

The fingerprint tag says *that* the configuration changed; the script's settings,
read only for the scripts being updated, say *what*: compatibility date and flags,
limits, Logpush, tail consumers and each binding. Values of variables are never shown,
only a short hash of each (a deployed value may have been set out of band, and plans go into
pull-request comments); secrets are not even listed, as they are kept across uploads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from wfp_reconcile.desired import KEEP_BINDINGS, DesiredWorker
from wfp_reconcile.diff import FieldChange

__all__ = ["config_fields", "merge_details"]

_COMPARED = (
    "compatibility_date",
    "compatibility_flags",
    "limits",
    "logpush",
    "observability",
    "tail_consumers",
)
_MAX_VALUE = 80


def _show(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _normalized(key: str, value: Any) -> Any:
    if key == "observability" and not (isinstance(value, Mapping) and value.get("enabled")):
        return None  # never set, or off: the same for what runs
    if value in (None, [], {}):
        return None if key != "logpush" else False
    if key == "compatibility_flags" and isinstance(value, list):
        return sorted(str(v) for v in value)
    if key == "tail_consumers" and isinstance(value, list):
        return sorted(json.dumps(v, sort_keys=True) for v in value)
    return value


def _digest(value: Any) -> str:
    raw = json.dumps(value, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(raw).hexdigest()[:8]


def _binding_value(binding: Mapping[str, Any]) -> str:
    # Variable values are shown as a short hash: the deployed value may have been set out
    # of band and plans end up in pull-request comments and CI artifacts.
    kind = str(binding.get("type", "?"))
    if kind == "plain_text":
        return f"text #{_digest(binding.get('text'))}"
    if kind == "json":
        return f"json #{_digest(binding.get('json'))}"
    if kind == "d1":
        return f"d1 {binding.get('id') or binding.get('database_id')}"
    if kind == "service":
        return f"service {binding.get('service')}"
    return kind


def _bindings(value: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for binding in value if isinstance(value, list) else []:
        if isinstance(binding, Mapping) and binding.get("type") not in KEEP_BINDINGS:
            out[str(binding.get("name"))] = _binding_value(binding)
    return out


def config_fields(desired: DesiredWorker, settings: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """The settings that differ between what is deployed and what is desired.

    Args:
        desired: The Worker as the repository wants it.
        settings: Its current settings as ``GET …/settings`` returns them.

    Returns:
        One field per differing setting (``binding NAME`` per binding); empty when the
        difference is not visible in settings (e.g. only the main module changed).
    """
    metadata = desired.upload.metadata
    fields: list[FieldChange] = []
    for key in _COMPARED:
        before = _normalized(key, settings.get(key))
        after = _normalized(key, metadata.get(key))
        if before != after:
            fields.append(
                FieldChange(
                    field=key, before=_show(settings.get(key)), after=_show(metadata.get(key))
                )
            )
    before_bindings = _bindings(settings.get("bindings"))
    after_bindings = _bindings(metadata.get("bindings"))
    for name in sorted(set(before_bindings) | set(after_bindings)):
        old, new = before_bindings.get(name), after_bindings.get(name)
        if old != new:
            fields.append(FieldChange(field=f"binding {name}", before=_show(old), after=_show(new)))
    return tuple(fields)


def merge_details(
    fields: Sequence[FieldChange], details: Sequence[FieldChange]
) -> tuple[FieldChange, ...]:
    """The change's fields with the details right after its ``config`` field."""
    out: list[FieldChange] = []
    for field in fields:
        out.append(field)
        if field.field == "config":
            out.extend(details)
    return tuple(out)
