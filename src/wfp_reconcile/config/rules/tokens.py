"""Access tokens: unique names within a customer, unique hashes across all of them."""

from __future__ import annotations

from wfp_reconcile.config.yamlread import Loc

from .context import RuleContext


def check(ctx: RuleContext) -> None:
    hashes: dict[str, tuple[str, int]] = {}
    for entry in ctx.customers:
        names: set[str] = set()
        for i, token in enumerate(entry.customer.tokens):
            if token.name in names:
                ctx.at(
                    entry.path,
                    entry.doc,
                    ("tokens", i, "name"),
                    (f"token name '{token.name}' is used twice; rename one"),
                )
            names.add(token.name)
            loc: Loc = ("tokens", i, "sha256")
            if token.sha256 in hashes:
                first_path, first_line = hashes[token.sha256]
                ctx.at(
                    entry.path,
                    entry.doc,
                    loc,
                    (
                        f"this token hash is already used in {first_path}:{first_line}; "
                        "every token must be distinct: create a new one with "
                        "`wfp-reconcile token create`"
                    ),
                )
            else:
                hashes[token.sha256] = (entry.path, entry.doc.value_pos(loc).line)
