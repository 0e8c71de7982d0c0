"""What a range of commits changed, by customer and platform file (for ``changed``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from wfp_reconcile.gitsource import PathChange

from .paths import change_json, customer_dir

__all__ = ["ChangeSummary", "summarize_changes"]


@dataclasses.dataclass(frozen=True)
class ChangeSummary:
    """What a range of commits changed, by customer and platform file."""

    changes: tuple[PathChange, ...]
    customers: tuple[str, ...]
    """Customer directories with any change, including both sides of a move."""
    platform_files: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "customers": list(self.customers),
            "platform_files": list(self.platform_files),
            "changes": [change_json(change) for change in self.changes],
        }


def summarize_changes(changes: Sequence[PathChange]) -> ChangeSummary:
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
