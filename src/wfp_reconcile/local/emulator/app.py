"""Assembling the emulator's ASGI application."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount

from wfp_reconcile.errors import register_secret
from wfp_reconcile.preflight.upload_gate import preflight_upload_check, warm_up

from .api import API_PREFIX, CloudflareApi
from .assets_store import AssetStore
from .d1 import D1Engine
from .faults import FaultConfig, FaultInjector
from .hostnames import HostnameStore
from .internal import internal_routes
from .state import EmulatorState, RequestLog
from .store import Store
from .validation import DEFAULT_MAX_SCRIPT_BYTES

__all__ = ["create_app"]


def create_app(
    state_dir: Path | None,
    *,
    api_token: str,
    faults: FaultConfig | None = None,
    max_script_bytes: int = DEFAULT_MAX_SCRIPT_BYTES,
    internal_secret: str | None = None,
) -> Starlette:
    """The emulator as a Starlette app serving ``/client/v4`` and ``/__emulator``.

    Args:
        state_dir: where the SQLite state lives; ``None`` keeps it in memory.
        api_token: the only bearer token the emulated API accepts.
        faults: faults to inject from the start.
        max_script_bytes: the upload size limit (error 10027 past it).
        internal_secret: what ``/__emulator`` callers must send; random when omitted.

    The app's ``state.emulator`` is the ``EmulatorState``; its resources are closed
    when the app shuts down.
    """
    register_secret(api_token)
    internal_secret = internal_secret or secrets.token_urlsafe(32)
    register_secret(internal_secret)
    warm_up()  # uploads are loaded in workerd, as Cloudflare does (docs/preflight.md)
    state = EmulatorState(
        store=Store(state_dir),
        d1=D1Engine(state_dir),
        faults=FaultInjector(faults),
        log=RequestLog(),
        api_token=api_token,
        max_script_bytes=max_script_bytes,
        internal_secret=internal_secret,
        assets=AssetStore(state_dir),
        hostnames=HostnameStore(state_dir),
    )
    state.upload_checks.append(preflight_upload_check)  # loads it in workerd: docs/preflight.md

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            state.close()

    app = Starlette(
        routes=[*internal_routes(state), Mount(API_PREFIX, app=CloudflareApi(state))],
        lifespan=lifespan,
    )
    app.state.emulator = state
    return app
