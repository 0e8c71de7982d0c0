"""Script names are unique across the namespace and never a platform Worker's name."""

from __future__ import annotations

from wfp_reconcile.config.yamlread import Loc

from .context import RuleContext


def check(ctx: RuleContext) -> None:
    p = ctx.platform.platform
    owners: dict[str, tuple[str, int]] = {}
    for entry in ctx.customers:
        for name in entry.customer.scripts:
            loc: Loc = ("scripts", name)
            if name == p.dispatcher.name:
                ctx.at(
                    entry.path,
                    entry.doc,
                    loc,
                    (
                        f"script name '{name}' is the dispatcher's name "
                        f"(platform.yaml dispatcher.name); choose another name"
                    ),
                    key=True,
                )
            elif name.startswith("_platform"):
                ctx.at(
                    entry.path,
                    entry.doc,
                    loc,
                    (
                        f"script name '{name}' is reserved: the dispatcher serves "
                        "/_platform/... itself; choose another name"
                    ),
                    key=True,
                )
            elif name in p.outbound_workers:
                ctx.at(
                    entry.path,
                    entry.doc,
                    loc,
                    (
                        f"script name '{name}' is the name of an outbound Worker in "
                        "platform.yaml; choose another name"
                    ),
                    key=True,
                )
            elif name in p.tail_workers:
                ctx.at(
                    entry.path,
                    entry.doc,
                    loc,
                    (
                        f"script name '{name}' is the name of a tail Worker in "
                        "platform.yaml; choose another name"
                    ),
                    key=True,
                )
            if name in owners:
                first_path, first_line = owners[name]
                ctx.at(
                    entry.path,
                    entry.doc,
                    loc,
                    (
                        f"script name '{name}' is already used in {first_path}:{first_line}; "
                        "script names are unique across the namespace, rename one"
                    ),
                    key=True,
                )
            else:
                owners[name] = (entry.path, entry.doc.key_pos(loc).line)
