"""``changed``, ``check-owners`` and the ``github`` command group (the Actions glue)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from wfp_reconcile.errors import OwnershipError, WfpError
from wfp_reconcile.quoting import quote_path

from .group import cli, format_option, repo_option

# Every command imports its modules when it runs: they bring in GitPython, which no
# other command needs (a tenth of `plan`'s import time).
if TYPE_CHECKING:
    from wfp_reconcile.github import ActionsEnv, GitHubClient
    from wfp_reconcile.gitsource import PathChange
    from wfp_reconcile.owners import OwnershipReport

__all__ = ["cli", "render_ownership_markdown"]

_SIGNS = {
    "added": "A",
    "modified": "M",
    "deleted": "D",
    "renamed": "R",
    "copied": "C",
    "type-changed": "T",
}

base_option = click.option(
    "--base", required=True, metavar="REV", help="The revision the changes are compared to."
)
head_option = click.option(
    "--head", default="HEAD", show_default=True, metavar="REV", help="The changed revision."
)


def _change_line(change: PathChange) -> str:
    # Quoted: a newline in a file name must not start a workflow command (``::error::``).
    sign = _SIGNS[change.status]
    if change.old_path is not None:
        return f"{sign} {quote_path(change.old_path)} -> {quote_path(change.path)}"
    return f"{sign} {quote_path(change.path)}"


def _paths(paths: tuple[str, ...]) -> str:
    return ", ".join(quote_path(path) for path in paths) or "none"


@cli.command()
@repo_option
@base_option
@head_option
@format_option("text", "json")
def changed(repo: Path, base: str, head: str, fmt: str) -> int:
    """List the customers and platform files merging HEAD into BASE would change."""
    from wfp_reconcile.gitsource import changed_paths
    from wfp_reconcile.owners import summarize_changes

    summary = summarize_changes(changed_paths(repo, base, head))
    if fmt == "json":
        click.echo(json.dumps(summary.to_json(), indent=2))
        return 0
    if not summary.changes:
        click.echo("No changes.")
        return 0
    click.echo("Customers: " + _paths(summary.customers))
    click.echo("Platform files: " + _paths(summary.platform_files))
    for change in summary.changes:
        click.echo("  " + _change_line(change))
    return 0


def render_ownership_markdown(report: OwnershipReport) -> str:
    """The ownership check as a job-summary section."""
    count = len(report.changes)
    paths = f"{count} changed path{'s' if count != 1 else ''}"
    if report.passed:
        who = "a platform admin" if report.actor_is_admin else "an owner of every changed path"
        return f"## Ownership check passed\n\n`{report.actor}` is {who} ({paths}).\n"
    lines = [
        "## Ownership check failed",
        "",
        f"`{report.actor}` may not make {len(report.violations)} of these changes alone ({paths}):",
        "",
        "| Path | Why | Who can make or approve it |",
        "| --- | --- | --- |",
    ]
    for v in report.violations:
        approvers = ", ".join(f"`{login}`" for login in v.approvers) or "nobody declared"
        shown = quote_path(v.path).replace("`", "'").replace("|", "/")
        lines.append(f"| `{shown}` | {v.reason.replace('|', '/')} | {approvers} |")
    return "\n".join(lines) + "\n"


@cli.command("check-owners")
@repo_option
@base_option
@head_option
@click.option(
    "--actor",
    "actors",
    required=True,
    multiple=True,
    metavar="LOGIN",
    help=(
        "Who made the change; repeat it for everyone involved (the pull request's author "
        "and whoever pushed): each must own every changed path."
    ),
)
@format_option(
    "text",
    "json",
    "github",
    help="github prints annotations, writes the job summary and sets the `passed` output.",
)
def check_owners(repo: Path, base: str, head: str, actors: tuple[str, ...], fmt: str) -> int:
    """Pass only if every ACTOR owns every path merging HEAD changes (owners read at BASE)."""
    from wfp_reconcile.github import ActionsEnv, annotation, append_summary, set_outputs
    from wfp_reconcile.owners import check_revisions_for

    reports = check_revisions_for(repo, base, head, actors)
    passed = all(report.passed for report in reports)
    if fmt == "json":
        # One actor keeps the single-report shape; several are listed under "reports".
        body = (
            reports[0].to_json()
            if len(reports) == 1
            else {
                "version": 1,
                "passed": passed,
                "reports": [report.to_json() for report in reports],
            }
        )
        click.echo(json.dumps(body, indent=2))
    elif fmt == "github":
        for report in reports:
            for v in report.violations:
                message = f"{report.actor}: {v.message}" if len(reports) > 1 else v.message
                click.echo(annotation("error", message, file=_workspace_path(repo, v.path)))
        env = ActionsEnv.from_environ(os.environ)
        append_summary(env, "\n".join(render_ownership_markdown(r) for r in reports))
        set_outputs(env, {"passed": "true" if passed else "false"})
    else:
        for report in reports:
            for v in report.violations:
                prefix = f"{report.actor}: " if len(reports) > 1 else ""
                click.echo(f"error: {prefix}{v.message}")
    if not passed:
        failing = [r for r in reports if not r.passed]
        count = sum(len(r.violations) for r in failing)
        who = " and ".join(r.actor for r in failing)
        raise OwnershipError(
            f"{count} change(s) are not owned by {who}; ask the owners named above to make "
            "or approve them."
        )
    if fmt == "text":
        for report in reports:
            click.echo(f"OK: {report.actor} owns all {len(report.changes)} changed path(s).")
    return 0


def _workspace_path(repo: Path, path: str) -> str:
    """``path`` as GitHub shows it: relative to the checkout the job runs in."""
    return Path(os.path.relpath(repo / path)).as_posix()


# -- github --------------------------------------------------------------------------


@cli.group()
def github() -> None:
    """GitHub Actions glue: job summary, the plan comment, the drift issue."""


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="FILE")


def _client(env: ActionsEnv, bot_login: str | None) -> GitHubClient:
    from wfp_reconcile.github import GitHubClient

    if env.repository is None:
        raise WfpError("GITHUB_REPOSITORY is not set: run this step in GitHub Actions.")
    return GitHubClient(
        token=env.token or "", repository=env.repository, api_url=env.api_url, bot_login=bot_login
    )


bot_login_option = click.option(
    "--bot-login",
    default=None,
    metavar="LOGIN",
    help="Only update comments by this login (default: any bot, e.g. github-actions[bot]).",
)


@github.command("summary")
@click.argument("file", metavar="FILE")
@click.option("--title", default=None, help="A heading above the content.")
@click.option("--code", is_flag=True, help="Show the content as preformatted text.")
def github_summary(file: str, title: str | None, code: bool) -> int:
    """Append FILE (Markdown, or text with --code; - for stdin) to the job summary."""
    from wfp_reconcile.github import ActionsEnv, append_summary

    text = _read_text(file)
    if code:
        text = "```text\n" + text.replace("```", "ˋˋˋ").rstrip("\n") + "\n```\n"
    if title:
        text = f"## {title}\n\n{text}"
    if not append_summary(ActionsEnv.from_environ(os.environ), text):
        click.echo("GITHUB_STEP_SUMMARY is not set; nothing written.", err=True)
    return 0


@github.command("comment")
@click.option(
    "--body-file", required=True, metavar="FILE", help="The Markdown to post (- for stdin)."
)
@click.option("--key", default="plan", show_default=True, help="Which comment: one per key per PR.")
@click.option("--pr", "number", type=int, default=None, help="Default: from the event payload.")
@click.option("--summary/--no-summary", default=True, help="Also write it to the job summary.")
@bot_login_option
def github_comment(
    body_file: str, key: str, number: int | None, summary: bool, bot_login: str | None
) -> int:
    """Post the Markdown as the pull request's one comment for KEY, updating it if there."""
    from wfp_reconcile.github import (
        ActionsEnv,
        append_summary,
        load_event,
        pull_request_from_event,
        set_outputs,
    )

    env = ActionsEnv.from_environ(os.environ)
    markdown = _read_text(body_file)
    if number is None:
        number = pull_request_from_event(load_event(env)).number
    if summary:
        append_summary(env, markdown)
    with _client(env, bot_login) as client:
        result = client.upsert_comment(number, markdown, key=key)
    set_outputs(
        env,
        {"comment-id": str(result.number), "comment-url": result.url, "action": result.action},
    )
    click.echo(f"Comment {result.action}: {result.url}")
    return 0


@github.command("drift-issue")
@click.option(
    "--status",
    type=click.Choice(["drift", "clean"]),
    required=True,
    help="drift opens or updates the issue; clean closes it.",
)
@click.option("--body-file", default=None, metavar="FILE", help="The plan, as Markdown.")
@click.option("--title", default="Drift: the namespace differs from main", show_default=True)
@click.option("--key", default="drift", show_default=True, help="Which issue: one per key.")
@bot_login_option
def github_drift_issue(
    status: str, body_file: str | None, title: str, key: str, bot_login: str | None
) -> int:
    """Keep one open issue while the namespace has drifted; close it when clean."""
    from wfp_reconcile.github import ActionsEnv, set_outputs

    env = ActionsEnv.from_environ(os.environ)
    with _client(env, bot_login) as client:
        if status == "clean":
            run = f" ([run]({env.run_url}))" if env.run_url else ""
            closed = client.close_issue(key=key, comment=f"No drift any more{run}.")
            click.echo(f"Closed {closed.url}" if closed else "No drift issue open.")
            return 0
        if body_file is None:
            raise click.UsageError("--status drift needs --body-file with the plan.")
        markdown = _read_text(body_file)
        if env.run_url:
            markdown += f"\n\nLatest check: {env.run_url}\n"
        result = client.upsert_issue(title, markdown, key=key)
    set_outputs(env, {"issue-number": str(result.number), "issue-url": result.url})
    click.echo(f"Drift issue {result.action}: {result.url}")
    return 0
