"""`status`: what is deployed per customer, and the drift from the repository."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from wfp_reconcile.hostnames.status import read_hostname_status, render_hostname_lines
from wfp_reconcile.status import Drift, StatusReport, read_status

from .group import cli, customer_option, format_option, ref_option, repo_option
from .plan_cmds import load_platform_repo, open_client

__all__ = ["render_status_text"]

_STYLES = {
    Drift.IN_SYNC: "green",
    Drift.MISSING: "yellow",
    Drift.OUTDATED: "yellow",
    Drift.UNDECLARED: "red",
    Drift.CONFLICT: "magenta",
}
_WORDS = {
    Drift.IN_SYNC: "in sync",
    Drift.MISSING: "missing",
    Drift.OUTDATED: "outdated",
    Drift.UNDECLARED: "undeclared",
    Drift.CONFLICT: "conflict",
}


def _short(value: str | None, width: int = 12) -> str:
    return value[:width] if value else "-"


def summary_line(report: StatusReport) -> str:
    counts = report.counts
    total = sum(counts.values())
    parts = [f"{counts[d.value]} {_WORDS[d]}" for d in Drift if counts[d.value]]
    return f"{total} scripts: {', '.join(parts) if parts else 'none'}."


def render_status_text(report: StatusReport, *, color: bool = False, width: int = 120) -> str:
    """The status as a table per customer (rich), as a string."""
    out = io.StringIO()
    console = Console(
        file=out, width=width, force_terminal=color, no_color=not color, highlight=False
    )
    where = f"namespace {report.namespace}"
    if report.commit:
        where += f", repository at commit {report.commit[:12]}"
    console.print(f"wfp-reconcile status for {where}")
    if not report.namespace_exists:
        console.print("The dispatch namespace does not exist yet: nothing is deployed.")
    if report.d1_database:
        note = f" ({report.d1_note})" if report.d1_note else ""
        console.print(f"Deployment commits from D1 database {report.d1_database}{note}.")
    table = Table(show_lines=False)
    for column in ("customer", "script", "state", "declared", "deployed", "commit", "deployed at"):
        table.add_column(column, no_wrap=True)
    for customer in report.customers:
        label = customer.id
        if customer.suspended:
            label += " (suspended)"
        if not customer.declared:
            label += " (not declared)"
        if not customer.scripts:
            table.add_row(label, Text("(no scripts)", style="dim"), "", "", "", "", "")
        for index, script in enumerate(customer.scripts):
            name = script.name + (" [protected]" if script.protected else "")
            table.add_row(
                label if index == 0 else "",
                name,
                Text(_WORDS[script.state], style=_STYLES[script.state]),
                _short(script.declared_fingerprint, 32),
                _short(script.deployed_fingerprint, 32),
                _short(script.commit),
                script.deployed_at or "-",
            )
    console.print(table)
    # Workers observability as declared, per customer; a script of its own says so.
    for customer in report.customers:
        if customer.observability is None:
            continue
        own = [
            f"{s.name}: {s.observability}"
            for s in customer.scripts
            if s.observability and s.observability != customer.observability
        ]
        extra = f" ({'; '.join(own)})" if own else ""
        console.print(f"observability {customer.id}: {customer.observability}{extra}")
    console.print(summary_line(report))
    return out.getvalue().rstrip("\n")


@cli.command()
@repo_option
@ref_option
@customer_option
@format_option("text", "json")
def status(repo: Path, ref: str | None, customers: tuple[str, ...], fmt: str) -> int:
    """Show what is deployed per customer and how it drifts from the repository.

    Drift is informational: the exit code is 0 unless something could not be read.
    """
    platform_repo = load_platform_repo(repo, ref)
    with open_client(platform_repo) as client:
        report = read_status(platform_repo, client, customers=customers)
        hostnames = read_hostname_status(platform_repo, client, customers=customers)
    if fmt == "json":
        data = report.model_dump(mode="json")
        if hostnames is not None:
            data["hostnames"] = [h.to_json() for h in hostnames]
        click.echo(json.dumps(data, indent=2))
    else:
        color = sys.stdout.isatty()
        width = shutil.get_terminal_size().columns if color else 160
        click.echo(render_status_text(report, color=color, width=width))
        if hostnames is not None:
            click.echo("\n".join(render_hostname_lines(hostnames)))
    return 0
