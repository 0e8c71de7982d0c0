"""``new customer`` and ``new script``: edits of a customer directory, checked first."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pydantic

from wfp_reconcile.config import yamledit
from wfp_reconcile.config.envvars import PlaceholderEnv, expand_customer
from wfp_reconcile.config.loader import CUSTOMER_FILE, CUSTOMERS_DIR, PLATFORM_FILE
from wfp_reconcile.config.messages import problems_from_validation
from wfp_reconcile.config.model import SCRIPT_NAME_PATTERN, Customer
from wfp_reconcile.config.rules import PROTECT_TAG, RESERVED_TAG_PREFIXES
from wfp_reconcile.config.yamlread import read_yaml
from wfp_reconcile.errors import ConfigError, ConfigProblem

from .templates import customer_yaml, script_template
from .writes import FileWrite, fail

__all__ = [
    "check_customer_text",
    "customer_id_problem",
    "ensure_block",
    "load_customer_for_edit",
    "plan_new_customer",
    "plan_new_script",
    "require_platform",
]

_CUSTOMER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_SCRIPT_NAME = re.compile(SCRIPT_NAME_PATTERN)


def customer_id_problem(customer_id: str) -> str | None:
    if not _CUSTOMER_ID.match(customer_id):
        return (
            f"'{customer_id}' is not a valid customer id: use 1-40 lowercase letters, digits "
            "and '-', starting with a letter or digit"
        )
    if customer_id == PROTECT_TAG or customer_id.startswith(RESERVED_TAG_PREFIXES):
        return f"'{customer_id}' is reserved for the reconciler's own tags; choose another id"
    return None


def require_platform(repo: Path) -> None:
    if not (repo / PLATFORM_FILE).is_file():
        raise fail(
            str(repo / PLATFORM_FILE),
            "not found: run this in a platform repository or pass --repo DIR "
            "(start one with `wfp-reconcile new platform DIR`)",
        )


def plan_new_customer(
    repo: Path, customer_id: str, *, name: str | None = None, plan: str = "basic"
) -> tuple[FileWrite, ...]:
    """``customers/<id>/customer.yaml`` for a new customer without scripts."""
    require_platform(repo)
    directory = f"{CUSTOMERS_DIR}/{customer_id}"
    problem = customer_id_problem(customer_id)
    if problem:
        raise fail(directory, problem)
    if not re.match(r"^[a-z0-9][a-z0-9-]{0,31}$", plan):
        raise fail(directory, f"'{plan}' is not a valid plan: use lowercase letters, digits, '-'")
    if (repo / directory).exists():
        raise fail(directory, "already exists; choose another customer id")
    text = customer_yaml(customer_id, name or customer_id, plan)
    return (FileWrite(repo / directory / CUSTOMER_FILE, text),)


def _names_in_use(repo: Path) -> dict[str, str]:
    """Worker names already taken, with where; unreadable files are skipped."""
    taken: dict[str, str] = {}
    platform = _read_data(repo / PLATFORM_FILE)
    if isinstance(platform, dict):
        dispatcher = platform.get("dispatcher")
        name = dispatcher.get("name") if isinstance(dispatcher, dict) else None
        taken[name if isinstance(name, str) else "wfp-dispatcher"] = f"{PLATFORM_FILE} (dispatcher)"
        outbound = platform.get("outbound_workers")
        if isinstance(outbound, dict):
            taken.update({key: f"{PLATFORM_FILE} (outbound Worker)" for key in outbound})
    customers = repo / CUSTOMERS_DIR
    for path in sorted(customers.glob(f"*/{CUSTOMER_FILE}")) if customers.is_dir() else []:
        data = _read_data(path)
        scripts = data.get("scripts") if isinstance(data, dict) else None
        if isinstance(scripts, dict):
            where = path.relative_to(repo).as_posix()
            for key in scripts:
                taken.setdefault(key, where)
    return taken


def _read_data(path: Path) -> Any:
    try:
        doc, _ = read_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    return doc.data if doc else None


def load_customer_for_edit(repo: Path, customer_id: str) -> tuple[str, Any]:
    relative = f"{CUSTOMERS_DIR}/{customer_id}/{CUSTOMER_FILE}"
    path = repo / relative
    if not path.is_file():
        raise fail(
            relative,
            f"not found: is '{customer_id}' a customer? Create it with "
            f"`wfp-reconcile new customer {customer_id}`",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise fail(relative, "is not valid UTF-8; save the file as UTF-8")
    try:
        data = yamledit.load(text)
    except yamledit.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        raise fail(relative, f"cannot be edited: YAML syntax error: {exc}", line, column)
    if not isinstance(data, dict):
        raise fail(relative, "must be a mapping; fix it (wfp-reconcile validate) and retry")
    return relative, data


def check_customer_text(relative: str, text: str) -> None:
    """Refuse to write a customer file that would not validate."""
    doc, problems = read_yaml(text)
    errors = [ConfigProblem(relative, p.line, p.column, p.message) for p in problems]
    if doc is not None and not errors:
        # The environment of this shell is not the one plans run with: a well-formed
        # ${D1_...} reference passes, a malformed one is reported.
        data, refs = expand_customer(doc.data, PlaceholderEnv())
        errors = [
            ConfigProblem(relative, doc.value_pos(loc).line, doc.value_pos(loc).column, message)
            for loc, message in refs
        ]
    if doc is not None and not errors:
        try:
            Customer.model_validate_json(json.dumps(data))
        except pydantic.ValidationError as exc:
            errors = [
                ConfigProblem(relative, pos.line, pos.column, message)
                for pos, message in problems_from_validation(Customer, doc, exc)
            ]
    if errors:
        raise ConfigError(errors)


def ensure_block(data: Any, key: str, empty: Any, after: tuple[str, ...]) -> Any:
    """The collection at ``key``, created (in block style) after the first of ``after``."""
    current = data.get(key)
    if current is None or (not current and hasattr(current, "fa")):
        # A missing key or an empty flow collection (``[]``/``{}``) becomes block style.
        if key in data:
            data[key] = empty
        else:
            keys = list(data)
            position = len(keys)
            for anchor in after:
                if anchor in keys:
                    position = keys.index(anchor) + 1
                    break
            yamledit.insert_entry(data, position, key, empty)
        return data[key]
    return current


def plan_new_script(repo: Path, customer_id: str, name: str) -> tuple[FileWrite, ...]:
    """A new script from the default template, declared in the customer's file."""
    require_platform(repo)
    relative, data = load_customer_for_edit(repo, customer_id)
    if not _SCRIPT_NAME.match(name) or len(name) > 63:
        raise fail(
            relative,
            f"'{name}' is not a valid script name: use lowercase letters, digits, '-' and "
            "'_' (not '-' first), at most 63 characters",
        )
    taken = _names_in_use(repo)
    if name in taken:
        raise fail(relative, f"script name '{name}' is already used in {taken[name]}")
    module = f"{name}.mjs"
    module_path = repo / CUSTOMERS_DIR / customer_id / module
    if module_path.exists() or module_path.is_symlink():
        raise fail(f"{CUSTOMERS_DIR}/{customer_id}/{module}", "already exists; not overwriting")
    scripts = ensure_block(data, "scripts", yamledit.new_map(), ())
    if not isinstance(scripts, yamledit.CommentedMap):
        raise fail(relative, "scripts must be a mapping; fix it and retry")
    yamledit.insert_entry(scripts, len(scripts), name, yamledit.new_map(main_module=module))
    text = yamledit.dump(data)
    check_customer_text(relative, text)
    return (
        FileWrite(module_path, script_template()),
        FileWrite(repo / relative, text, create_only=False),
    )
