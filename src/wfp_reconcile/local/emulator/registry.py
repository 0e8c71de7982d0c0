"""Where handlers and routes register, so a new emulator module plugs in without edits here.

A module declares each endpoint next to its handler::

    @route("GET", paths.WORKER + "/secrets", "list_worker_secrets")
    async def list_worker_secrets(request, params, state): ...

and ``api.py`` imports the module once. ``handler`` alone registers a kind whose route is
in ``api.py``'s table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from .state import EmulatorState

__all__ = ["HANDLERS", "ROUTES", "Handler", "handler", "route"]

Handler = Callable[[Request, dict[str, str], EmulatorState], Awaitable[Response]]
HANDLERS: dict[str, Handler] = {}
ROUTES: list[tuple[str, str, str]] = []
"""``(method, path pattern after /client/v4, kind)`` registered by modules."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if kind in HANDLERS:
            raise RuntimeError(f"emulator handler {kind!r} registered twice")
        HANDLERS[kind] = fn
        return fn

    return register


def route(method: str, pattern: str, kind: str) -> Callable[[Handler], Handler]:
    """Register a handler and the route that reaches it."""
    ROUTES.append((method, pattern, kind))
    return handler(kind)
