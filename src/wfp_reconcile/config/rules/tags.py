"""User tags fit beside the reconciler's own and never impersonate them."""

from __future__ import annotations

from .common import MAX_TAGS, PROTECT_TAG, RESERVED_TAG_PREFIXES, own_tag_count
from .context import RuleContext


def check(ctx: RuleContext) -> None:
    p = ctx.platform.platform
    customer_ids = {entry.customer.id for entry in ctx.customers}
    for entry in ctx.customers:
        for name, script in entry.customer.scripts.items():
            allowed = MAX_TAGS - own_tag_count(script)
            if len(script.tags) > allowed:
                ctx.at(
                    entry.path,
                    entry.doc,
                    ("scripts", name, "tags"),
                    (
                        f"script '{name}' has {len(script.tags)} tags but at most {allowed} "
                        f"are allowed: Cloudflare keeps {MAX_TAGS} per script and the "
                        f"reconciler uses {own_tag_count(script)}"
                    ),
                )
            for i, tag in enumerate(script.tags):
                reason = None
                if tag == p.management_tag:
                    reason = "is the management tag"
                elif tag == PROTECT_TAG:
                    reason = "is reserved for 'protect: true'"
                elif tag.startswith(RESERVED_TAG_PREFIXES):
                    reason = "starts with a reserved prefix ('fp-', 'plan-' or 'as-')"
                elif tag in customer_ids:
                    reason = "is a customer id (it would list the script as theirs)"
                if reason:
                    ctx.at(
                        entry.path,
                        entry.doc,
                        ("scripts", name, "tags", i),
                        (f"tag '{tag}' {reason}; choose another tag"),
                    )
            if len(set(script.tags)) != len(script.tags):
                ctx.at(
                    entry.path,
                    entry.doc,
                    ("scripts", name, "tags"),
                    (f"script '{name}' lists a tag twice"),
                )
