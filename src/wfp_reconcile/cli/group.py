"""The click group every command module registers on, and the shared options."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from wfp_reconcile import __version__


class AppContext:
    """Per-invocation settings shared by every command."""

    def __init__(self, *, debug: bool) -> None:
        self.debug = debug


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wfp-reconcile")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Declarative Cloudflare Workers for Platforms."""
    ctx.obj = AppContext(debug=debug)
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    if ctx.invoked_subcommand not in _SERVERS:
        ctx.with_resource(_batch_collector())


_SERVERS = frozenset({"dev", "local-api"})
"""Commands that run until stopped: they keep CPython's collector settings."""

# A command builds a large heap that lives until it exits (the repository's models, the
# desired state, the listed namespace) and holds almost no reference cycles. With the
# default thresholds CPython re-traces that whole heap each time it grows by a quarter:
# 8 full collections that freed nothing took a third of a 10,000-script plan's CPU. Young
# objects are still collected (cycles of requests and exceptions die young); the
# long-lived heap is practically never traced again.
_BATCH_THRESHOLDS = (50_000, 50, 1_000)


@contextlib.contextmanager
def _batch_collector() -> Iterator[None]:
    """Collector thresholds for one short command (restored after it: tests run many)."""
    before = gc.get_threshold()
    gc.set_threshold(*_BATCH_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


repo_option = click.option(
    "--repo",
    "repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="The platform repository.",
)

ref_option = click.option(
    "--ref",
    "ref",
    default=None,
    metavar="REV",
    help="Read the repository at this git revision, not the work tree.",
)

customer_option = click.option(
    "--customer",
    "customers",
    multiple=True,
    metavar="ID",
    help="Limit to this customer (repeatable).",
)

_F = TypeVar("_F", bound=Callable[..., Any])


def format_option(*choices: str, help: str | None = None) -> Callable[[_F], _F]:
    """``--format`` with these choices, the first one the default."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )
