"""The registry of kinds, in apply order.

Adding a kind is one module implementing ``kinds.protocol.Kind`` plus one ``register``
line in ``kinds/__init__.py``; the engine, plans, apply and render find it here.
"""

from __future__ import annotations

from .protocol import Kind

__all__ = ["kind", "kinds", "register"]

_KINDS: dict[str, Kind] = {}


def register(new: Kind) -> Kind:
    """Add a kind; kinds are built, read and diffed in registration order (a derived kind
    after those it is derived from) and applied in the order of their phases."""
    if new.name in _KINDS:
        raise ValueError(f"kind {new.name!r} is registered twice")
    _KINDS[new.name] = new
    return new


def kinds() -> tuple[Kind, ...]:
    return tuple(_KINDS.values())


def kind(name: str) -> Kind:
    """The kind of a change or item; a plan naming an unknown kind is refused."""
    try:
        return _KINDS[name]
    except KeyError:
        from wfp_reconcile.errors import PlanError

        raise PlanError(f"Unknown kind {name!r} in the plan; make a new plan with this version.")
