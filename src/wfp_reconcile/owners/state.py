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
from wfp_reconcile.config.policy import admin_only_values
from wfp_reconcile.config.source import RepoSource
from wfp_reconcile.errors import ConfigProblem

__all__ = ["CustomerOwnership", "OwnershipState", "read_state"]


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
    hostnames: frozenset[str] = frozenset()
    """The customer's own domains (``hostnames`` keys): claimed like script names."""


@dataclasses.dataclass(frozen=True)
class OwnershipState:
    """Platform admins and customer owners at one revision."""

    admins: tuple[str, ...]
    customers: Mapping[str, CustomerOwnership]
    """By directory name under ``customers/``."""
    platform_problems: tuple[ConfigProblem, ...] = ()
    """Why ``platform.yaml`` does not load (then ``admins`` is empty)."""

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
            if source.kind(root / name / CUSTOMER_FILE) != "file":
                continue
            entry, problems = load_customer_file(source, name, env=environ)
            if entry is None:
                customers[name] = CustomerOwnership(
                    name, None, (), frozenset(), readable=False, problems=tuple(problems)
                )
                continue
            customer = entry.customer
            customers[name] = CustomerOwnership(
                directory=name,
                id=customer.id,
                owners=customer.owners,
                scripts=frozenset(customer.scripts),
                policy=admin_only_values(Customer, entry.doc.data),
                hostnames=frozenset(customer.hostnames),
            )
    return OwnershipState(
        admins=admins, customers=customers, platform_problems=tuple(platform_problems)
    )
