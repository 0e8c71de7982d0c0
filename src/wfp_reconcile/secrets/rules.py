"""Validation of secrets across files: values against platform.yaml's recipients,
names against a script's other bindings. Each value was checked on its own by the
model (``fields``); nothing here ever quotes a value.

``check(ctx)`` follows the rule-family protocol of ``wfp_reconcile.config.rules``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .age import ArmorProblem, inspect_armor

if TYPE_CHECKING:
    from wfp_reconcile.config.model import Platform
    from wfp_reconcile.config.rules import CustomerEntry, RuleContext
    from wfp_reconcile.config.yamlread import Loc

__all__ = ["check"]

_ROTATE = (
    "re-encrypt it with `wfp-reconcile secret set`, or re-encrypt every value with "
    "`wfp-reconcile secret rotate-recipients` (needs an identity)"
)


def check(ctx: RuleContext) -> None:
    platform = ctx.platform.platform
    _recipient_rules(ctx)
    for entry in ctx.customers:
        customer = entry.customer
        for name, value in (customer.secrets or {}).items():
            _value_rules(ctx, entry, ("secrets", name), value, platform)
            _name_rules(ctx, entry, ("secrets", name), name)
        for script_name, script in customer.scripts.items():
            for name, value in (script.secrets or {}).items():
                loc: Loc = ("scripts", script_name, "secrets", name)
                _value_rules(ctx, entry, loc, value, platform)
                _name_rules(ctx, entry, loc, name)
            _collision_rules(ctx, entry, script_name)


def _recipient_rules(ctx: RuleContext) -> None:
    entry = ctx.platform
    seen: set[str] = set()
    for i, recipient in enumerate(entry.platform.secrets.recipients):
        if recipient in seen:
            ctx.at(
                entry.path,
                entry.doc,
                ("secrets", "recipients", i),
                "this recipient is listed twice; remove one",
            )
        seen.add(recipient)


def _value_rules(
    ctx: RuleContext, entry: CustomerEntry, loc: Loc, value: str, platform: Platform
) -> None:
    recipients = platform.secrets.recipients
    if not recipients:
        ctx.at(
            entry.path,
            entry.doc,
            loc,
            (
                "platform.yaml declares no secrets.recipients, so nothing can decrypt this "
                "value; an admin adds the platform's recipient (`wfp-reconcile secret keygen`)"
            ),
        )
        return
    try:
        info = inspect_armor(value)
    except ArmorProblem:  # reported by the model already
        return
    if info.other_types:
        kinds = ", ".join(sorted(set(info.other_types)))
        ctx.at(
            entry.path,
            entry.doc,
            loc,
            (
                f"is encrypted to a {kinds} recipient; the platform decrypts only with its "
                f"X25519 identities (platform.yaml secrets.recipients): {_ROTATE}"
            ),
        )
    elif info.x25519_count != len(recipients):
        declared = ctx.where(ctx.platform.path, ctx.platform.doc, ("secrets", "recipients"))
        ctx.at(
            entry.path,
            entry.doc,
            loc,
            (
                f"is encrypted to {info.x25519_count} recipient(s), but {declared} declares "
                f"{len(recipients)}; {_ROTATE}"
            ),
        )


def _name_rules(ctx: RuleContext, entry: CustomerEntry, loc: Loc, name: str) -> None:
    if name.startswith("__"):
        ctx.at(
            entry.path,
            entry.doc,
            loc,
            (
                f"secret name '{name}' is reserved: names starting with '__' belong to the "
                "platform; choose another name"
            ),
            key=True,
        )


def _collision_rules(ctx: RuleContext, entry: CustomerEntry, script_name: str) -> None:
    """A secret, a var and a D1 binding of one script all become ``env.<NAME>``."""
    customer = entry.customer
    script = customer.scripts[script_name]
    secrets: Mapping[str, Loc] = {
        **{n: ("secrets", n) for n in customer.secrets or {}},
        **{n: ("scripts", script_name, "secrets", n) for n in script.secrets or {}},
    }
    for name, loc in secrets.items():
        if script.assets is not None and script.assets.binding == name:
            other = ctx.where(entry.path, entry.doc, ("scripts", script_name, "assets", "binding"))
            ctx.at(
                entry.path,
                entry.doc,
                loc,
                (
                    f"secret '{name}' has the name of the assets binding of script "
                    f"'{script_name}' ({other}); both become env.{name}, so rename one"
                ),
                key=True,
            )
        for kind, names in (("var", script.vars), ("D1 binding", script.d1)):
            if name in names:
                other = ctx.where(
                    entry.path,
                    entry.doc,
                    ("scripts", script_name, "vars" if kind == "var" else "d1", name),
                )
                ctx.at(
                    entry.path,
                    entry.doc,
                    loc,
                    (
                        f"secret '{name}' has the name of a {kind} of script '{script_name}' "
                        f"({other}); both become env.{name}, so rename one"
                    ),
                    key=True,
                )
