"""Rules that span fields or files, checked after each file validated on its own.

Pure: the inputs are validated models, their YAML positions and module sizes.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath

from wfp_reconcile.errors import ConfigProblem
from wfp_reconcile.secrets import rules as secret_rules

from .model import Customer, OutboundWorker, Platform, Script, TailWorker
from .yamlread import Loc, YamlDoc

__all__ = [
    "MAX_TAGS",
    "PROTECT_TAG",
    "RESERVED_PARAM_NAMES",
    "RESERVED_PARAM_PREFIXES",
    "RESERVED_TAG_PREFIXES",
    "CustomerEntry",
    "PlatformEntry",
    "check_repo",
    "outbound_modules",
    "own_tag_count",
    "reserved_param_reason",
    "script_modules",
]

MAX_TAGS = 8
"""Cloudflare's limit of tags per script."""
PROTECT_TAG = "protected"
RESERVED_TAG_PREFIXES = ("fp-", "plan-")
"""The reconciler's own tags: ``fp-<fingerprint>`` and ``plan-<plan>``."""
RESERVED_PARAM_NAMES = frozenset({"customer_id"})
"""Outbound parameters the dispatcher always sets itself (an outbound Worker may list them)."""
RESERVED_PARAM_PREFIXES = ("__", "cf_", "wfp_")


@dataclasses.dataclass(frozen=True)
class PlatformEntry:
    path: str
    platform: Platform
    doc: YamlDoc


@dataclasses.dataclass(frozen=True)
class CustomerEntry:
    path: str
    """Repository-relative path of ``customer.yaml``."""
    customer: Customer
    doc: YamlDoc

    @property
    def directory(self) -> PurePosixPath:
        return PurePosixPath(self.path).parent


def own_tag_count(script: Script) -> int:
    """How many tags the reconciler puts on a script before the user's own."""
    # management tag, customer id, plan-<plan>, fp-<fingerprint>, and maybe protected
    return 4 + (1 if script.protect else 0)


def reserved_param_reason(name: str) -> str | None:
    """Why an outbound parameter name is reserved, or None."""
    if name in RESERVED_PARAM_NAMES:
        return f"'{name}' is reserved: the dispatcher always sets it itself"
    for prefix in RESERVED_PARAM_PREFIXES:
        if name.startswith(prefix):
            return f"'{name}' is reserved: names starting with '{prefix}' belong to the platform"
    return None


def script_modules(
    customer_dir: PurePosixPath, script: Script, platform: Platform
) -> list[tuple[str, str]]:
    """``(name in the bundle, repository path)`` of every module a script uploads.

    Customer modules keep their path relative to the customer directory; platform
    modules are named by their file name, which is what customer code imports
    (``./platform_module.mjs``).
    """
    modules = [(raw, str(customer_dir / raw)) for raw in (script.main_module, *script.modules)]
    modules += [(PurePosixPath(path).name, path) for path in platform.platform_modules]
    return modules


def outbound_modules(worker: OutboundWorker | TailWorker) -> list[tuple[str, str]]:
    """``(name in the bundle, repository path)`` of an outbound or tail Worker's modules."""
    return [(PurePosixPath(path).name, path) for path in (worker.main_module, *worker.modules)]


_URL_SEGMENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class _Checker:
    def __init__(
        self, platform: PlatformEntry, customers: list[CustomerEntry], sizes: Mapping[str, int]
    ) -> None:
        self.platform = platform
        self.customers = customers
        self.sizes = sizes
        self.problems: list[ConfigProblem] = []

    def at(self, path: str, doc: YamlDoc, loc: Loc, message: str, *, key: bool = False) -> None:
        pos = doc.key_pos(loc) if key else doc.value_pos(loc)
        self.problems.append(ConfigProblem(path, pos.line, pos.column, message))

    def where(self, path: str, doc: YamlDoc, loc: Loc) -> str:
        return f"{path}:{doc.key_pos(loc).line}"

    def run(self) -> list[ConfigProblem]:
        self.platform_rules()
        self.customer_id_rules()
        self.script_name_rules()
        self.outbound_rules()
        self.tail_rules()
        self.tag_rules()
        self.binding_rules()
        self.bundle_rules()
        self.token_rules()
        self.date_rules()
        secret_rules.check(self)
        return self.problems

    def platform_rules(self) -> None:
        p, path, doc = self.platform.platform, self.platform.path, self.platform.doc
        # Both end up as URL path segments: '.', '..' or a '/' would address another
        # resource of the API than the one named (after ${VAR} expansion, so checked here).
        for field, value in (("account_id", p.account_id), ("namespace", p.namespace)):
            if not _URL_SEGMENT_RE.match(value):
                self.at(
                    path,
                    doc,
                    (field,),
                    (
                        f"{field} '{value}' may only contain letters, digits, '-', '_' and "
                        "'.', and must start with a letter or digit"
                    ),
                )
        if p.dispatcher.routing == "host" and not p.dispatcher.domain:
            self.at(
                path,
                doc,
                ("dispatcher", "routing"),
                (
                    "dispatcher.routing is 'host' but dispatcher.domain is not set; "
                    "set the domain that scripts are served under (<script>.<domain>)"
                ),
            )
        if p.dispatcher.name in p.outbound_workers:
            self.at(
                path,
                doc,
                ("outbound_workers", p.dispatcher.name),
                (f"outbound Worker '{p.dispatcher.name}' has the dispatcher's name; rename one"),
                key=True,
            )
        for tail_name in p.tail_workers:
            other = None
            if tail_name == p.dispatcher.name:
                other = "the dispatcher's name"
            elif tail_name in p.outbound_workers:
                other = "the name of an outbound Worker"
            if other:
                self.at(
                    path,
                    doc,
                    ("tail_workers", tail_name),
                    f"tail Worker '{tail_name}' has {other}; Worker names must be unique",
                    key=True,
                )
        seen: dict[str, int] = {}
        for i, module in enumerate(p.platform_modules):
            name = PurePosixPath(module).name
            if name in seen:
                self.at(
                    path,
                    doc,
                    ("platform_modules", i),
                    (
                        f"platform module file name '{name}' is already used by "
                        f"platform_modules[{seen[name]}]; modules are imported by file name"
                    ),
                )
            seen.setdefault(name, i)
        groups: list[tuple[str, str, Mapping[str, OutboundWorker | TailWorker]]] = [
            ("outbound_workers", "outbound", p.outbound_workers),
            ("tail_workers", "tail", p.tail_workers),
        ]
        for key, label, workers in groups:
            for worker_name, any_worker in workers.items():
                names: dict[str, int] = {}
                for i, (name, _) in enumerate(outbound_modules(any_worker)):
                    if name in names:
                        loc: Loc = (key, worker_name, "modules", i - 1)
                        self.at(
                            path,
                            doc,
                            loc,
                            (
                                f"{label} Worker '{worker_name}' has two modules named '{name}'; "
                                "module file names must be unique within a Worker"
                            ),
                        )
                    names.setdefault(name, i)
        for worker_name, worker in p.outbound_workers.items():
            for i, param in enumerate(worker.parameters):
                reason = reserved_param_reason(param)
                # Declaring what the dispatcher sets anyway documents the Worker's env.
                if reason and param not in RESERVED_PARAM_NAMES:
                    loc = ("outbound_workers", worker_name, "parameters", i)
                    self.at(path, doc, loc, f"parameter {reason}; remove it from the list")

    def customer_id_rules(self) -> None:
        tag = self.platform.platform.management_tag
        for entry in self.customers:
            cid = entry.customer.id
            reason = None
            if cid == tag:
                reason = f"is the management tag '{tag}'"
            elif cid == PROTECT_TAG:
                reason = f"is the reserved tag '{PROTECT_TAG}'"
            elif cid.startswith(RESERVED_TAG_PREFIXES):
                reason = "starts with a reserved tag prefix ('fp-' or 'plan-')"
            if reason:
                self.at(
                    entry.path,
                    entry.doc,
                    ("id",),
                    (
                        f"customer id '{cid}' {reason}; customer ids become script tags, "
                        "so rename the customer and its directory"
                    ),
                )

    def script_name_rules(self) -> None:
        p = self.platform.platform
        owners: dict[str, tuple[str, int]] = {}
        for entry in self.customers:
            for name in entry.customer.scripts:
                loc: Loc = ("scripts", name)
                if name == p.dispatcher.name:
                    self.at(
                        entry.path,
                        entry.doc,
                        loc,
                        (
                            f"script name '{name}' is the dispatcher's name "
                            f"(platform.yaml dispatcher.name); choose another name"
                        ),
                        key=True,
                    )
                elif name.startswith("_platform"):
                    self.at(
                        entry.path,
                        entry.doc,
                        loc,
                        (
                            f"script name '{name}' is reserved: the dispatcher serves "
                            "/_platform/... itself; choose another name"
                        ),
                        key=True,
                    )
                elif name in p.outbound_workers:
                    self.at(
                        entry.path,
                        entry.doc,
                        loc,
                        (
                            f"script name '{name}' is the name of an outbound Worker in "
                            "platform.yaml; choose another name"
                        ),
                        key=True,
                    )
                elif name in p.tail_workers:
                    self.at(
                        entry.path,
                        entry.doc,
                        loc,
                        (
                            f"script name '{name}' is the name of a tail Worker in "
                            "platform.yaml; choose another name"
                        ),
                        key=True,
                    )
                if name in owners:
                    first_path, first_line = owners[name]
                    self.at(
                        entry.path,
                        entry.doc,
                        loc,
                        (
                            f"script name '{name}' is already used in {first_path}:{first_line}; "
                            "script names are unique across the namespace, rename one"
                        ),
                        key=True,
                    )
                else:
                    owners[name] = (entry.path, entry.doc.key_pos(loc).line)

    def outbound_rules(self) -> None:
        workers = self.platform.platform.outbound_workers
        for entry in self.customers:
            ref = entry.customer.outbound
            if ref is None:
                continue
            worker = workers.get(ref.worker)
            if worker is None:
                known = ", ".join(sorted(workers)) or "none are declared"
                self.at(
                    entry.path,
                    entry.doc,
                    ("outbound", "worker"),
                    (
                        f"outbound Worker '{ref.worker}' is not declared in platform.yaml "
                        f"outbound_workers (declared: {known})"
                    ),
                )
                continue
            for param in ref.params:
                loc: Loc = ("outbound", "params", param)
                reason = reserved_param_reason(param)
                if reason:
                    self.at(entry.path, entry.doc, loc, f"parameter {reason}", key=True)
                elif param not in worker.parameters:
                    declared = ", ".join(worker.parameters) or "none"
                    self.at(
                        entry.path,
                        entry.doc,
                        loc,
                        (
                            f"outbound Worker '{ref.worker}' does not declare parameter '{param}' "
                            f"(declared: {declared}); add it to its parameters in platform.yaml"
                        ),
                        key=True,
                    )

    def tail_rules(self) -> None:
        declared = self.platform.platform.tail_workers
        for entry in self.customers:
            tails = entry.customer.tail
            if not tails:
                continue
            seen: set[str] = set()
            for i, name in enumerate(tails):
                loc: Loc = ("tail", i)
                if name not in declared:
                    known = ", ".join(sorted(declared)) or "none are declared"
                    self.at(
                        entry.path,
                        entry.doc,
                        loc,
                        (
                            f"tail Worker '{name}' is not declared in platform.yaml "
                            f"tail_workers (declared: {known})"
                        ),
                    )
                elif name in seen:
                    self.at(entry.path, entry.doc, loc, f"tail Worker '{name}' is listed twice")
                seen.add(name)

    def tag_rules(self) -> None:
        p = self.platform.platform
        customer_ids = {entry.customer.id for entry in self.customers}
        for entry in self.customers:
            for name, script in entry.customer.scripts.items():
                allowed = MAX_TAGS - own_tag_count(script)
                if len(script.tags) > allowed:
                    self.at(
                        entry.path,
                        entry.doc,
                        ("scripts", name, "tags"),
                        (
                            f"script '{name}' has {len(script.tags)} tags but at most {allowed} "
                            f"are allowed: Cloudflare keeps {MAX_TAGS} per script and the "
                            f"reconciler uses {own_tag_count(script)}"
                        ),
                    )
                for i, tag in enumerate(script.tags):
                    reason = None
                    if tag == p.management_tag:
                        reason = "is the management tag"
                    elif tag == PROTECT_TAG:
                        reason = "is reserved for 'protect: true'"
                    elif tag.startswith(RESERVED_TAG_PREFIXES):
                        reason = "starts with a reserved prefix ('fp-' or 'plan-')"
                    elif tag in customer_ids:
                        reason = "is a customer id (it would list the script as theirs)"
                    if reason:
                        self.at(
                            entry.path,
                            entry.doc,
                            ("scripts", name, "tags", i),
                            (f"tag '{tag}' {reason}; choose another tag"),
                        )
                if len(set(script.tags)) != len(script.tags):
                    self.at(
                        entry.path,
                        entry.doc,
                        ("scripts", name, "tags"),
                        (f"script '{name}' lists a tag twice"),
                    )

    def binding_rules(self) -> None:
        platform_d1 = self.platform.platform.d1
        mirror = platform_d1.database_id.lower() if platform_d1 is not None else None
        # A database holds one customer's data: binding it from two customers' scripts
        # would let one read and write the other's rows.
        bound_by: dict[str, tuple[str, str]] = {}
        for entry in self.customers:
            for name, script in entry.customer.scripts.items():
                for binding, database_id in script.d1.items():
                    loc: Loc = ("scripts", name, "d1", binding)
                    owner = bound_by.setdefault(
                        database_id.lower(),
                        (entry.customer.id, self.where(entry.path, entry.doc, loc)),
                    )
                    if database_id.lower() == mirror:
                        self.at(
                            entry.path,
                            entry.doc,
                            loc,
                            (
                                f"D1 binding '{binding}' names the platform's own database "
                                "(platform.yaml d1, which holds every customer's tokens); "
                                "customer scripts may not bind it"
                            ),
                        )
                    elif owner[0] != entry.customer.id:
                        self.at(
                            entry.path,
                            entry.doc,
                            loc,
                            (
                                f"D1 database {database_id} is already bound by customer "
                                f"'{owner[0]}' ({owner[1]}); a database belongs to one "
                                "customer, so create another one for this script"
                            ),
                        )
                    if binding in script.vars:
                        var_at = self.where(
                            entry.path, entry.doc, ("scripts", name, "vars", binding)
                        )
                        self.at(
                            entry.path,
                            entry.doc,
                            loc,
                            (
                                f"D1 binding '{binding}' has the name of a var of script '{name}' "
                                f"({var_at}); both become env.{binding}, so rename one"
                            ),
                            key=True,
                        )
                    elif binding.startswith("__"):
                        self.at(
                            entry.path,
                            entry.doc,
                            loc,
                            (
                                f"D1 binding name '{binding}' is reserved: names starting with "
                                "'__' belong to the platform; choose another name"
                            ),
                            key=True,
                        )

    def bundle_rules(self) -> None:
        p = self.platform.platform
        platform_names = {PurePosixPath(path).name for path in p.platform_modules}
        for entry in self.customers:
            for name, script in entry.customer.scripts.items():
                modules = script_modules(entry.directory, script, p)
                customer_part = modules[: 1 + len(script.modules)]
                seen: set[str] = set()
                for i, (module_name, _) in enumerate(customer_part):
                    loc: Loc = (
                        ("scripts", name, "main_module")
                        if i == 0
                        else ("scripts", name, "modules", i - 1)
                    )
                    if module_name in platform_names:
                        self.at(
                            entry.path,
                            entry.doc,
                            loc,
                            (
                                f"module '{module_name}' has the name of a platform module; "
                                "rename the file"
                            ),
                        )
                    elif module_name in seen:
                        self.at(
                            entry.path,
                            entry.doc,
                            loc,
                            (f"module '{module_name}' is listed twice in script '{name}'"),
                        )
                    seen.add(module_name)
                unique_paths = {path for _, path in modules}
                if any(path not in self.sizes for path in unique_paths):
                    continue  # already reported as unreadable
                total = sum(self.sizes[path] for path in unique_paths)
                if total > p.max_bundle_bytes:
                    self.at(
                        entry.path,
                        entry.doc,
                        ("scripts", name),
                        (
                            f"script '{name}' bundles {total} bytes (with platform modules), more "
                            f"than max_bundle_bytes ({p.max_bundle_bytes}); make it smaller"
                        ),
                        key=True,
                    )

    def token_rules(self) -> None:
        hashes: dict[str, tuple[str, int]] = {}
        for entry in self.customers:
            names: set[str] = set()
            for i, token in enumerate(entry.customer.tokens):
                if token.name in names:
                    self.at(
                        entry.path,
                        entry.doc,
                        ("tokens", i, "name"),
                        (f"token name '{token.name}' is used twice; rename one"),
                    )
                names.add(token.name)
                loc: Loc = ("tokens", i, "sha256")
                if token.sha256 in hashes:
                    first_path, first_line = hashes[token.sha256]
                    self.at(
                        entry.path,
                        entry.doc,
                        loc,
                        (
                            f"this token hash is already used in {first_path}:{first_line}; "
                            "every token must be distinct: create a new one with "
                            "`wfp-reconcile token create`"
                        ),
                    )
                else:
                    hashes[token.sha256] = (entry.path, entry.doc.value_pos(loc).line)

    def date_rules(self) -> None:
        p, path, doc = self.platform.platform, self.platform.path, self.platform.doc
        dated: list[tuple[str, YamlDoc, Loc, str | None]] = [
            (path, doc, ("compatibility_date",), p.compatibility_date),
            (path, doc, ("dispatcher", "compatibility_date"), p.dispatcher.compatibility_date),
        ]
        dated += [
            (path, doc, ("outbound_workers", name, "compatibility_date"), w.compatibility_date)
            for name, w in p.outbound_workers.items()
        ]
        dated += [
            (path, doc, ("tail_workers", name, "compatibility_date"), t.compatibility_date)
            for name, t in p.tail_workers.items()
        ]
        for entry in self.customers:
            dated += [
                (
                    entry.path,
                    entry.doc,
                    ("scripts", name, "compatibility_date"),
                    s.compatibility_date,
                )
                for name, s in entry.customer.scripts.items()
            ]
        for file, fdoc, loc, value in _dates(dated):
            self.at(file, fdoc, loc, f"'{value}' is not a real date (YYYY-MM-DD)")


def _dates(
    items: list[tuple[str, YamlDoc, Loc, str | None]],
) -> Iterator[tuple[str, YamlDoc, Loc, str]]:
    for file, doc, loc, value in items:
        if value is None:
            continue
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            yield file, doc, loc, value


def check_repo(
    platform: PlatformEntry, customers: list[CustomerEntry], sizes: Mapping[str, int]
) -> list[ConfigProblem]:
    """Every cross-file problem of a repository whose files each validated.

    Args:
        platform: ``platform.yaml``, validated.
        customers: every ``customer.yaml`` that validated.
        sizes: byte size of every module that could be read, by repository path.
    """
    return _Checker(platform, customers, sizes).run()
