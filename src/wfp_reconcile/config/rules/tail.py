"""A customer's tail list names declared tail Workers, each once."""

from __future__ import annotations

from wfp_reconcile.config.yamlread import Loc

from .context import RuleContext


def check(ctx: RuleContext) -> None:
    declared = ctx.platform.platform.tail_workers
    for entry in ctx.customers:
        tails = entry.customer.tail
        if not tails:
            continue
        seen: set[str] = set()
        for i, name in enumerate(tails):
            loc: Loc = ("tail", i)
            if name not in declared:
                known = ", ".join(sorted(declared)) or "none are declared"
                ctx.at(
                    entry.path,
                    entry.doc,
                    loc,
                    (
                        f"tail Worker '{name}' is not declared in platform.yaml "
                        f"tail_workers (declared: {known})"
                    ),
                )
            elif name in seen:
                ctx.at(entry.path, entry.doc, loc, f"tail Worker '{name}' is listed twice")
            seen.add(name)
