"""Rules that span fields or files, checked after each file validated on its own.

Pure: the inputs are validated models, their YAML positions and module sizes.

Each family of rules is one module of this package with one function,
``check(ctx: RuleContext) -> None``, that reports problems through ``ctx.at``.

To add a family: write ``config/rules/<family>.py`` with its ``check`` and add its
module name on one line of ``FAMILIES`` below. Families run in that order, and the
problems of one run are listed in it; a test fails when a module of this package is
not registered or has no ``check``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import cast

from wfp_reconcile.errors import ConfigProblem

from .common import (
    MAX_TAGS,
    PROTECT_TAG,
    RESERVED_PARAM_NAMES,
    RESERVED_PARAM_PREFIXES,
    RESERVED_TAG_PREFIXES,
    outbound_modules,
    own_tag_count,
    reserved_param_reason,
    script_modules,
)
from .context import CustomerEntry, PlatformEntry, RuleContext

__all__ = [
    "FAMILIES",
    "MAX_TAGS",
    "PROTECT_TAG",
    "RESERVED_PARAM_NAMES",
    "RESERVED_PARAM_PREFIXES",
    "RESERVED_TAG_PREFIXES",
    "CustomerEntry",
    "PlatformEntry",
    "Rule",
    "RuleContext",
    "check_repo",
    "family_checks",
    "outbound_modules",
    "own_tag_count",
    "reserved_param_reason",
    "script_modules",
]

Rule = Callable[[RuleContext], None]

FAMILIES: tuple[str, ...] = (
    "platform_file",
    "customer_ids",
    "script_names",
    "outbound",
    "tail",
    "tags",
    "bindings",
    "bundles",
    "tokens",
    "dates",
    "assets",
    "hostnames",
)
"""Rule family modules of this package, in the order they run (one line each)."""


def family_checks() -> list[tuple[str, Rule]]:
    """``(family, check)`` for every registered family, in order."""
    checks: list[tuple[str, Rule]] = []
    for family in FAMILIES:
        module = importlib.import_module(f"{__name__}.{family}")
        check = getattr(module, "check", None)
        if not callable(check):
            raise TypeError(f"rule family {module.__name__} has no check(ctx) function")
        checks.append((family, cast(Rule, check)))
    return checks


def check_repo(
    platform: PlatformEntry, customers: list[CustomerEntry], sizes: Mapping[str, int]
) -> list[ConfigProblem]:
    """Every cross-file problem of a repository whose files each validated.

    Args:
        platform: ``platform.yaml``, validated.
        customers: every ``customer.yaml`` that validated.
        sizes: byte size of every module that could be read, by repository path.
    """
    ctx = RuleContext(platform, customers, sizes)
    for _, check in family_checks():
        check(ctx)
    return ctx.problems
