"""D1 bindings: one customer per database, never the platform's, no clash with vars."""

from __future__ import annotations

from wfp_reconcile.config.yamlread import Loc

from .context import RuleContext


def check(ctx: RuleContext) -> None:
    platform_d1 = ctx.platform.platform.d1
    mirror = platform_d1.database_id.lower() if platform_d1 is not None else None
    # A database holds one customer's data: binding it from two customers' scripts
    # would let one read and write the other's rows.
    bound_by: dict[str, tuple[str, str]] = {}
    for entry in ctx.customers:
        for name, script in entry.customer.scripts.items():
            for binding, database_id in script.d1.items():
                loc: Loc = ("scripts", name, "d1", binding)
                owner = bound_by.setdefault(
                    database_id.lower(),
                    (entry.customer.id, ctx.where(entry.path, entry.doc, loc)),
                )
                if database_id.lower() == mirror:
                    ctx.at(
                        entry.path,
                        entry.doc,
                        loc,
                        (
                            f"D1 binding '{binding}' names the platform's own database "
                            "(platform.yaml d1, which holds every customer's tokens); "
                            "customer scripts may not bind it"
                        ),
                    )
                elif owner[0] != entry.customer.id:
                    ctx.at(
                        entry.path,
                        entry.doc,
                        loc,
                        (
                            f"D1 database {database_id} is already bound by customer "
                            f"'{owner[0]}' ({owner[1]}); a database belongs to one "
                            "customer, so create another one for this script"
                        ),
                    )
                if binding in script.vars:
                    var_at = ctx.where(entry.path, entry.doc, ("scripts", name, "vars", binding))
                    ctx.at(
                        entry.path,
                        entry.doc,
                        loc,
                        (
                            f"D1 binding '{binding}' has the name of a var of script '{name}' "
                            f"({var_at}); both become env.{binding}, so rename one"
                        ),
                        key=True,
                    )
                elif binding.startswith("__"):
                    ctx.at(
                        entry.path,
                        entry.doc,
                        loc,
                        (
                            f"D1 binding name '{binding}' is reserved: names starting with "
                            "'__' belong to the platform; choose another name"
                        ),
                        key=True,
                    )
