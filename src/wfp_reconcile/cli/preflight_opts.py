"""``--preflight`` for ``validate`` and ``plan``: load the bundles apply would upload in
workerd and report what Cloudflare would reject; ``apply --no-preflight`` turns off the
check apply makes by itself (docs/preflight.md)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

import click

from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.engine import PlannedRun

from .group import collecting

if TYPE_CHECKING:  # imported when --preflight runs: it brings in the runtime's modules
    from wfp_reconcile.preflight import PreflightReport

__all__ = [
    "base_option",
    "check_plan",
    "emit",
    "no_preflight_option",
    "preflight_format_option",
    "preflight_option",
    "run_for_plan",
    "run_offline",
]

preflight_option = click.option(
    "--preflight",
    is_flag=True,
    help="Also load every changed bundle in workerd, as Cloudflare does on upload.",
)

no_preflight_option = click.option(
    "--no-preflight",
    "no_preflight",
    is_flag=True,
    help=(
        "Upload without loading the bundles in workerd first (by default apply skips, "
        "and names, every upload Cloudflare would reject)."
    ),
)

base_option = click.option(
    "--base",
    "base",
    default=None,
    metavar="REV",
    help="With --preflight: load only bundles that differ from this git revision.",
)


preflight_format_option = click.option(
    "--preflight-format",
    "preflight_fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="How plan --preflight reports (text goes to stderr).",
)


def _baseline(repo: Path, base: str | None) -> tuple[dict[tuple[str, str], str] | None, str]:
    if base is None:
        return None, "none"
    from wfp_reconcile.config import load_repo
    from wfp_reconcile.desired import build_desired
    from wfp_reconcile.errors import ConfigError
    from wfp_reconcile.gitsource import open_source
    from wfp_reconcile.preflight import fingerprints

    try:
        base_repo = load_repo(open_source(repo, base))
    except ConfigError:
        # A base that does not load has nothing to compare with: check every bundle.
        return None, f"base {base[:12]} (invalid there: every Worker checked)"
    return fingerprints(build_desired(base_repo)), f"base {base[:12]}"


def run_offline(loaded: PlatformRepo, repo: Path, base: str | None) -> PreflightReport:
    """Pre-flight for ``validate``: compared with ``base`` (git) or everything; no network."""
    from wfp_reconcile.desired import build_desired
    from wfp_reconcile.preflight import run_preflight, select_changed
    from wfp_reconcile.preflight.smoke import with_smoke

    baseline, label = _baseline(repo, base)
    workers, unchanged = select_changed(build_desired(loaded), baseline)
    with collecting():  # workerd's output and the smoke test's emulator run as long as they take
        report = run_preflight(loaded, workers, unchanged=unchanged, baseline=label)
        return with_smoke(loaded, report)


def run_for_plan(loaded: PlatformRepo, uploads: Collection[tuple[str, str]]) -> PreflightReport:
    """Pre-flight for ``plan``: the Workers the plan uploads (they differ from what is deployed)."""
    from wfp_reconcile.desired import build_desired
    from wfp_reconcile.preflight import run_preflight, select_changed
    from wfp_reconcile.preflight.smoke import with_smoke

    workers, unchanged = select_changed(build_desired(loaded), None, only=uploads)
    with collecting():
        report = run_preflight(loaded, workers, unchanged=unchanged, baseline="deployed")
        return with_smoke(loaded, report)


def check_plan(run: PlannedRun, loaded: PlatformRepo, fmt: str, repo: Path) -> bool:
    """Pre-flight the Workers ``run`` uploads; True when any would be rejected."""
    from wfp_reconcile.diff import Action

    uploads = {
        (c.kind, c.name)
        for c in run.plan.changes
        if c.action in (Action.CREATE, Action.UPDATE, Action.ADOPT)
    }
    return emit(run_for_plan(loaded, uploads), fmt, repo) != 0


def emit(report: PreflightReport, fmt: str, repo: Path) -> int:
    """Print the report (text on stderr, JSON or annotations on stdout); 1 when it failed."""
    from wfp_reconcile.preflight.render import render_github, render_json, render_text

    if fmt == "json":
        click.echo(render_json(report))
    elif fmt == "github":
        click.echo(render_github(report, repo))
    else:
        click.echo(render_text(report), err=True)
    return 0 if report.ok else 1
