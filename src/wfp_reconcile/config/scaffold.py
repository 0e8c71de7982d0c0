"""``new platform|customer|script`` and ``token create``: planned edits, then writes.

Each ``plan_*`` function checks everything and returns the complete set of file
writes; nothing touches the disk until ``write_files`` runs, so a refused
request leaves the repository exactly as it was.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pydantic

from wfp_reconcile.errors import ConfigError, ConfigProblem

from . import yamledit
from .envvars import expand_customer
from .loader import CUSTOMER_FILE, CUSTOMERS_DIR, PLATFORM_FILE
from .messages import problems_from_validation
from .model import SCRIPT_NAME_PATTERN, Customer
from .rules import PROTECT_TAG, RESERVED_TAG_PREFIXES
from .schema import json_schemas, render_schema
from .yamlread import read_yaml

__all__ = [
    "DEFAULT_COMPATIBILITY_DATE",
    "PLATFORM_MODULE",
    "FileWrite",
    "NewToken",
    "plan_new_customer",
    "plan_new_platform",
    "plan_new_script",
    "plan_token",
    "script_template",
    "write_files",
]

DEFAULT_COMPATIBILITY_DATE = "2024-09-23"

PLATFORM_MODULE = (
    'const platformThing = "This module is provided by the platform"; export { platformThing };'
)
"""The platform module of Cloudflare's Workers for Platforms example, byte for byte."""

_CUSTOMER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_SCRIPT_NAME = re.compile(SCRIPT_NAME_PATTERN)
_TOKEN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclasses.dataclass(frozen=True)
class FileWrite:
    """One file to create or replace."""

    path: Path
    content: str
    create_only: bool = True


@dataclasses.dataclass(frozen=True)
class NewToken:
    """A token to show once, and the edit that stores its hash."""

    token: str = dataclasses.field(repr=False)
    name: str
    customer_file: Path
    writes: tuple[FileWrite, ...]


def script_template() -> str:
    """The default customer script of Cloudflare's example project."""
    return (
        'import { platformThing } from "./platform_module.mjs";\n'
        "\n"
        "export default {\n"
        "  async fetch(request, env, ctx) {\n"
        '    return new Response("Hello! " + platformThing);\n'
        "  },\n"
        "};\n"
    )


def _fail(path: str, message: str, line: int = 0, column: int = 0) -> ConfigError:
    return ConfigError([ConfigProblem(path, line, column, message)])


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _customer_yaml(customer_id: str, name: str, plan: str) -> str:
    return (
        "# yaml-language-server: $schema=../../schemas/customer.schema.json\n"
        f"id: {customer_id}\n"
        f"name: {_quote(name)}\n"
        f"plan: {plan}\n"
        "\n"
        "# Git host logins allowed to change this directory.\n"
        "owners: []\n"
        "\n"
        f"# Only SHA-256 hashes live here: `wfp-reconcile token create {customer_id} NAME`.\n"
        "tokens: []\n"
        "\n"
        f"# Add scripts with `wfp-reconcile new script {customer_id} NAME`.\n"
        "scripts: {}\n"
    )


def _platform_yaml(namespace: str) -> str:
    return (
        "# yaml-language-server: $schema=schemas/platform.schema.json\n"
        "# File format: docs/format.md of wfp-reconcile.\n"
        "\n"
        "# Environment-specific values come from the environment; never put secrets here.\n"
        "account_id: ${CLOUDFLARE_ACCOUNT_ID}\n"
        f"namespace: ${{WFP_NAMESPACE:-{namespace}}}\n"
        "\n"
        "# Only scripts carrying this tag are ever updated or deleted.\n"
        "management_tag: wfp-managed\n"
        "\n"
        f'compatibility_date: "{DEFAULT_COMPATIBILITY_DATE}"\n'
        "\n"
        '# Injected into every customer bundle; customer code imports "./platform_module.mjs".\n'
        "platform_modules:\n"
        "  - platform/platform_module.mjs\n"
        "\n"
        "dispatcher:\n"
        "  name: wfp-dispatcher\n"
        "  routing: path\n"
        "\n"
        "default_limits:\n"
        "  cpu_ms: 50\n"
        "  subrequests: 50\n"
        "\n"
        "safety:\n"
        "  max_deletes: 10\n"
        "  max_delete_fraction: 0.1\n"
        "\n"
        "# Git host logins allowed to change platform.yaml and platform/.\n"
        "admins: []\n"
    )


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return slug[:63] or "wfp-platform"


def _customer_id_problem(customer_id: str) -> str | None:
    if not _CUSTOMER_ID.match(customer_id):
        return (
            f"'{customer_id}' is not a valid customer id: use 1-40 lowercase letters, digits "
            "and '-', starting with a letter or digit"
        )
    if customer_id == PROTECT_TAG or customer_id.startswith(RESERVED_TAG_PREFIXES):
        return f"'{customer_id}' is reserved for the reconciler's own tags; choose another id"
    return None


def plan_new_platform(dest: Path) -> tuple[FileWrite, ...]:
    """A new platform repository in ``dest`` (which must be empty or absent)."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise _fail(str(dest), "already exists and is not an empty directory; choose a new one")
    customer_id = "example"
    writes = [
        FileWrite(dest / PLATFORM_FILE, _platform_yaml(_slug(dest.resolve().name))),
        FileWrite(dest / "platform" / "platform_module.mjs", PLATFORM_MODULE),
        FileWrite(
            dest / CUSTOMERS_DIR / customer_id / CUSTOMER_FILE,
            _customer_yaml(customer_id, "Example customer", "basic").replace(
                "scripts: {}\n", "scripts:\n  example-hello:\n    main_module: example-hello.mjs\n"
            ),
        ),
        FileWrite(dest / CUSTOMERS_DIR / customer_id / "example-hello.mjs", script_template()),
    ]
    writes += [
        FileWrite(dest / "schemas" / name, render_schema(schema))
        for name, schema in json_schemas().items()
    ]
    return tuple(writes)


def _require_platform(repo: Path) -> None:
    if not (repo / PLATFORM_FILE).is_file():
        raise _fail(
            str(repo / PLATFORM_FILE),
            "not found: run this in a platform repository or pass --repo DIR "
            "(start one with `wfp-reconcile new platform DIR`)",
        )


def plan_new_customer(
    repo: Path, customer_id: str, *, name: str | None = None, plan: str = "basic"
) -> tuple[FileWrite, ...]:
    """``customers/<id>/customer.yaml`` for a new customer without scripts."""
    _require_platform(repo)
    directory = f"{CUSTOMERS_DIR}/{customer_id}"
    problem = _customer_id_problem(customer_id)
    if problem:
        raise _fail(directory, problem)
    if not re.match(r"^[a-z0-9][a-z0-9-]{0,31}$", plan):
        raise _fail(directory, f"'{plan}' is not a valid plan: use lowercase letters, digits, '-'")
    if (repo / directory).exists():
        raise _fail(directory, "already exists; choose another customer id")
    text = _customer_yaml(customer_id, name or customer_id, plan)
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


def _load_customer_for_edit(repo: Path, customer_id: str) -> tuple[str, Any]:
    relative = f"{CUSTOMERS_DIR}/{customer_id}/{CUSTOMER_FILE}"
    path = repo / relative
    if not path.is_file():
        raise _fail(
            relative,
            f"not found: is '{customer_id}' a customer? Create it with "
            f"`wfp-reconcile new customer {customer_id}`",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _fail(relative, "is not valid UTF-8; save the file as UTF-8")
    try:
        data = yamledit.load(text)
    except yamledit.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        raise _fail(relative, f"cannot be edited: YAML syntax error: {exc}", line, column)
    if not isinstance(data, dict):
        raise _fail(relative, "must be a mapping; fix it (wfp-reconcile validate) and retry")
    return relative, data


class _AnyD1Id(Mapping[str, str]):
    """An environment in which every variable is set to a well-formed D1 id."""

    def __getitem__(self, key: str) -> str:
        return "11111111-1111-4111-8111-111111111111"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _check_customer_text(relative: str, text: str) -> None:
    """Refuse to write a customer file that would not validate."""
    doc, problems = read_yaml(text)
    errors = [ConfigProblem(relative, p.line, p.column, p.message) for p in problems]
    if doc is not None and not errors:
        # The environment of this shell is not the one plans run with: a well-formed
        # ${D1_...} reference passes, a malformed one is reported.
        data, refs = expand_customer(doc.data, _AnyD1Id())
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


def _ensure_block(data: Any, key: str, empty: Any, after: tuple[str, ...]) -> Any:
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
    _require_platform(repo)
    relative, data = _load_customer_for_edit(repo, customer_id)
    if not _SCRIPT_NAME.match(name) or len(name) > 63:
        raise _fail(
            relative,
            f"'{name}' is not a valid script name: use lowercase letters, digits, '-' and "
            "'_' (not '-' first), at most 63 characters",
        )
    taken = _names_in_use(repo)
    if name in taken:
        raise _fail(relative, f"script name '{name}' is already used in {taken[name]}")
    module = f"{name}.mjs"
    module_path = repo / CUSTOMERS_DIR / customer_id / module
    if module_path.exists() or module_path.is_symlink():
        raise _fail(f"{CUSTOMERS_DIR}/{customer_id}/{module}", "already exists; not overwriting")
    scripts = _ensure_block(data, "scripts", yamledit.new_map(), ())
    if not isinstance(scripts, yamledit.CommentedMap):
        raise _fail(relative, "scripts must be a mapping; fix it and retry")
    yamledit.insert_entry(scripts, len(scripts), name, yamledit.new_map(main_module=module))
    text = yamledit.dump(data)
    _check_customer_text(relative, text)
    return (
        FileWrite(module_path, script_template()),
        FileWrite(repo / relative, text, create_only=False),
    )


def plan_token(repo: Path, customer_id: str, name: str) -> NewToken:
    """A new random token whose SHA-256 is added to the customer's ``tokens``."""
    relative, data = _load_customer_for_edit(repo, customer_id)
    if not _TOKEN_NAME.match(name):
        raise _fail(
            relative,
            f"'{name}' is not a valid token name: use letters, digits, '.', '_' and '-' "
            "(at most 64 characters)",
        )
    tokens = _ensure_block(data, "tokens", yamledit.new_seq(), ("owners", "plan", "name", "id"))
    if not isinstance(tokens, yamledit.CommentedSeq):
        raise _fail(relative, "tokens must be a list; fix it and retry")
    for item in tokens:
        if isinstance(item, dict) and item.get("name") == name:
            raise _fail(
                relative,
                f"a token named '{name}' already exists; choose another name, or remove the "
                "old entry first to replace it",
            )
    token = secrets.token_hex(32)
    digest = hashlib.sha256(token.encode()).hexdigest()
    yamledit.append_item(tokens, yamledit.new_map(name=name, sha256=digest))
    text = yamledit.dump(data)
    _check_customer_text(relative, text)
    return NewToken(
        token=token,
        name=name,
        customer_file=repo / relative,
        writes=(FileWrite(repo / relative, text, create_only=False),),
    )


def write_files(writes: tuple[FileWrite, ...]) -> None:
    """Write every file (each atomically), creating directories as needed.

    Raises:
        ConfigError: a file to create appeared meanwhile (nothing is written then).
    """
    for write in writes:
        if write.create_only and (write.path.exists() or write.path.is_symlink()):
            raise _fail(str(write.path), "already exists; not overwriting")
    for write in writes:
        try:
            _write_one(write)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise _fail(str(write.path), f"cannot be written: {reason}; check the path")


def _write_one(write: FileWrite) -> None:
    write.path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=write.path.parent, prefix=f".{write.path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(write.content)
        mode = 0o644
        if write.path.exists() and not write.create_only:
            mode = write.path.stat().st_mode & 0o7777
        Path(temp).chmod(mode)
        Path(temp).replace(write.path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
