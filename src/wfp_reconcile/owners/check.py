"""The ownership rules: pure functions of the changed paths and two ``OwnershipState``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from wfp_reconcile.config.loader import CUSTOMER_FILE, PLATFORM_FILE, customer_file
from wfp_reconcile.config.model import Customer
from wfp_reconcile.config.policy import admin_only_fields
from wfp_reconcile.gitsource import PathChange
from wfp_reconcile.quoting import quote_path

from .paths import OUTSIDE_PREFIX, change_json, customer_dir, has_login
from .state import OwnershipState

__all__ = ["OwnershipReport", "Violation", "check_ownership"]

_ADMIN_ONLY = ", ".join(admin_only_fields(Customer))


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
                f"{quote_path(self.path)}: {self.reason}; no platform admins are declared in "
                f"{PLATFORM_FILE} at the base revision, so add them there first."
            )
        return (
            f"{quote_path(self.path)}: {self.reason}; must be made or approved by "
            + " or ".join(who)
            + "."
        )


@dataclasses.dataclass(frozen=True)
class OwnershipReport:
    """The outcome of an ownership check."""

    actor: str
    actor_is_admin: bool
    changes: tuple[PathChange, ...]
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
            "changes": [change_json(change) for change in self.changes],
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


def check_ownership(
    changes: Sequence[PathChange], base: OwnershipState, head: OwnershipState, actor: str
) -> OwnershipReport:
    """Every path in ``changes`` that ``actor`` may not change alone, with its approvers."""
    is_admin = has_login(base.admins, actor)
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


def _path_violations(change: PathChange, base: OwnershipState, actor: str) -> list[Violation]:
    admins = base.admins
    violations: list[Violation] = []
    if change.status == "renamed" and change.old_path is not None:
        old_dir, new_dir = customer_dir(change.old_path), customer_dir(change.path)
        if old_dir is not None and new_dir is not None and old_dir != new_dir:
            violations.append(
                Violation(
                    path=change.path,
                    reason=(
                        f"moves {quote_path(change.old_path)} from customer directory "
                        f"{old_dir!r} to {new_dir!r}; renaming or merging customers needs a "
                        "platform admin"
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
                        f"{CUSTOMER_FILE} could not be read at the base revision (it does "
                        "not load)"
                    ),
                    admins=admins,
                )
            )
        elif not has_login(customer.owners, actor):
            violations.append(
                Violation(
                    path=path,
                    reason=f"belongs to customer {customer.id or directory!r}",
                    owners=customer.owners,
                    admins=admins,
                )
            )
    return violations


def _edited_customer_files(changes: Sequence[PathChange]) -> set[str]:
    directories: set[str] = set()
    for change in changes:
        if change.status == "deleted":
            continue
        directory = customer_dir(change.path)
        if directory is not None and change.path == customer_file(directory):
            directories.add(directory)
    return directories


def _customer_violations(
    directory: str, base: OwnershipState, head: OwnershipState, actor: str
) -> list[Violation]:
    """Changes inside ``customer.yaml`` that reach beyond the customer itself."""
    admins = base.admins
    path = customer_file(directory)
    now = head.customers.get(directory)
    if now is None:
        return []
    if not now.readable:
        # What the file would change is unknown, so nothing in it can pass as harmless.
        first = str(now.problems[0]) if now.problems else f"{path}: cannot be read"
        more = len(now.problems) - 1
        also = f" (and {more} more problem{'s' if more != 1 else ''})" if more > 0 else ""
        return [
            Violation(
                path=path,
                reason=(
                    f"does not load as validate and apply would read it: {first}{also}; "
                    "fix the file (`wfp-reconcile validate` lists every problem)"
                ),
                admins=admins,
            )
        ]
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
                        f"changes {field!r}, a platform policy field that only platform "
                        f"admins may change (admin-only: {_ADMIN_ONLY})"
                    ),
                    admins=admins,
                )
            )
    # Names unique across customers (script names, and every field marked Claimed):
    # declaring one another customer declares is theirs to approve.
    claimed_before = before.claimed() if before is not None else {}
    for what, names in sorted(now.claimed().items()):
        for name in sorted(names - claimed_before.get(what, frozenset())):
            holder = base.holder(what, name)
            if holder is None or holder.directory == directory:
                continue
            if has_login(holder.owners, actor):
                continue  # the author owns both customers: moving a name between them is theirs
            violations.append(
                Violation(
                    path=path,
                    reason=(
                        f"claims the {what} {name!r}, which customer "
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
