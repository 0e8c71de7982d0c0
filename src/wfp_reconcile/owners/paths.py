"""Which customer a repository path belongs to, and how logins compare."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from wfp_reconcile.config.loader import CUSTOMERS_DIR
from wfp_reconcile.gitsource import PathChange

__all__ = ["OUTSIDE_PREFIX", "change_json", "customer_dir", "has_login", "same_login"]

OUTSIDE_PREFIX = "../"
"""How paths outside a platform that is a subdirectory of its git repository begin."""


def customer_dir(path: str) -> str | None:
    """The customer directory name a repository path lies in, or None for platform files."""
    parts = PurePosixPath(path).parts
    if len(parts) >= 3 and parts[0] == CUSTOMERS_DIR:
        return parts[1]
    return None


def same_login(a: str, b: str) -> bool:
    # GitHub logins are case-insensitive.
    return a.casefold() == b.casefold()


def has_login(logins: Iterable[str], login: str) -> bool:
    return any(same_login(candidate, login) for candidate in logins)


def change_json(change: PathChange) -> dict[str, Any]:
    data: dict[str, Any] = {"path": change.path, "status": change.status}
    if change.old_path is not None:
        data["old_path"] = change.old_path
    return data
