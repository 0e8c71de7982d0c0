"""`plan`, `apply` and `adopt`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click

from wfp_reconcile.apply import ApplyEvent, ApplyResult
from wfp_reconcile.cloudflare import ClientSettings, CloudflareClient
from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.engine import PlannedRun, apply_plan, plan_repo
from wfp_reconcile.errors import ApplyFailedError, PlanError
from wfp_reconcile.plan import load_plan, save_plan
from wfp_reconcile.render import (
    render_apply_result,
    render_plan_json,
    render_plan_markdown,
    render_plan_text,
)

from . import preflight_opts
from .group import cli, collecting, customer_option, format_option, ref_option, repo_option

__all__ = ["load_platform_repo", "open_client"]


def load_platform_repo(repo: Path, ref: str | None) -> PlatformRepo:
    """Load and validate the repository from the work tree or a git revision."""
    from wfp_reconcile.config import load_repo
    from wfp_reconcile.config.source import WorkTreeSource

    if ref is None:
        # Without --ref git is not needed (nor GitPython imported: a tenth of the imports).
        return load_repo(WorkTreeSource(repo))
    from wfp_reconcile.gitsource import dirty_warning, open_source

    source = open_source(repo, ref)
    warning = dirty_warning(repo, ref)
    if warning:
        click.echo(f"Warning: {warning}", err=True)
    return load_repo(source)


@contextmanager
def open_client(repo: PlatformRepo) -> Iterator[CloudflareClient]:
    settings = ClientSettings.from_env(account_id=repo.platform.account_id)
    with CloudflareClient(settings) as client:
        yield client


def _emit_plan(run: PlannedRun, fmt: str) -> None:
    if fmt == "json":
        click.echo(render_plan_json(run.plan))
    elif fmt == "markdown":
        click.echo(render_plan_markdown(run.plan))
    else:
        click.echo(render_plan_text(run.plan, color=sys.stdout.isatty()))


@cli.command()
@repo_option
@ref_option
@customer_option
@format_option("text", "json", "markdown")
@click.option(
    "--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan here."
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes.")
@preflight_opts.preflight_option
@preflight_opts.preflight_format_option
def plan(
    repo: Path,
    ref: str | None,
    customers: tuple[str, ...],
    fmt: str,
    out: Path | None,
    detailed_exitcode: bool,
    preflight: bool,
    preflight_fmt: str,
) -> int:
    """Show what apply would change in the dispatch namespace."""
    platform_repo = load_platform_repo(repo, ref)
    with open_client(platform_repo) as client:
        run = plan_repo(platform_repo, client, customers=customers)
    _emit_plan(run, fmt)
    if preflight and preflight_opts.check_plan(run, platform_repo, preflight_fmt, repo):
        return 1
    if out is not None:
        save_plan(run.plan, out)
        click.echo(f"Saved the plan to {out}; apply it with `wfp-reconcile apply {out}`.", err=True)
    return 2 if detailed_exitcode and run.plan.has_changes else 0


@contextmanager
def _progress(total: int) -> Iterator[Callable[[ApplyEvent], None]]:
    if sys.stderr.isatty():
        from rich.markup import escape
        from rich.progress import Progress

        with Progress(transient=True) as progress:
            task = progress.add_task("Applying", total=total)

            def advance(event: ApplyEvent) -> None:
                progress.update(task, completed=event.done, description=event.phase.value)
                if not event.result.ok:
                    change = event.result.change
                    word = (
                        "[yellow]skipped[/yellow]" if event.result.skipped else "[red]failed[/red]"
                    )
                    progress.console.print(
                        f"{word} {change.action.value} {change.name}: "
                        f"{escape(event.result.error or '')}",
                        highlight=False,
                    )

            yield advance
        return

    def line(event: ApplyEvent) -> None:
        change = event.result.change
        if event.result.ok:
            status = "ok"
        elif event.result.skipped:
            status = f"SKIPPED: {event.result.error}"
        else:
            status = f"FAILED: {event.result.error}"
        click.echo(
            f"[{event.done}/{event.total}] {change.action.value} {change.kind} "
            f"{change.name}: {status}",
            err=True,
        )

    yield line


def _finish(result: ApplyResult) -> int:
    # A skipped upload exits 1 like a failed one, so main's apply check goes red and
    # says why, though everything else was applied.
    click.echo(render_apply_result(result))
    skipped = len(result.skipped)
    if result.failed:
        also = f" ({skipped} more skipped by pre-flight)" if skipped else ""
        raise ApplyFailedError(
            f"{len(result.failed)} of {len(result.results)} operations failed{also}; "
            "run apply again to retry them."
        )
    if skipped:
        raise ApplyFailedError(
            f"{skipped} of {len(result.results)} operations were skipped: Cloudflare would "
            "reject them (pre-flight, above); their last good version stays live. Fix the "
            "code and apply again."
        )
    if not result.ok:  # only waiting operations are left: a re-run does them
        raise ApplyFailedError(
            f"{len(result.not_attempted)} operations were not attempted; run apply again."
        )
    return 0


def _confirm(auto_approve: bool) -> bool:
    """Ask on a terminal; True when a person was asked (time passed since the plan)."""
    if auto_approve:
        return False
    if not sys.stdin.isatty():
        raise PlanError(
            "apply needs confirmation but no terminal is attached; review the plan and pass "
            "--auto-approve (or apply a saved plan file)."
        )
    if not click.confirm("Apply these changes?", default=False):
        raise click.exceptions.Abort()
    return True


def _run_apply(
    repo: Path,
    ref: str | None,
    customers: Sequence[str],
    auto_approve: bool,
    allow_deletes: int | None,
    adopt: Sequence[str] = (),
    *,
    preflight: bool = True,
) -> int:
    platform_repo = load_platform_repo(repo, ref)
    with open_client(platform_repo) as client:
        run = plan_repo(platform_repo, client, customers=customers, adopt=adopt)
        click.echo(render_plan_text(run.plan, color=sys.stdout.isatty()))
        if not run.plan.has_changes:
            return 0
        asked = _confirm(auto_approve)
        total = sum(1 for c in run.plan.changes if c.action.writes)
        with _progress(total) as on_event, collecting():
            result = apply_plan(
                run.plan,
                platform_repo,
                client,
                allow_deletes=allow_deletes,
                # After a prompt, minutes may have passed: check nothing moved meanwhile.
                verify_state=asked,
                on_event=on_event,
                preflight=preflight,
            )
    return _finish(result)


@cli.command()
@click.argument(
    "plan_file", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@repo_option
@ref_option
@customer_option
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--allow-deletes",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Accept exactly N deletes beyond platform.yaml's safety limits.",
)
@preflight_opts.no_preflight_option
def apply(
    plan_file: Path | None,
    repo: Path,
    ref: str | None,
    customers: tuple[str, ...],
    auto_approve: bool,
    allow_deletes: int | None,
    no_preflight: bool,
) -> int:
    """Make the namespace match the repository (or apply a saved plan exactly)."""
    if plan_file is None:
        return _run_apply(
            repo, ref, customers, auto_approve, allow_deletes, preflight=not no_preflight
        )
    if customers:
        raise click.UsageError("--customer cannot be combined with a saved plan file.")
    saved = load_plan(plan_file)
    platform_repo = load_platform_repo(repo, ref)
    with open_client(platform_repo) as client:
        total = sum(1 for c in saved.changes if c.action.writes)
        with _progress(total) as on_event, collecting():
            result = apply_plan(
                saved,
                platform_repo,
                client,
                allow_deletes=allow_deletes,
                on_event=on_event,
                preflight=not no_preflight,
            )
    return _finish(result)


@cli.command()
@click.argument("names", nargs=-1, required=True)
@repo_option
@ref_option
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
def adopt(names: tuple[str, ...], repo: Path, ref: str | None, auto_approve: bool) -> int:
    """Take over existing unmanaged scripts that the repository declares."""
    platform_repo = load_platform_repo(repo, ref)
    declared = {name: c.id for c in platform_repo.customers for name in c.scripts}
    unknown = [n for n in names if n not in declared]
    if unknown:
        raise click.UsageError(
            f"{', '.join(unknown)}: not declared by any customer; declare a script first."
        )
    owners = sorted({declared[n] for n in names})
    return _run_apply(repo, ref, owners, auto_approve, None, adopt=names)
