"""Who may change what: the ownership check for pull requests.

Every changed path must be owned by the pull request's author:

- ``customers/<dir>/...`` by the ``owners`` of that customer **as declared at the
  base revision** (a pull request cannot add its author as an owner and pass);
- everything else (``platform.yaml``, ``platform/``, the tool, CI) and every new
  customer directory by the platform ``admins``, also read at the base revision;
  when the platform is a subdirectory of a git repository, every path outside it
  (``../.github/...``, the tool's code) is the admins' too.

Some changes need a platform admin even when the author owns the files, because
they would hand one customer's identity or scripts to another: moving files
between customer directories (renaming a customer), changing a customer's ``id``
(it is the tag Cloudflare lists that customer's scripts by), and declaring a script
name that another customer declares at the base revision. Platform policy in a
customer's own ``customer.yaml`` is the admins' as well (``POLICY_FIELDS``: plan,
suspension, limits, outbound Worker, tail, Logpush, and each script's limits and
D1 bindings); tokens, owners and the scripts' code and settings are the owners'.
Platform admins may change anything.

The changes are what merging the pull request would change on the base branch
(see ``changed_paths``), and the head state is read from that merge result, so
what is checked is what lands.

``check_ownership`` is pure: it works on the changed paths and an
``OwnershipState`` of each revision. ``read_state`` builds that state through a
``RepoSource``, reading only the few fields ownership needs, so that a broken
head revision is still checked (validation reports its problems separately).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from wfp_reconcile.config.source import RepoSource
from wfp_reconcile.errors import OwnershipError
from wfp_reconcile.gitsource import Change, GitTreeSource, changed_paths, merged_source

__all__ = [
    "ChangeSummary",
    "CustomerOwnership",
    "OwnershipReport",
    "OwnershipState",
    "Violation",
    "check_ownership",
    "check_revisions",
    "check_revisions_for",
    "customer_dir",
    "read_state",
    "summarize_changes",
]

CUSTOMERS_DIR = "customers"
CUSTOMER_FILE = "customer.yaml"
PLATFORM_FILE = "platform.yaml"
OUTSIDE_PREFIX = "../"

POLICY_FIELDS = ("plan", "suspended", "limits", "outbound", "tail", "logpush")
"""Top-level ``customer.yaml`` fields only platform admins may change."""
SCRIPT_POLICY_FIELDS = ("limits", "d1")
"""Fields of each script only platform admins may change (or set on a new script)."""


def customer_dir(path: str) -> str | None:
    """The customer directory name a repository path lies in, or None for platform files."""
    parts = PurePosixPath(path).parts
    if len(parts) >= 3 and parts[0] == CUSTOMERS_DIR:
        return parts[1]
    return None


def _customer_file(directory: str) -> str:
    return f"{CUSTOMERS_DIR}/{directory}/{CUSTOMER_FILE}"


def _same_login(a: str, b: str) -> bool:
    # GitHub logins are case-insensitive.
    return a.casefold() == b.casefold()


def _has_login(logins: Iterable[str], login: str) -> bool:
    return any(_same_login(candidate, login) for candidate in logins)


@dataclasses.dataclass(frozen=True)
class CustomerOwnership:
    """What ownership needs to know about one customer directory at one revision."""

    directory: str
    id: str | None
    owners: tuple[str, ...]
    scripts: frozenset[str]
    readable: bool = True
    """False when ``customer.yaml`` could not be parsed: then nobody but admins owns it."""
    policy: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Policy field (``plan``, ``scripts.<name>.limits``) to its value as canonical JSON."""
    hostnames: frozenset[str] = frozenset()
    """The customer's own domains (``hostnames`` keys): claimed like script names."""


@dataclasses.dataclass(frozen=True)
class OwnershipState:
    """Platform admins and customer owners at one revision."""

    admins: tuple[str, ...]
    customers: Mapping[str, CustomerOwnership]
    """By directory name under ``customers/``."""

    def script_holder(self, script: str) -> CustomerOwnership | None:
        for customer in self.customers.values():
            if script in customer.scripts:
                return customer
        return None

    def hostname_holder(self, hostname: str) -> CustomerOwnership | None:
        for customer in self.customers.values():
            if hostname in customer.hostnames:
                return customer
        return None


@dataclasses.dataclass(frozen=True, order=True)
class Violation:
    """A changed path its author may not change alone, and who can approve it."""

    path: str
    reason: str
    owners: tuple[str, ...] = ()
    """Customer owners who may approve, besides the admins."""
    admins: tuple[str, ...] = ()

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.owners, *self.admins)))

    @property
    def message(self) -> str:
        who: list[str] = []
        if self.owners:
            who.append("an owner of the customer (" + ", ".join(self.owners) + ")")
        if self.admins:
            who.append("a platform admin (" + ", ".join(self.admins) + ")")
        if not who:
            return (
                f"{self.path}: {self.reason}; no platform admins are declared in "
                f"{PLATFORM_FILE} at the base revision, so add them there first."
            )
        return f"{self.path}: {self.reason}; must be made or approved by " + " or ".join(who) + "."


@dataclasses.dataclass(frozen=True)
class OwnershipReport:
    """The outcome of an ownership check."""

    actor: str
    actor_is_admin: bool
    changes: tuple[Change, ...]
    violations: tuple[Violation, ...]

    @property
    def passed(self) -> bool:
        return not self.violations

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "actor": self.actor,
            "actor_is_admin": self.actor_is_admin,
            "passed": self.passed,
            "changes": [_change_json(change) for change in self.changes],
            "violations": [
                {
                    "path": v.path,
                    "reason": v.reason,
                    "owners": list(v.owners),
                    "admins": list(v.admins),
                    "message": v.message,
                }
                for v in self.violations
            ],
        }


def _change_json(change: Change) -> dict[str, Any]:
    data: dict[str, Any] = {"path": change.path, "status": change.status}
    if change.old_path is not None:
        data["old_path"] = change.old_path
    return data


def check_ownership(
    changes: Sequence[Change], base: OwnershipState, head: OwnershipState, actor: str
) -> OwnershipReport:
    """Every path in ``changes`` that ``actor`` may not change alone, with its approvers."""
    is_admin = _has_login(base.admins, actor)
    found: dict[tuple[str, str], Violation] = {}

    def add(violation: Violation) -> None:
        found.setdefault((violation.path, violation.reason), violation)

    if not is_admin:
        for change in changes:
            for violation in _path_violations(change, base, actor):
                add(violation)
        for directory in sorted(_edited_customer_files(changes)):
            for violation in _customer_violations(directory, base, head, actor):
                add(violation)
    return OwnershipReport(
        actor=actor,
        actor_is_admin=is_admin,
        changes=tuple(changes),
        violations=tuple(sorted(found.values())),
    )


def _path_violations(change: Change, base: OwnershipState, actor: str) -> list[Violation]:
    admins = base.admins
    violations: list[Violation] = []
    if change.status == "renamed" and change.old_path is not None:
        old_dir, new_dir = customer_dir(change.old_path), customer_dir(change.path)
        if old_dir is not None and new_dir is not None and old_dir != new_dir:
            violations.append(
                Violation(
                    path=change.path,
                    reason=(
                        f"moves {change.old_path} from customer directory {old_dir!r} to "
                        f"{new_dir!r}; renaming or merging customers needs a platform admin"
                    ),
                    admins=admins,
                )
            )
    for path in change.paths:
        directory = customer_dir(path)
        if path.startswith(OUTSIDE_PREFIX):
            violations.append(
                Violation(
                    path=path,
                    reason=(
                        "lies outside the platform directory (CI workflows, the tool, other "
                        "code), which only platform admins may change"
                    ),
                    admins=admins,
                )
            )
            continue
        if directory is None:
            violations.append(Violation(path=path, reason="is a platform file", admins=admins))
            continue
        customer = base.customers.get(directory)
        if customer is None:
            violations.append(
                Violation(
                    path=path,
                    reason=f"creates the new customer directory {directory!r}",
                    admins=admins,
                )
            )
        elif not customer.readable:
            violations.append(
                Violation(
                    path=path,
                    reason=(
                        f"belongs to customer directory {directory!r}, whose "
                        f"{CUSTOMER_FILE} could not be read at the base revision"
                    ),
                    admins=admins,
                )
            )
        elif not _has_login(customer.owners, actor):
            violations.append(
                Violation(
                    path=path,
                    reason=f"belongs to customer {customer.id or directory!r}",
                    owners=customer.owners,
                    admins=admins,
                )
            )
    return violations


def _edited_customer_files(changes: Sequence[Change]) -> set[str]:
    directories: set[str] = set()
    for change in changes:
        if change.status == "deleted":
            continue
        directory = customer_dir(change.path)
        if directory is not None and change.path == _customer_file(directory):
            directories.add(directory)
    return directories


def _customer_violations(
    directory: str, base: OwnershipState, head: OwnershipState, actor: str
) -> list[Violation]:
    """Changes inside ``customer.yaml`` that reach beyond the customer itself."""
    admins = base.admins
    path = _customer_file(directory)
    now = head.customers.get(directory)
    if now is None:
        return []
    violations: list[Violation] = []
    before = base.customers.get(directory)
    # A missing or unparsable id at head fails validation; only a real new id is a takeover.
    if before is not None and before.id is not None and now.id is not None and now.id != before.id:
        violations.append(
            Violation(
                path=path,
                reason=(
                    f"changes the customer id from {before.id!r} to {now.id!r}; the id tags "
                    "every deployed script of the customer"
                ),
                admins=admins,
            )
        )
    if before is not None and before.readable and now.readable:
        for field in _changed_policy(before.policy, now.policy):
            violations.append(
                Violation(
                    path=path,
                    reason=(
                        f"changes {field!r}, a platform policy field (plan, suspension, "
                        "limits, outbound, tail, Logpush, D1 bindings) that only platform "
                        "admins may change"
                    ),
                    admins=admins,
                )
            )
    declared_before = before.scripts if before is not None else frozenset()
    for script in sorted(now.scripts - declared_before):
        holder = base.script_holder(script)
        if holder is None or holder.directory == directory:
            continue
        if _has_login(holder.owners, actor):
            continue  # the author owns both customers: moving a script between them is theirs
        violations.append(
            Violation(
                path=path,
                reason=(
                    f"claims the script name {script!r}, which customer "
                    f"{holder.id or holder.directory!r} declares at the base revision"
                ),
                owners=holder.owners,
                admins=admins,
            )
        )
    # A hostname, like a script name, moves between customers only with an admin.
    for hostname in sorted(now.hostnames - (before.hostnames if before else frozenset())):
        holder = base.hostname_holder(hostname)
        if holder is None or holder.directory == directory or _has_login(holder.owners, actor):
            continue
        violations.append(
            Violation(
                path=path,
                reason=(
                    f"claims the hostname {hostname!r}, which customer "
                    f"{holder.id or holder.directory!r} declares at the base revision"
                ),
                owners=holder.owners,
                admins=admins,
            )
        )
    return violations


def _changed_policy(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Policy fields whose value differs; a field that appears or disappears differs too."""
    return sorted(key for key in {*before, *after} if before.get(key) != after.get(key))


def _policy(data: Mapping[str, Any]) -> dict[str, str]:
    policy = {
        field: _canonical(data[field]) for field in POLICY_FIELDS if data.get(field) is not None
    }
    scripts = data.get("scripts")
    if isinstance(scripts, Mapping):
        for name, script in scripts.items():
            if not isinstance(script, Mapping):
                continue
            for field in SCRIPT_POLICY_FIELDS:
                if script.get(field) is not None:
                    policy[f"scripts.{name}.{field}"] = _canonical(script[field])
    return policy


def _canonical(value: object) -> str:
    # Key order and YAML spelling do not matter, only the value.
    return json.dumps(value, sort_keys=True, default=str)


@dataclasses.dataclass(frozen=True)
class ChangeSummary:
    """What a range of commits changed, by customer and platform file."""

    changes: tuple[Change, ...]
    customers: tuple[str, ...]
    """Customer directories with any change, including both sides of a move."""
    platform_files: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "customers": list(self.customers),
            "platform_files": list(self.platform_files),
            "changes": [_change_json(change) for change in self.changes],
        }


def summarize_changes(changes: Sequence[Change]) -> ChangeSummary:
    customers: set[str] = set()
    platform_files: set[str] = set()
    for change in changes:
        for path in change.paths:
            directory = customer_dir(path)
            if directory is None:
                platform_files.add(path)
            else:
                customers.add(directory)
    return ChangeSummary(
        changes=tuple(changes),
        customers=tuple(sorted(customers)),
        platform_files=tuple(sorted(platform_files)),
    )


def read_state(source: RepoSource) -> OwnershipState:
    """Admins and customer owners as declared in ``source``, tolerating broken files.

    A file that cannot be parsed owns nothing: its paths then need a platform admin,
    so a broken revision can never widen who may change what.
    """
    platform = _load_mapping(source, PurePosixPath(PLATFORM_FILE))
    admins = _logins(platform.get("admins")) if platform is not None else ()
    customers: dict[str, CustomerOwnership] = {}
    root = PurePosixPath(CUSTOMERS_DIR)
    if source.kind(root) == "dir":
        for name in source.list_dir(root):
            yaml_path = root / name / CUSTOMER_FILE
            if source.kind(yaml_path) != "file":
                continue
            data = _load_mapping(source, yaml_path)
            if data is None:
                customers[name] = CustomerOwnership(name, None, (), frozenset(), readable=False)
                continue
            raw_id = data.get("id")
            scripts = data.get("scripts")
            customers[name] = CustomerOwnership(
                directory=name,
                id=raw_id if isinstance(raw_id, str) else None,
                owners=_logins(data.get("owners")),
                scripts=frozenset(str(key) for key in scripts if isinstance(key, str))
                if isinstance(scripts, Mapping)
                else frozenset(),
                policy=_policy(data),
                hostnames=_keys(data.get("hostnames")),
            )
    return OwnershipState(admins=admins, customers=customers)


def _keys(value: object) -> frozenset[str]:
    return (
        frozenset(k for k in value if isinstance(k, str))
        if isinstance(value, Mapping)
        else frozenset()
    )


def _load_mapping(source: RepoSource, path: PurePosixPath) -> Mapping[str, Any] | None:
    if source.kind(path) != "file":
        return None
    try:
        data = yaml.safe_load(source.read_bytes(path))
    except (OSError, yaml.YAMLError):
        return None
    return data if isinstance(data, Mapping) else None


def _logins(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(item for item in value if isinstance(item, str) and item)


def check_revisions(repo: Path, base: str, head: str, actor: str) -> OwnershipReport:
    """The ownership check of a pull request from ``base`` to ``head`` for one ``actor``."""
    return check_revisions_for(repo, base, head, [actor])[0]


def check_revisions_for(
    repo: Path, base: str, head: str, actors: Sequence[str]
) -> tuple[OwnershipReport, ...]:
    """The ownership check of a pull request for each distinct login in ``actors``.

    Everyone who put commits into the pull request (its author, whoever pushed last)
    must own every change: the pull request passes only when every report does.
    Owners and admins come from ``base`` itself (the tip of the target branch: what
    is trusted now); the changes and the head state from the result of merging.
    """
    distinct: dict[str, str] = {}
    for actor in actors:
        if actor:
            distinct.setdefault(actor.casefold(), actor)  # logins are case-insensitive
    if not distinct:
        raise OwnershipError("the ownership check needs the login of at least one actor")
    changes = changed_paths(repo, base, head)
    with GitTreeSource(repo, base) as base_source, merged_source(repo, base, head) as merged:
        base_state = read_state(base_source)
        head_state = read_state(merged)
    return tuple(
        check_ownership(changes, base_state, head_state, actor) for actor in distinct.values()
    )
