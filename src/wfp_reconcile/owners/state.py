"""What ownership needs to know about one revision, read through the config loader."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import PurePosixPath

from wfp_reconcile.config.envvars import PlaceholderEnv
from wfp_reconcile.config.loader import (
    CUSTOMER_FILE,
    CUSTOMERS_DIR,
    load_customer_file,
    load_platform_file,
)
from wfp_reconcile.config.model import Customer
from wfp_reconcile.config.policy import admin_only_values, claimed_names
from wfp_reconcile.config.source import RepoSource
from wfp_reconcile.errors import ConfigProblem

__all__ = ["SCRIPT_NAME", "CustomerOwnership", "OwnershipState", "read_state"]

SCRIPT_NAME = "script name"
"""What ``Customer.scripts`` claims (its ``Claimed`` marker)."""


@dataclasses.dataclass(frozen=True)
class CustomerOwnership:
    """What ownership needs to know about one customer directory at one revision."""

    directory: str
    id: str | None
    owners: tuple[str, ...]
    scripts: frozenset[str]
    readable: bool = True
    """False when ``customer.yaml`` does not load: then nobody but admins owns it."""
    policy: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Admin-only field (``plan``, ``scripts.<name>.limits``) to its value as canonical JSON."""
    problems: tuple[ConfigProblem, ...] = ()
    """Why ``customer.yaml`` does not load (when ``readable`` is False)."""
    claims: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)
    """Names unique across customers, by what they are (fields marked ``Claimed``);
    script names are ``scripts``."""

    def claimed(self) -> dict[str, frozenset[str]]:
        """Every claimed name by what it is, script names included."""
        return {**self.claims, SCRIPT_NAME: self.scripts}


@dataclasses.dataclass(frozen=True)
class OwnershipState:
    """Platform admins and customer owners at one revision."""

    admins: tuple[str, ...]
    customers: Mapping[str, CustomerOwnership]
    """By directory name under ``customers/``."""
    platform_problems: tuple[ConfigProblem, ...] = ()
    """Why ``platform.yaml`` does not load (then ``admins`` is empty)."""

    def script_holder(self, script: str) -> CustomerOwnership | None:
        return self.holder(SCRIPT_NAME, script)

    def holder(self, what: str, name: str) -> CustomerOwnership | None:
        """The customer that claims ``name`` (a ``what``: script name, hostname, ...)."""
        for customer in self.customers.values():
            if name in customer.claimed().get(what, frozenset()):
                return customer
        return None


def read_state(source: RepoSource, *, env: Mapping[str, str] | None = None) -> OwnershipState:
    """Admins and customer owners as declared in ``source``.

    Every file is read by the config loader, as validation reads it; ``env`` defaults
    to a placeholder environment (see ``PlaceholderEnv``). A file that does not load
    owns nothing and records its problems.
    """
    environ = PlaceholderEnv() if env is None else env
    platform, platform_problems = load_platform_file(source, env=environ)
    admins = platform.platform.admins if platform is not None else ()
    customers: dict[str, CustomerOwnership] = {}
    root = PurePosixPath(CUSTOMERS_DIR)
    if source.kind(root) == "dir":
        for name in source.list_dir(root):
            # A symlink, directory or submodule in its place does not load either.
            if source.kind(root / name / CUSTOMER_FILE) == "missing":
                continue
            entry, problems = load_customer_file(source, name, env=environ)
            if entry is None:
                customers[name] = CustomerOwnership(
                    name, None, (), frozenset(), readable=False, problems=tuple(problems)
                )
                continue
            customer = entry.customer
            claims = claimed_names(customer)
            customers[name] = CustomerOwnership(
                directory=name,
                id=customer.id,
                owners=customer.owners,
                scripts=claims.pop(SCRIPT_NAME, frozenset()),
                policy=admin_only_values(Customer, entry.doc.data),
                claims=claims,
            )
    return OwnershipState(
        admins=admins, customers=customers, platform_problems=tuple(platform_problems)
    )
