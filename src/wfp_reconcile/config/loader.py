"""Read a platform repository through a ``RepoSource`` into a ``PlatformRepo``.

Every problem in every file is collected before anything fails, so one run of
``validate`` shows the whole list.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import pydantic

from wfp_reconcile.errors import ConfigError, ConfigProblem
from wfp_reconcile.quoting import quote_path

from .envvars import ENV_FIELDS, EnvError, expand, expand_customer
from .files import KindCache, read_module
from .messages import problems_from_validation
from .model import Customer, OutboundWorker, Platform, PlatformRepo, TailWorker
from .rules import CustomerEntry, PlatformEntry, check_repo, outbound_modules
from .source import RepoSource, WorkTreeSource
from .yamlread import YamlDoc, read_yaml

__all__ = [
    "CUSTOMERS_DIR",
    "CUSTOMER_FILE",
    "PLATFORM_FILE",
    "customer_file",
    "load_customer_file",
    "load_platform_file",
    "load_repo",
    "load_repo_dir",
]

PLATFORM_FILE = "platform.yaml"
CUSTOMERS_DIR = "customers"
CUSTOMER_FILE = "customer.yaml"

_M = TypeVar("_M", bound=pydantic.BaseModel)


def customer_file(directory: str) -> str:
    """Repository path of the ``customer.yaml`` of customer directory ``directory``."""
    return f"{CUSTOMERS_DIR}/{directory}/{CUSTOMER_FILE}"


class _Collector:
    def __init__(self, source: RepoSource) -> None:
        self.source = source
        self.problems: list[ConfigProblem] = []

    def add(self, path: str, line: int, column: int, message: str) -> None:
        self.problems.append(ConfigProblem(path, line, column, message))

    def read_doc(self, path: str) -> YamlDoc | None:
        """Parse one YAML file, or record why it cannot be."""
        kind = self.source.kind(PurePosixPath(path))
        if kind == "missing":
            return None
        if kind == "dir":
            self.add(path, 0, 0, "is a directory, but must be a YAML file")
            return None
        if kind != "file":
            self.add(path, 0, 0, "must be a regular file (symlinks are not followed here)")
            return None
        try:
            raw = self.source.read_bytes(PurePosixPath(path))
        except OSError as exc:
            self.add(path, 0, 0, f"cannot be read: {exc.strerror or type(exc).__name__}")
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            self.add(path, line, column, "is not valid UTF-8; save the file as UTF-8")
            return None
        doc, problems = read_yaml(text.removeprefix("\ufeff"))
        for p in problems:
            self.add(path, p.line, p.column, p.message)
        if doc is None or problems:
            return None
        if not isinstance(doc.data, dict):
            what = "empty" if doc.data is None else "not a mapping"
            self.add(path, 1, 1, f"is {what}; it must be a mapping of keys to values")
            return None
        return doc

    def validate(self, model: type[_M], path: str, doc: YamlDoc, data: Any) -> _M | None:
        try:
            return model.model_validate_json(json.dumps(data))
        except pydantic.ValidationError as exc:
            checked = YamlDoc(data, doc.values, doc.keys)
            for pos, message in problems_from_validation(model, checked, exc):
                self.add(path, pos.line, pos.column, message)
            return None


def _expand_env(collector: _Collector, doc: YamlDoc, env: Mapping[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(doc.data))
    for loc in ENV_FIELDS:
        parent: Any = data
        for part in loc[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if not isinstance(parent, dict) or not isinstance(parent.get(loc[-1]), str):
            continue
        try:
            parent[loc[-1]] = expand(parent[loc[-1]], env)
        except EnvError as exc:
            pos = doc.value_pos(loc)
            collector.add(PLATFORM_FILE, pos.line, pos.column, f"{'.'.join(loc)}: {exc}")
            # Keep validating the rest; the placeholder must not add a second problem.
            parent[loc[-1]] = "unset"
    return data


def _expand_customer_env(
    collector: _Collector, path: str, doc: YamlDoc, env: Mapping[str, str]
) -> Any:
    data, problems = expand_customer(doc.data, env)
    for loc, message in problems:
        pos = doc.value_pos(loc)
        collector.add(path, pos.line, pos.column, message)
    return data


def _read_platform(collector: _Collector, env: Mapping[str, str]) -> PlatformEntry | None:
    doc = collector.read_doc(PLATFORM_FILE)
    if doc is None:
        return None
    data = _expand_env(collector, doc, env)
    platform = collector.validate(Platform, PLATFORM_FILE, doc, data)
    return PlatformEntry(PLATFORM_FILE, platform, doc) if platform else None


def _read_customer(
    collector: _Collector, file: str, env: Mapping[str, str]
) -> CustomerEntry | None:
    doc = collector.read_doc(file)
    if doc is None:
        return None
    data = _expand_customer_env(collector, file, doc, env)
    customer = collector.validate(Customer, file, doc, data)
    return CustomerEntry(file, customer, doc) if customer else None


def load_platform_file(
    source: RepoSource, *, env: Mapping[str, str] | None = None
) -> tuple[PlatformEntry | None, list[ConfigProblem]]:
    """``platform.yaml`` on its own, read exactly as ``load_repo`` reads it.

    Returns:
        The validated file (None when it is missing or has problems) and its problems.
    """
    collector = _Collector(source)
    entry = _read_platform(collector, os.environ if env is None else env)
    return (None if collector.problems else entry), collector.problems


def load_customer_file(
    source: RepoSource, directory: str, *, env: Mapping[str, str] | None = None
) -> tuple[CustomerEntry | None, list[ConfigProblem]]:
    """One ``customers/<directory>/customer.yaml`` on its own, as ``load_repo`` reads it.

    The rules across files are not checked, nor that ``id`` equals ``directory``.

    Returns:
        The validated file (None when it is missing or has problems) and its problems.
    """
    collector = _Collector(source)
    entry = _read_customer(collector, customer_file(directory), os.environ if env is None else env)
    return (None if collector.problems else entry), collector.problems


def _load_platform(collector: _Collector, env: Mapping[str, str]) -> PlatformEntry | None:
    if collector.source.kind(PurePosixPath(PLATFORM_FILE)) == "missing":
        collector.add(
            PLATFORM_FILE,
            0,
            0,
            (
                "not found: is this the root of a platform repository? "
                "Start one with `wfp-reconcile new platform DIR`"
            ),
        )
        return None
    return _read_platform(collector, env)


def _ignored(name: str) -> bool:
    return name.startswith(".") or name.upper().startswith("README")


def _load_customers(collector: _Collector, env: Mapping[str, str]) -> list[CustomerEntry]:
    source = collector.source
    root = PurePosixPath(CUSTOMERS_DIR)
    kind = source.kind(root)
    if kind == "missing":
        collector.add(
            CUSTOMERS_DIR,
            0,
            0,
            ("directory not found; add customers with `wfp-reconcile new customer ID`"),
        )
        return []
    if kind != "dir":
        collector.add(CUSTOMERS_DIR, 0, 0, "must be a directory of customer directories")
        return []
    names = [name for name in source.list_dir(root) if not _ignored(name)]
    entries: list[CustomerEntry] = []
    dirs = 0
    for name in names:
        path = root / name
        if source.kind(path) != "dir":
            collector.add(
                str(path),
                0,
                0,
                (
                    "customers/ may only contain customer directories "
                    "(customers/<id>/customer.yaml); "
                    "move or remove this file"
                ),
            )
            continue
        dirs += 1
        file = str(path / CUSTOMER_FILE)
        if source.kind(path / CUSTOMER_FILE) == "missing":
            collector.add(
                str(path),
                0,
                0,
                (
                    f"customer directory has no {CUSTOMER_FILE}; add one "
                    f"(`wfp-reconcile new customer {quote_path(name)}`) or remove the directory"
                ),
            )
            continue
        entry = _read_customer(collector, file, env)
        if entry is None:
            continue
        customer, doc = entry.customer, entry.doc
        if customer.id != name:
            pos = doc.value_pos(("id",))
            collector.add(
                file,
                pos.line,
                pos.column,
                (
                    f"id '{customer.id}' differs from its directory name '{quote_path(name)}'; "
                    f"the id must equal the directory (customers/{customer.id}/)"
                ),
            )
            continue
        entries.append(entry)
    if dirs == 0 and not any(p.path.startswith(CUSTOMERS_DIR) for p in collector.problems):
        collector.add(
            CUSTOMERS_DIR,
            0,
            0,
            (
                "has no customers; add one with `wfp-reconcile new customer ID` "
                "(an empty repository would delete every managed script)"
            ),
        )
    return entries


def _read_modules(
    collector: _Collector, platform: PlatformEntry | None, customers: list[CustomerEntry]
) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    wanted: list[tuple[str, YamlDoc, tuple[str | int, ...], PurePosixPath, str]] = []
    if platform is not None:
        p = platform.platform
        here = PurePosixPath()
        for i, path in enumerate(p.platform_modules):
            wanted.append((platform.path, platform.doc, ("platform_modules", i), here, path))
        groups: list[tuple[str, Mapping[str, OutboundWorker | TailWorker]]] = [
            ("outbound_workers", p.outbound_workers),
            ("tail_workers", p.tail_workers),
        ]
        for key, workers in groups:
            for name, worker in workers.items():
                for i, (_, path) in enumerate(outbound_modules(worker)):
                    loc: tuple[str | int, ...] = (
                        (key, name, "main_module") if i == 0 else (key, name, "modules", i - 1)
                    )
                    wanted.append((platform.path, platform.doc, loc, here, path))
    for entry in customers:
        for name, script in entry.customer.scripts.items():
            base = entry.directory
            wanted.append(
                (entry.path, entry.doc, ("scripts", name, "main_module"), base, script.main_module)
            )
            for i, path in enumerate(script.modules):
                wanted.append((entry.path, entry.doc, ("scripts", name, "modules", i), base, path))
    kinds: KindCache = {}
    for file, doc, loc, base, raw in wanted:
        result = read_module(collector.source, base, raw, kinds)
        if result.content is not None:
            files[result.path] = result.content
        elif result.error is not None:
            pos = doc.value_pos(loc)
            collector.add(file, pos.line, pos.column, result.error)
    return files


def load_repo(source: RepoSource, *, env: Mapping[str, str] | None = None) -> PlatformRepo:
    """Load and validate a platform repository.

    Args:
        source: Where the files come from (a work tree or a git commit).
        env: Environment for ``${VAR}`` in platform.yaml (and ``${D1_...}`` in the D1
            bindings of customer scripts); ``os.environ`` by default.

    Returns:
        The validated repository with the bytes of every referenced module.

    Raises:
        ConfigError: listing every problem found, with file, line and column.
    """
    collector = _Collector(source)
    environ = os.environ if env is None else env
    platform = _load_platform(collector, environ)
    customers = _load_customers(collector, environ)
    files = _read_modules(collector, platform, customers)
    if platform is not None:
        sizes = {path: len(content) for path, content in files.items()}
        collector.problems.extend(check_repo(platform, customers, sizes))
    from wfp_reconcile.assets.load import load_assets  # assets reads through config

    asset_files, asset_index, asset_problems = load_assets(source, customers)
    collector.problems.extend(asset_problems)
    if collector.problems or platform is None:
        raise ConfigError(collector.problems)
    return PlatformRepo(
        platform=platform.platform,
        customers=tuple(entry.customer for entry in customers),
        files={**asset_files, **files},
        commit=source.commit,
        assets=asset_index,
    )


def load_repo_dir(path: Path, *, env: Mapping[str, str] | None = None) -> PlatformRepo:
    """``load_repo`` on the work tree at ``path``."""
    return load_repo(WorkTreeSource(path), env=env)
