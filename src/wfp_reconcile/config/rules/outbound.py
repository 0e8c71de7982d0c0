"""A customer's outbound reference names a declared Worker and only parameters it declares."""

from __future__ import annotations

from wfp_reconcile.config.yamlread import Loc

from .common import reserved_param_reason
from .context import RuleContext


def check(ctx: RuleContext) -> None:
    workers = ctx.platform.platform.outbound_workers
    for entry in ctx.customers:
        ref = entry.customer.outbound
        if ref is None:
            continue
        worker = workers.get(ref.worker)
        if worker is None:
            known = ", ".join(sorted(workers)) or "none are declared"
            ctx.at(
                entry.path,
                entry.doc,
                ("outbound", "worker"),
                (
                    f"outbound Worker '{ref.worker}' is not declared in platform.yaml "
                    f"outbound_workers (declared: {known})"
                ),
            )
            continue
        for param in ref.params:
            loc: Loc = ("outbound", "params", param)
            reason = reserved_param_reason(param)
            if reason:
                ctx.at(entry.path, entry.doc, loc, f"parameter {reason}", key=True)
            elif param not in worker.parameters:
                declared = ", ".join(worker.parameters) or "none"
                ctx.at(
                    entry.path,
                    entry.doc,
                    loc,
                    (
                        f"outbound Worker '{ref.worker}' does not declare parameter '{param}' "
                        f"(declared: {declared}); add it to its parameters in platform.yaml"
                    ),
                    key=True,
                )
