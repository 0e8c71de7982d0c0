"""``wfp-reconcile dev``: the whole platform on 127.0.0.1, re-applied on every change."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from .group import cli, repo_option

if TYPE_CHECKING:
    from wfp_reconcile.local.runtime.devstack import DevEvent

__all__ = ["dev"]

_STYLES = {
    "started": "green",
    "applied": "green",
    "d1": "green",
    "kv": "green",
    "apply_failed": "red",
    "config_error": "red",
    "changed": "yellow",
}


def _show(event: DevEvent) -> None:
    if event.kind == "log":
        click.echo(f"  | {event.message}")
        return
    if event.kind == "tail":
        click.echo(f"  tail {event.message}")
        return
    click.secho(event.message, fg=_STYLES.get(event.kind), err=event.kind.endswith("error"))
    for line in event.details:
        click.echo(f"    {line}")


@cli.command("dev")
@repo_option
@click.option("--port", type=int, default=8787, show_default=True, help="Eyeball port.")
@click.option(
    "--api-port", type=int, default=0, show_default=True, help="API emulator port (0: any)."
)
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Emulator state directory [default: <repo>/.wfp-local/state].",
)
def dev(repo: Path, port: int, api_port: int, state_dir: Path | None) -> None:
    """Run the platform locally: API emulator, Workers runtime and dispatcher.

    Applies the repository through the normal apply path, then re-applies whenever a
    file changes. Ctrl-C (or SIGTERM) stops every process it started.
    """
    stop = threading.Event()
    watching = False

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()
        if not watching:  # still starting: unwind through the context managers now
            raise KeyboardInterrupt

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    # Imported here: the runtime and the emulator are a quarter of the CLI's import time,
    # which every `plan` would pay otherwise.
    from wfp_reconcile.local.runtime.devstack import DevSettings, DevStack

    settings = DevSettings(repo_dir=repo, port=port, api_port=api_port, state_dir=state_dir)
    try:
        click.echo("Starting the local API emulator and Workers runtime...")
        with DevStack(settings, on_event=_show) as stack:
            watching = True
            if stop.is_set():
                return
            click.echo("Watching for changes; press Ctrl-C to stop.")
            stack.watch(stop)
        click.echo("Stopped.")
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
