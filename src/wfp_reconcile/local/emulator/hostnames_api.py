"""Registers the custom hostname endpoints (``hostnames``) with the emulator's router.

A module of its own because ``hostnames`` is imported by ``state`` (its store), which the
registry imports in turn.
"""

from __future__ import annotations

from .hostnames import HOSTNAME_ROUTES, hostname_handlers
from .registry import ROUTES, handler

__all__: list[str] = []

_HANDLERS = hostname_handlers(lambda state: state.hostnames)
for _method, _pattern, _kind in HOSTNAME_ROUTES:
    ROUTES.append((_method, _pattern, _kind))
    handler(_kind)(_HANDLERS[_kind])
