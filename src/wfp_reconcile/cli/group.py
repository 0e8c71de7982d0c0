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
# desired state, the listed namespace) and holds almost no reference cycles, so a cyclic
# collection frees nearly nothing, yet each one traces every young object and every
# older collection the whole generation: a fifth of a 100,000-script plan's CPU (4 of
# 20 s) with raised thresholds, for 40 MB (6 %) more peak memory without any. The phase
# that makes garbage as long as it runs turns it back on (``collecting``).


@contextlib.contextmanager
def _batch_collector() -> Iterator[None]:
    """No cyclic collection while one short command runs (restored after it: tests run many)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextlib.contextmanager
def collecting() -> Iterator[None]:
    """The collector back on for a phase that makes garbage for as long as it runs.

    Apply's writes are thousands of requests, each leaving a few reference cycles behind;
    the heap built before them is frozen out of the scans, so collecting costs only what
    the phase itself allocates.
    """
    was = gc.isenabled()
    gc.freeze()
    gc.enable()
    try:
        yield
    finally:
        if not was:
            gc.disable()
        gc.unfreeze()


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
