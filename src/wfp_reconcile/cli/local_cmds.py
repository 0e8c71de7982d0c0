"""``wfp-reconcile local-api``: serve the local Cloudflare API emulator in the foreground."""

from __future__ import annotations

import os
from pathlib import Path

import click

from wfp_reconcile.errors import AuthError

from .group import cli

__all__ = ["cli", "local_api"]


def _rate_limit(value: str | None) -> tuple[int | None, float]:
    if not value:
        return None, 300.0
    count, sep, seconds = value.partition("/")
    try:
        return int(count), float(seconds) if sep else 300.0
    except ValueError:
        raise click.BadParameter(f"{value!r}: use N/SECONDS, e.g. 1200/300.")


@cli.command("local-api")
@click.option("--port", type=int, default=8787, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".wfp-local/api"),
    show_default=True,
    help="Directory of the SQLite state (kept across restarts).",
)
@click.option("--api-token", default=None, help="Bearer token to accept [CLOUDFLARE_API_TOKEN].")
@click.option("--latency-ms", type=float, default=0.0, help="Delay added to every request.")
@click.option("--fail-5xx", type=click.FloatRange(0, 1), default=0.0, help="Fraction of 5xx.")
@click.option("--fail-429", type=click.FloatRange(0, 1), default=0.0, help="Fraction of 429s.")
@click.option("--drop", type=click.FloatRange(0, 1), default=0.0, help="Fraction dropped.")
@click.option(
    "--drop-after",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction carried out, then dropped before the answer.",
)
@click.option("--rate-limit", default=None, help="N/SECONDS: answer 429 past N requests.")
@click.option(
    "--realistic-rate-limit",
    is_flag=True,
    help="Cloudflare's limit: 1,200 requests per 300 s, then every call blocked for 300 s.",
)
@click.option("--list-without-tags", is_flag=True, help="List items omit their tags.")
@click.option(
    "--list-shape",
    type=click.Choice(["flat", "wrapped"]),
    default="flat",
    show_default=True,
    help="Namespace list items: flat script objects, or wrapped {script: {...}} (OpenAPI).",
)
@click.option("--fail-script", "fail_scripts", multiple=True, help="Uploads of NAME fail (500).")
@click.option("--seed", type=int, default=None, help="Seed for reproducible faults.")
def local_api(
    port: int,
    host: str,
    state_dir: Path,
    api_token: str | None,
    latency_ms: float,
    fail_5xx: float,
    fail_429: float,
    drop: float,
    drop_after: float,
    rate_limit: str | None,
    realistic_rate_limit: bool,
    list_without_tags: bool,
    list_shape: str,
    fail_scripts: tuple[str, ...],
    seed: int | None,
) -> int:
    """Serve a local Cloudflare API emulator at http://HOST:PORT/client/v4."""
    token = api_token or os.environ.get("CLOUDFLARE_API_TOKEN", "")
    if not token:
        raise AuthError("Give the emulator a token: --api-token or CLOUDFLARE_API_TOKEN.")
    limit, window = _rate_limit(rate_limit)
    # Imported here so that other commands do not load the server (see dev_cmd).
    import uvicorn

    from wfp_reconcile.local.emulator import FaultConfig, create_app
    from wfp_reconcile.local.emulator.server import bind_socket

    lockout = 0.0
    if realistic_rate_limit:
        limit, window, lockout = 1200, 300.0, 300.0
    faults = FaultConfig(
        rate_lockout_seconds=lockout,
        latency_ms=latency_ms,
        fail_5xx=fail_5xx,
        fail_429=fail_429,
        drop=drop,
        drop_after=drop_after,
        rate_limit=limit,
        rate_window_seconds=window,
        list_without_tags=list_without_tags,
        list_shape=list_shape,
        fail_scripts=fail_scripts,
        seed=seed,
    )
    app = create_app(state_dir, api_token=token, faults=faults)
    sock = bind_socket(host, port)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Cloudflare API emulator on http://{shown}:{sock.getsockname()[1]}/client/v4")
    click.echo(f"State: {state_dir}  (Ctrl-C to stop)")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    server.run(sockets=[sock])
    return 0
