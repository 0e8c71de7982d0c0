"""Customer hostnames: valid lowercase DNS names, the customer's own scripts, unique across
customers (a collision names both files), never a name of the platform itself."""

from __future__ import annotations

import re

from wfp_reconcile.config.yamlread import Loc
from wfp_reconcile.hostnames.names import covers, hostname_problem, is_wildcard, under

from .context import CustomerEntry, RuleContext

_ZONE_ID = re.compile(r"^[0-9a-f]{32}$")


def check(ctx: RuleContext) -> None:
    p = ctx.platform.platform
    settings = p.custom_hostnames
    if settings is not None:
        # It becomes a URL path segment; Cloudflare's zone ids are 32 hex digits.
        if not _ZONE_ID.match(settings.zone_id):
            ctx.at(
                ctx.platform.path,
                ctx.platform.doc,
                ("custom_hostnames", "zone_id"),
                f"custom_hostnames.zone_id '{settings.zone_id}' is not a zone id (32 hex "
                "digits, shown on the zone's overview page in the dashboard)",
            )
        for field in ("fallback_origin", "zone_name"):
            value = getattr(settings, field)
            problem = value and hostname_problem(value, allow_wildcard=False)
            if problem:
                ctx.at(ctx.platform.path, ctx.platform.doc, ("custom_hostnames", field), problem)
    claimed: dict[str, tuple[CustomerEntry, int]] = {}
    for entry in ctx.customers:
        for hostname, script in entry.customer.hostnames.items():
            loc: Loc = ("hostnames", hostname)
            reason = _platform_reason(ctx, hostname, script, entry)
            if reason:
                ctx.at(entry.path, entry.doc, loc, reason, key=True)
                continue
            line = entry.doc.key_pos(loc).line
            first = claimed.get(hostname)
            if first is not None:
                ctx.at(
                    entry.path,
                    entry.doc,
                    loc,
                    (
                        f"hostname '{hostname}' is already declared in {first[0].path}:"
                        f"{first[1]}; a hostname belongs to one customer, remove one"
                    ),
                    key=True,
                )
                continue
            claimed[hostname] = (entry, line)
    # A wildcard of one customer must not cover another customer's hostname. A wildcard
    # covers names one label below its suffix, so only those are compared (comparing every
    # wildcard with every hostname would be quadratic in the fleet's hostnames).
    below: dict[str, list[str]] = {}
    for name in claimed:
        below.setdefault(name.partition(".")[2], []).append(name)
    for hostname, (entry, _) in claimed.items():
        if not is_wildcard(hostname):
            continue
        for other_name in below.get(hostname[2:], ()):
            other, other_line = claimed[other_name]
            if other is not entry and covers(hostname, other_name):
                ctx.at(
                    entry.path,
                    entry.doc,
                    ("hostnames", hostname),
                    (
                        f"wildcard '{hostname}' covers '{other_name}' of another customer "
                        f"({other.path}:{other_line}); a hostname belongs to one customer"
                    ),
                    key=True,
                )


def _platform_reason(ctx: RuleContext, hostname: str, script: str, entry: CustomerEntry) -> str:
    p = ctx.platform.platform
    settings = p.custom_hostnames
    if settings is None:
        return (
            f"hostname '{hostname}' needs custom hostnames: an admin must configure "
            "custom_hostnames (zone_id, fallback_origin) in platform.yaml"
        )
    problem = hostname_problem(hostname, allow_wildcard=settings.allow_wildcards)
    if problem:
        return problem
    bare = hostname[2:] if is_wildcard(hostname) else hostname
    if settings.zone_name and under(bare, settings.zone_name):
        return (
            f"hostname '{hostname}' is in the platform's own zone {settings.zone_name}; "
            "declare a domain of the customer's"
        )
    if under(bare, settings.fallback_origin):
        return f"hostname '{hostname}' is the platform's fallback origin; choose another"
    domain = p.dispatcher.domain
    if domain and under(bare, domain.lower()):
        return (
            f"hostname '{hostname}' is under the dispatcher's domain {domain} "
            "(the platform's own <script>.<domain> names); choose another"
        )
    if script not in entry.customer.scripts:
        return (
            f"hostname '{hostname}' names script '{script}', which this customer does not "
            "declare under scripts; a hostname serves one of the customer's own scripts"
        )
    return ""
