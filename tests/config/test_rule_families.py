"""The cross-file rules are a package of families; every module in it is registered."""

from __future__ import annotations

import pkgutil

from wfp_reconcile.config import rules


def test_every_rule_module_is_a_registered_family() -> None:
    shared = {"common", "context"}
    modules = {info.name for info in pkgutil.iter_modules(rules.__path__)} - shared
    assert modules == set(rules.FAMILIES), (
        "add every new config/rules/<family>.py to rules.FAMILIES (one line)"
    )
    assert [name for name, _ in rules.family_checks()] == list(rules.FAMILIES)
