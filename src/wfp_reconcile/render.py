"""Plans and apply results as text (terminals), JSON (machines) and Markdown (PRs).

Functions here return strings; only the CLI writes them to the terminal.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from wfp_reconcile.apply import ApplyResult
from wfp_reconcile.change import Action, Change
from wfp_reconcile.d1mirror import MirrorResult, TableCounts
from wfp_reconcile.engine import ReconcileResult
from wfp_reconcile.kinds import kind
from wfp_reconcile.outcome import Inventory
from wfp_reconcile.plan import Plan
from wfp_reconcile.preflight.render import summary_line as preflight_summary
from wfp_reconcile.worker import WorkerKind

__all__ = [
    "MARKDOWN_LIMIT",
    "render_apply_result",
    "render_plan_json",
    "render_plan_markdown",
    "render_plan_text",
]

# GitHub rejects comments over 65,536 characters; keep room for a wrapper.
MARKDOWN_LIMIT = 65_000

SYMBOLS = {
    Action.CREATE: "+",
    Action.ADOPT: "+",
    Action.UPDATE: "~",
    Action.RETAG: "~",
    Action.DELETE: "-",
    Action.CONFLICT: "!",
    Action.PROTECTED: "#",
    Action.SKIPPED: "=",
}

COLORS = {"+": "green", "~": "yellow", "-": "red", "!": "magenta", "#": "cyan", "=": "bright_black"}


def _group_key(change: Change) -> str:
    return kind(change.kind).group(change)


def _grouped(changes: Iterable[Change]) -> list[tuple[str, list[Change]]]:
    ordered = sorted(changes, key=lambda c: (_group_key(c) != "platform", _group_key(c), c.name))
    return [(key, list(items)) for key, items in itertools.groupby(ordered, key=_group_key)]


def _describe(change: Change) -> str:
    head = f"{SYMBOLS[change.action]} {kind(change.kind).label(change)}"
    if change.action is Action.RETAG:
        head += " (tags only)"
    return head


def _field_lines(change: Change) -> list[str]:
    lines = []
    for field in change.fields:
        if field.summary is not None:
            lines.append(f"{field.field}: {field.summary}")
        elif change.action in (Action.CREATE, Action.ADOPT):
            lines.append(f"{field.field}: {field.after}")
        else:
            lines.append(f"{field.field}: {field.before or '(none)'} -> {field.after or '(none)'}")
    if change.reason:
        lines.append(change.reason)
    return lines


def summary_line(plan: Plan) -> str:
    s = plan.summary
    line = f"Plan: {s.add} to add, {s.change} to change, {s.destroy} to destroy."
    extras = [
        f"{n} {word}"
        for n, word in (
            (s.conflicts, "conflicts"),
            (s.protected, "protected"),
            (s.skipped, "skipped"),
        )
        if n
    ]
    return line + (f" ({', '.join(extras)})" if extras else "")


def cost_line(plan: Plan) -> str:
    e = plan.estimate
    rate = f"{e.requests_per_window} requests per {e.window_seconds:g} s"
    read = f"{e.read_calls} read calls"
    if not plan.tags_from_list:
        read += " (the namespace list did not include tags: read per script)"
    seconds = f"about {e.seconds:.0f} s of pacing" if e.seconds else "no pacing wait"
    if e.budget_remaining is not None:  # the account's real budget, from Ratelimit headers
        rate = f"{e.budget_remaining} requests left of the account's budget"
    return f"Cost: {read}; apply needs {e.write_calls} write calls, {seconds} at {rate}."


def _counts(counts: TableCounts) -> str:
    return f"+{counts.insert} ~{counts.update} -{counts.delete}"


def d1_lines(plan: Plan) -> list[str]:
    """The D1 mirror's part of a plan: pending migrations, then row changes per table."""
    if plan.d1 is None:
        return []
    lines = []
    pending = plan.d1.pending_migrations
    if pending:
        versions = ", ".join(str(v) for v in pending)
        lines.append(f"d1 schema: {len(pending)} migration(s) to apply ({versions})")
    lines += [f"d1 {table}: {_counts(counts)}" for table, counts in plan.d1.tables.items()]
    return lines


def render_plan_text(plan: Plan, *, color: bool = False) -> str:
    """A Terraform-like plan: ``+ ~ -`` grouped by customer, then the summary."""

    def paint(text: str, symbol: str) -> str:
        if not color:
            return text
        codes = {"green": 32, "yellow": 33, "red": 31, "magenta": 35, "cyan": 36}
        code = codes.get(COLORS[symbol], 90)
        return f"\x1b[{code}m{text}\x1b[0m"

    where = f"namespace {plan.namespace}"
    if plan.commit:
        where += f" at commit {plan.commit[:12]}"
    lines = [f"wfp-reconcile plan for {where}", ""]
    if plan.create_namespace:
        lines += [paint(f"+ dispatch namespace {plan.namespace} (created first)", "+"), ""]
    if not plan.changes and not plan.create_namespace:
        lines.append("No changes. The namespace matches the repository.")
    for group, changes in _grouped(plan.changes):
        lines.append(f"{group}:")
        for change in changes:
            lines.append("  " + paint(_describe(change), SYMBOLS[change.action]))
            lines.extend(f"      {detail}" for detail in _field_lines(change))
        lines.append("")
    if plan.d1 is not None:
        lines.append(f"D1 mirror (database {plan.d1.database}):")
        lines += [f"  {line}" for line in d1_lines(plan)]
        lines.append("")
    lines.append(summary_line(plan))
    lines.append(cost_line(plan))
    return "\n".join(lines).replace("\n\n\n", "\n\n")


def render_plan_json(plan: Plan) -> str:
    """The plan as versioned JSON (the same document ``plan --out`` saves)."""
    return plan.model_dump_json(indent=2)


def _markdown_section(group: str, changes: list[Change]) -> str:
    counts = ", ".join(
        f"{n} {symbol}"
        for symbol, n in sorted(
            {
                s: sum(1 for c in changes if SYMBOLS[c.action] == s) for s in set(SYMBOLS.values())
            }.items()
        )
        if n
    )
    body = ["```diff"]
    for change in changes:
        body.append(_describe(change))
        body.extend(f"    {d}" for d in _field_lines(change))
    body.append("```")
    return (
        f"<details><summary><b>{group}</b> ({counts})</summary>\n\n"
        + "\n".join(body)
        + "\n\n</details>\n"
    )


def render_plan_markdown(plan: Plan, *, limit: int = MARKDOWN_LIMIT) -> str:
    """Markdown for pull-request comments: summary first, a section per customer."""
    where = f"`{plan.namespace}`" + (f" at `{plan.commit[:12]}`" if plan.commit else "")
    head = [f"### wfp-reconcile plan for {where}", "", f"**{summary_line(plan)}**", ""]
    head.append(cost_line(plan))
    head.append("")
    if plan.create_namespace:
        head += [
            f"The dispatch namespace `{plan.namespace}` does not exist yet: apply creates it.",
            "",
        ]
    if plan.d1 is not None:
        head += [f"D1 mirror (database `{plan.d1.database}`):", "", "```", *d1_lines(plan), "```"]
        head.append("")
    if not plan.changes and not plan.create_namespace:
        head.append("No changes. The namespace matches the repository.")
        return "\n".join(head) + "\n"
    text = "\n".join(head) + "\n"
    sections = [_markdown_section(g, c) for g, c in _grouped(plan.changes)]
    for index, section in enumerate(sections):
        remaining = len(sections) - index
        note = (
            f"\n_{remaining} more section(s) cut to stay under GitHub's comment limit; "
            "the full plan is in the job's plan.json artifact._\n"
        )
        if len(text) + len(section) + len(note) > limit:
            return text + note
        text += section
    return text


def _mirror_line(mirror: MirrorResult) -> str:
    if mirror.error is not None:
        return f"failed: D1 mirror: {mirror.error}"
    changed = [f"{t} {_counts(c)}" for t, c in mirror.tables.items() if c.total]
    migrated = (
        f"schema migrations {', '.join(str(v) for v in mirror.migrations_applied)} applied; "
        if mirror.migrations_applied
        else ""
    )
    if not changed:
        return f"D1 mirror: {migrated}rows already up to date."
    return f"D1 mirror: {migrated}{', '.join(changed)} in {mirror.write_requests} write requests."


def _kept(change: Change) -> str:
    # What a skipped upload leaves live (the dispatcher was derived accordingly).
    if change.action is Action.CREATE:
        return "not created, not routed"
    if change.action is Action.ADOPT:
        return "not adopted, left as it is"
    return "the deployed version stays live"


def render_apply_result(result: ApplyResult) -> str:
    """What succeeded, what was skipped and what failed, ending in a one-line summary."""
    lines = []
    if result.preflight_note is not None:
        lines.append(f"warning: {result.preflight_note}; uploads were sent unchecked.")
    elif result.preflight is not None:
        lines.append(preflight_summary(result.preflight))
    mirror = result.mirror if isinstance(result, ReconcileResult) else None
    if mirror is not None:
        lines.append(_mirror_line(mirror))
    for skipped in result.skipped:
        change = skipped.change
        lines.append(
            f"skipped: {change.action.value} {kind(change.kind).label(change)} "
            f"({_kept(change)}): {skipped.error}"
        )
    for failed in result.failed:
        change = failed.change
        lines.append(
            f"failed: {change.action.value} {kind(change.kind).label(change)}: {failed.error}"
        )
    ok, bad, waiting = len(result.succeeded), len(result.failed), len(result.not_attempted)
    held = len(result.skipped)
    if waiting:
        names = ", ".join(kind(r.change.kind).label(r.change) for r in result.not_attempted)
        lines.append(f"not attempted until the failures are fixed: {names}")
    if mirror is not None and not mirror.ok and not bad and not held:
        lines.append(
            f"Apply finished with failures: {ok} operations succeeded but the D1 mirror "
            "failed. Run apply again to retry it."
        )
    elif bad:
        left = f", {held} skipped by pre-flight" if held else ""
        left += f", {waiting} not attempted" if waiting else ""
        lines.append(
            f"Apply finished with failures: {ok} succeeded, {bad} failed{left}. "
            "Run apply again to retry; completed operations are not repeated."
        )
    elif held:
        left = f", {waiting} not attempted" if waiting else ""
        mirror_failed = " The D1 mirror failed too." if mirror is not None and not mirror.ok else ""
        lines.append(
            f"Apply finished with skipped uploads: {ok} succeeded, {held} skipped by "
            f"pre-flight{left}. Fix the code named above and apply again; everything else "
            f"was applied.{mirror_failed}"
        )
    else:
        lines.append(f"Apply complete: {ok} operations succeeded.")
    if result.inventory is not None:
        lines.append(inventory_line(result.inventory))
    return "\n".join(lines)


def inventory_line(inventory: Inventory) -> str:
    """What is deployed and ours after the apply: the set the dispatcher routes (of the
    declared scripts) and the D1 mirror records (``engine.outcome``)."""
    scripts = inventory.of(WorkerKind.SCRIPT.value)
    live = sum(1 for e in scripts.values() if e.declared)
    kept = len(scripts) - live
    others = sum(len(inventory.of(k)) for k in inventory.entries if k != WorkerKind.SCRIPT.value)
    text = f"Deployed and ours: {live} customer scripts as declared"
    if kept:
        text += f", {kept} as an earlier apply left them"
    return text + f"; {others} platform Workers."
