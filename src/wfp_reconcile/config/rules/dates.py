"""Every compatibility_date is a real calendar date."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from wfp_reconcile.config.yamlread import Loc, YamlDoc

from .context import RuleContext


def check(ctx: RuleContext) -> None:
    p, path, doc = ctx.platform.platform, ctx.platform.path, ctx.platform.doc
    dated: list[tuple[str, YamlDoc, Loc, str | None]] = [
        (path, doc, ("compatibility_date",), p.compatibility_date),
        (path, doc, ("dispatcher", "compatibility_date"), p.dispatcher.compatibility_date),
    ]
    dated += [
        (path, doc, ("outbound_workers", name, "compatibility_date"), w.compatibility_date)
        for name, w in p.outbound_workers.items()
    ]
    dated += [
        (path, doc, ("tail_workers", name, "compatibility_date"), t.compatibility_date)
        for name, t in p.tail_workers.items()
    ]
    for entry in ctx.customers:
        dated += [
            (
                entry.path,
                entry.doc,
                ("scripts", name, "compatibility_date"),
                s.compatibility_date,
            )
            for name, s in entry.customer.scripts.items()
        ]
    for file, fdoc, loc, value in _dates(dated):
        ctx.at(file, fdoc, loc, f"'{value}' is not a real date (YYYY-MM-DD)")


def _dates(
    items: list[tuple[str, YamlDoc, Loc, str | None]],
) -> Iterator[tuple[str, YamlDoc, Loc, str]]:
    for file, doc, loc, value in items:
        if value is None:
            continue
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            yield file, doc, loc, value
