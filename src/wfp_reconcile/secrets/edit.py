"""``secret set``, ``secret rm`` and ``secret rotate-recipients`` as file writes.

The edits go through the same round-trip YAML editor as ``token create``
(``config.yamledit``), so comments and key order survive, and each edited file is
validated before anything is written. Plaintext only passes through memory.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyrage import x25519
from ruamel.yaml.scalarstring import LiteralScalarString

from wfp_reconcile.config import yamledit
from wfp_reconcile.config.loader import CUSTOMER_FILE, CUSTOMERS_DIR, PLATFORM_FILE
from wfp_reconcile.config.model import SecretsConfig
from wfp_reconcile.config.scaffold import FileWrite
from wfp_reconcile.config.scaffold.customers import (
    check_customer_text as _check_customer_text,
    load_customer_for_edit as _load_customer_for_edit,
    require_platform as _require_platform,
)
from wfp_reconcile.config.scaffold.writes import fail as _fail
from wfp_reconcile.config.yamlread import read_yaml
from wfp_reconcile.errors import SecretError

from .age import decrypt, encrypt
from .fields import SECRET_NAME_PATTERN

__all__ = ["Rotation", "plan_rm", "plan_rotation", "plan_set", "read_recipients"]

_NAME_RE = re.compile(SECRET_NAME_PATTERN)


def read_recipients(repo: Path) -> tuple[str, ...]:
    """``secrets.recipients`` of platform.yaml (read alone: other files may be mid-edit)."""
    _require_platform(repo)
    doc, problems = read_yaml((repo / PLATFORM_FILE).read_text(encoding="utf-8"))
    if doc is None or problems or not isinstance(doc.data, dict):
        raise _fail(PLATFORM_FILE, "cannot be read; run `wfp-reconcile validate` and fix it")
    raw = doc.data.get("secrets") or {}
    try:
        config = SecretsConfig.model_validate_json(json.dumps(raw))
    except ValueError:
        raise _fail(PLATFORM_FILE, "secrets is not valid; run `wfp-reconcile validate`")
    if not config.recipients:
        raise _fail(
            PLATFORM_FILE,
            "declares no secrets.recipients; an admin adds the platform's age recipient "
            "(`wfp-reconcile secret keygen` makes one)",
        )
    return config.recipients


def _holder(data: Any, relative: str, script: str | None) -> Any:
    """The mapping that holds ``secrets``: the customer's file or one script."""
    if script is None:
        return data
    scripts = data.get("scripts")
    if not isinstance(scripts, dict) or not isinstance(scripts.get(script), dict):
        raise _fail(relative, f"declares no script '{script}'")
    return scripts[script]


def _put(holder: Any, relative: str, name: str, value: Any, *, script: str | None) -> None:
    """Set ``secrets.<name>``, creating ``secrets`` with it (in one go, so the comments
    that followed the previous key stay after the whole new block)."""
    current = holder.get("secrets")
    if current is None or (not current and hasattr(current, "fa")):
        block = yamledit.new_map()
        block[name] = value
        if "secrets" in holder:
            holder["secrets"] = block
            return
        keys = list(holder)
        anchors = ("d1", "vars", "modules", "main_module") if script else ("tokens", "owners")
        position = next((keys.index(a) + 1 for a in anchors if a in keys), len(keys))
        yamledit.insert_entry(holder, position, "secrets", block)
    elif not isinstance(current, yamledit.CommentedMap):
        raise _fail(relative, "secrets must be a mapping; fix it and retry")
    elif name in current:
        current[name] = value
    else:
        yamledit.insert_entry(current, len(current), name, value)


def _check_name(relative: str, name: str) -> None:
    if not _NAME_RE.match(name) or len(name) > 64 or name.startswith("__"):
        raise _fail(
            relative,
            f"'{name}' is not a valid secret name: use letters, digits and '_' (not a digit "
            "first, not '__' first, at most 64 characters), as for environment variables",
        )


def _check_collision(data: Any, relative: str, name: str, script: str | None) -> None:
    """A secret, a var and a D1 binding of one script all become ``env.<NAME>``."""
    scripts = data.get("scripts")
    for script_name, spec in scripts.items() if isinstance(scripts, dict) else ():
        if script is not None and script_name != script or not isinstance(spec, dict):
            continue
        for key in ("vars", "d1"):
            names = spec.get(key)
            if isinstance(names, dict) and name in names:
                raise _fail(
                    relative,
                    f"script '{script_name}' already has {key} '{name}' (both would be "
                    f"env.{name}); choose another secret name",
                )


def plan_set(
    repo: Path, customer_id: str, name: str, plaintext: str, *, script: str | None = None
) -> FileWrite:
    """Encrypt ``plaintext`` to the platform's recipients and store it as ``name``."""
    recipients = read_recipients(repo)
    relative, data = _load_customer_for_edit(repo, customer_id)
    _check_name(relative, name)
    if not plaintext:
        raise _fail(relative, f"the value of secret '{name}' is empty; nothing was written")
    _check_collision(data, relative, name, script)
    value = LiteralScalarString(encrypt(plaintext, recipients))
    _put(_holder(data, relative, script), relative, name, value, script=script)
    text = yamledit.dump(data)
    _check_customer_text(relative, text)
    return FileWrite(repo / relative, text, create_only=False)


def plan_rm(repo: Path, customer_id: str, name: str, *, script: str | None = None) -> FileWrite:
    """Remove secret ``name``; an empty ``secrets: {}`` stays, so the next apply removes
    it from Cloudflare instead of keeping it as an out-of-band secret."""
    relative, data = _load_customer_for_edit(repo, customer_id)
    found = _holder(data, relative, script).get("secrets")
    target = found if isinstance(found, dict) else None
    where = f"script '{script}'" if script else "the customer"
    if target is None or name not in target:
        raise _fail(relative, f"{where} declares no secret '{name}'")
    del target[name]
    text = yamledit.dump(data)
    _check_customer_text(relative, text)
    return FileWrite(repo / relative, text, create_only=False)


@dataclasses.dataclass(frozen=True)
class Rotation:
    writes: tuple[FileWrite, ...]
    values: int
    """How many values were re-encrypted."""


def _maps(data: Any) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(data.get("secrets"), dict):
        found.append(("secrets", data["secrets"]))
    scripts = data.get("scripts")
    for script_name, script in scripts.items() if isinstance(scripts, dict) else ():
        if isinstance(script, dict) and isinstance(script.get("secrets"), dict):
            found.append((f"scripts.{script_name}.secrets", script["secrets"]))
    return found


def plan_rotation(repo: Path, identities: Sequence[x25519.Identity]) -> Rotation:
    """Every value of every customer re-encrypted to platform.yaml's recipients now.

    Raises:
        SecretError: a value does not decrypt with ``identities`` (nothing is written),
            naming its file and key.
    """
    recipients = read_recipients(repo)
    writes: list[FileWrite] = []
    count = 0
    root = repo / CUSTOMERS_DIR
    for directory in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        if not (directory / CUSTOMER_FILE).is_file():
            continue
        relative, data = _load_customer_for_edit(repo, directory.name)
        changed = False
        for key, mapping in _maps(data):
            for name in list(mapping):
                value = mapping[name]
                if not isinstance(value, str):
                    continue
                try:
                    plaintext = decrypt(value, identities)
                except SecretError as exc:
                    raise SecretError(f"{relative} ({key}.{name}) {exc.message}")
                mapping[name] = LiteralScalarString(encrypt(plaintext, recipients))
                changed = True
                count += 1
        if changed:
            text = yamledit.dump(data)
            _check_customer_text(relative, text)
            writes.append(FileWrite(repo / relative, text, create_only=False))
    return Rotation(tuple(writes), count)
