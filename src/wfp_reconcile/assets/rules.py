"""Checks of the ``assets`` and ``observability`` declarations that span fields (pure).

Field types and ranges are the model's (``wfp_reconcile.config.model``); these are the
rules Cloudflare applies to ``run_worker_first`` (wrangler's ``parseStaticRouting``) and
the ones that make an upload ambiguous (a binding name used twice).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import PurePosixPath
from typing import Protocol

from wfp_reconcile.config.model import Customer, Script
from wfp_reconcile.config.yamlread import Loc, YamlDoc
from wfp_reconcile.errors import ConfigProblem

from .desired import MANIFEST_MODULE

__all__ = ["MAX_ROUTING_RULES", "CustomerFile", "check_customer_assets", "routing_rule_problems"]

MAX_ROUTING_RULES = 100
"""``MAX_ROUTES_RULES`` of wrangler's workers-shared configuration constants."""


class CustomerFile(Protocol):
    """A validated ``customer.yaml`` with its positions (the loader's ``CustomerEntry``)."""

    @property
    def path(self) -> str: ...
    @property
    def customer(self) -> Customer: ...
    @property
    def doc(self) -> YamlDoc: ...
    @property
    def directory(self) -> PurePosixPath: ...


def routing_rule_problems(rules: Sequence[str]) -> Iterator[tuple[int | None, str]]:
    """``(index or None, message)`` for each way ``run_worker_first`` rules are invalid."""
    if not rules:
        yield None, "run_worker_first lists no rules; give at least one, or write true or false"
        return
    if len(rules) > MAX_ROUTING_RULES:
        yield None, f"run_worker_first has {len(rules)} rules; Cloudflare accepts at most 100"
    positive = [r for r in rules if r.startswith("/")]
    if not positive and any(r.startswith("!/") for r in rules):
        yield None, "run_worker_first has only negative rules; add at least one rule like '/api/*'"
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.startswith("!") and not rule.startswith("!/"):
            yield i, f"run_worker_first rule '{rule}': negative rules must start with '!/'"
        elif not rule.startswith(("/", "!/")):
            yield i, f"run_worker_first rule '{rule}': rules must start with '/' or '!/'"
        if rule in seen:
            yield i, f"run_worker_first rule '{rule}' is listed twice"
        seen.add(rule)
    for i, rule in enumerate(rules):
        for other in rules:
            if (
                other.endswith("*")
                and other != rule
                and other.startswith("!") == rule.startswith("!")
                and rule.startswith(other[:-1])
            ):
                yield i, f"run_worker_first rule '{rule}' is redundant: '{other}' covers it"
                break


def _binding_names(script: Script) -> Iterable[str]:
    yield from script.vars
    yield from script.d1


def _script_problems(name: str, script: Script) -> Iterator[tuple[Loc, str]]:
    assets = script.assets
    if assets is None:
        return
    base: Loc = ("scripts", name, "assets")
    for i, module in enumerate((script.main_module, *script.modules)):
        if module == MANIFEST_MODULE:
            loc: Loc = (
                ("scripts", name, "main_module") if i == 0 else ("scripts", name, "modules", i - 1)
            )
            yield loc, f"module name '{MANIFEST_MODULE}' is the site's manifest; rename the module"
    if assets.binding is not None and assets.binding in set(_binding_names(script)):
        yield (
            (*base, "binding"),
            f"assets binding '{assets.binding}' is also a var or D1 binding of script "
            f"'{name}'; choose another name",
        )
    rwf = assets.run_worker_first
    if isinstance(rwf, tuple):
        for index, message in routing_rule_problems(rwf):
            loc = (*base, "run_worker_first") + ((index,) if index is not None else ())
            yield loc, message


def check_customer_assets(entries: Iterable[CustomerFile]) -> list[ConfigProblem]:
    """Every problem of the ``assets`` declarations of validated customer files."""
    problems: list[ConfigProblem] = []
    for entry in entries:
        for name, script in entry.customer.scripts.items():
            for loc, message in _script_problems(name, script):
                pos = entry.doc.value_pos(loc)
                problems.append(ConfigProblem(entry.path, pos.line, pos.column, message))
    return problems
