"""Customer ids become script tags, so they may not be one of the reconciler's own."""

from __future__ import annotations

from .common import PROTECT_TAG, RESERVED_TAG_PREFIXES
from .context import RuleContext


def check(ctx: RuleContext) -> None:
    tag = ctx.platform.platform.management_tag
    for entry in ctx.customers:
        cid = entry.customer.id
        reason = None
        if cid == tag:
            reason = f"is the management tag '{tag}'"
        elif cid == PROTECT_TAG:
            reason = f"is the reserved tag '{PROTECT_TAG}'"
        elif cid.startswith(RESERVED_TAG_PREFIXES):
            reason = "starts with a reserved tag prefix ('fp-', 'plan-' or 'as-')"
        if reason:
            ctx.at(
                entry.path,
                entry.doc,
                ("id",),
                (
                    f"customer id '{cid}' {reason}; customer ids become script tags, "
                    "so rename the customer and its directory"
                ),
            )
