"""Static assets and observability of customer scripts (``wfp_reconcile.assets.rules``)."""

from __future__ import annotations

from wfp_reconcile.assets.rules import check_customer_assets

from .context import RuleContext


def check(ctx: RuleContext) -> None:
    ctx.problems.extend(check_customer_assets(ctx.customers))
