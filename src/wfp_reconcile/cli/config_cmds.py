"""``validate``, ``schema``, ``new platform|customer|script`` and ``token create``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from wfp_reconcile.config import load_repo
from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.config.source import RepoSource, WorkTreeSource
from wfp_reconcile.errors import ConfigError, ConfigProblem

from . import preflight_opts
from .group import cli, format_option, ref_option, repo_option
from .preflight_opts import base_option, preflight_option

# The scaffold (and the YAML editor it brings in) is imported by the commands that write
# files, not by every command that imports this module.
if TYPE_CHECKING:
    from wfp_reconcile.config.scaffold import FileWrite

__all__ = ["cli"]


def _open_source(repo: Path, ref: str | None) -> RepoSource:
    if ref is None:
        return WorkTreeSource(repo)
    # Imported here so validating the work tree never depends on git support.
    from wfp_reconcile.gitsource import open_source

    return open_source(repo, ref)


def _summary(repo: PlatformRepo) -> dict[str, int]:
    return {
        "customers": len(repo.customers),
        "scripts": sum(len(c.scripts) for c in repo.customers),
        "outbound_workers": len(repo.platform.outbound_workers),
        "modules": len(repo.files),
    }


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _gh_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def _gh_annotation(problem: ConfigProblem, repo: Path) -> str:
    path = Path(os.path.relpath(repo / problem.path)).as_posix()
    props = f"file={_gh_escape(path, prop=True)}"
    if problem.line:
        props += f",line={problem.line},col={problem.column}"
    return f"::error {props},title=wfp-reconcile::{_gh_escape(problem.message)}"


@cli.command()
@repo_option
@ref_option
@format_option("text", "json", "github", help="github prints workflow annotations.")
@preflight_option
@base_option
def validate(repo: Path, ref: str | None, fmt: str, preflight: bool, base: str | None) -> int:
    """Check the platform repository and report every problem at once."""
    source = _open_source(repo, ref)
    try:
        return _validate(source, repo, fmt, preflight, base)
    finally:
        # A git source holds an open repository.
        close = getattr(source, "close", None)
        if callable(close):
            close()


def _validate(source: RepoSource, repo: Path, fmt: str, preflight: bool, base: str | None) -> int:
    try:
        loaded = load_repo(source)
    except ConfigError as exc:
        problems = exc.problems
        if fmt == "json":
            body = {
                "version": 1,
                "ok": False,
                "commit": source.commit,
                "problems": [
                    {"path": p.path, "line": p.line, "column": p.column, "message": p.message}
                    for p in problems
                ],
            }
            click.echo(json.dumps(body, indent=2))
        elif fmt == "github":
            for problem in problems:
                click.echo(_gh_annotation(problem, repo))
        else:
            for problem in problems:
                click.echo(f"error: {problem}", err=True)
        click.echo(
            f"Found {_plural(len(problems), 'problem')} (repository: {source.label}).", err=True
        )
        return 1
    summary = _summary(loaded)
    report = preflight_opts.run_offline(loaded, repo, base) if preflight else None
    if fmt == "json":
        result: dict[str, Any] = {
            "version": 1,
            "ok": True,
            "commit": source.commit,
            "problems": [],
            **summary,
        }
        if report is not None:
            result["ok"] = report.ok
            result["preflight"] = report.to_json()
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(
            f"OK: {_plural(summary['customers'], 'customer')}, "
            f"{_plural(summary['scripts'], 'script')}, "
            f"{_plural(summary['outbound_workers'], 'outbound Worker')} "
            f"(repository: {source.label})"
        )
        if report is not None:
            preflight_opts.emit(report, fmt, repo)
    return 0 if report is None or report.ok else 1


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("schemas"),
    show_default=True,
    help="Directory to write the schema files into.",
)
def schema(out: Path) -> int:
    """Write the JSON Schemas of platform.yaml and customer.yaml."""
    from wfp_reconcile.config.scaffold import FileWrite, write_files
    from wfp_reconcile.config.schema import json_schemas, render_schema

    writes = tuple(
        FileWrite(out / name, render_schema(body), create_only=False)
        for name, body in json_schemas().items()
    )
    write_files(writes)
    for write in writes:
        click.echo(f"wrote {write.path}")
    return 0


def _report(writes: tuple[FileWrite, ...]) -> None:
    for write in writes:
        verb = "created" if write.create_only else "updated"
        click.echo(f"{verb} {write.path}")


@cli.group()
def new() -> None:
    """Start a platform repository, a customer or a script."""


@new.command("platform")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def new_platform(directory: Path) -> int:
    """A new platform repository in DIRECTORY (empty or absent)."""
    from wfp_reconcile.config.scaffold import plan_new_platform, write_files

    writes = plan_new_platform(directory)
    write_files(writes)
    _report(writes)
    click.echo(
        f"Next: export CLOUDFLARE_ACCOUNT_ID, then `wfp-reconcile validate --repo {directory}`.",
        err=True,
    )
    return 0


@new.command("customer")
@click.argument("customer_id", metavar="ID")
@click.option("--name", default=None, help="Display name (default: the id).")
@click.option("--plan", default="basic", show_default=True, help="Plan type.")
@repo_option
def new_customer(customer_id: str, name: str | None, plan: str, repo: Path) -> int:
    """A new customer directory with its customer.yaml."""
    from wfp_reconcile.config.scaffold import plan_new_customer, write_files

    writes = plan_new_customer(repo, customer_id, name=name, plan=plan)
    write_files(writes)
    _report(writes)
    return 0


@new.command("script")
@click.argument("customer_id", metavar="CUSTOMER")
@click.argument("name")
@repo_option
def new_script(customer_id: str, name: str, repo: Path) -> int:
    """A new script NAME for CUSTOMER, from the default template."""
    from wfp_reconcile.config.scaffold import plan_new_script, write_files

    writes = plan_new_script(repo, customer_id, name)
    write_files(writes)
    _report(writes)
    return 0


@cli.group()
def token() -> None:
    """Customer API tokens (only their SHA-256 is stored)."""


@token.command("create")
@click.argument("customer_id", metavar="CUSTOMER")
@click.argument("name")
@repo_option
def token_create(customer_id: str, name: str, repo: Path) -> int:
    """Print a new token for CUSTOMER once and store its SHA-256 as NAME."""
    from wfp_reconcile.config.scaffold import plan_token, write_files

    new_token = plan_token(repo, customer_id, name)
    write_files(new_token.writes)
    click.echo(new_token.token)
    click.echo(
        f"Stored the SHA-256 of token '{name}' in {new_token.customer_file}. "
        "This is the only time the token is shown: keep it in a secret store.",
        err=True,
    )
    return 0
