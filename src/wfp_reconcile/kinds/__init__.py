"""Kinds of managed resources, each behind the protocol in ``kinds.protocol``.

Registration order is build order: a derived kind (the dispatcher, the D1 mirror) comes
after the kinds it is derived from. To add a kind, write its module and add one
``register`` line here.
"""

from __future__ import annotations

from wfp_reconcile.outcome import Entry, Inventory, after_apply

from .d1 import D1SchemaKind, D1TableKind
from .dispatcher import DispatcherKind
from .hostname import HostnameKind
from .protocol import (
    ApplyTarget,
    DesiredContext,
    DesiredItem,
    DiffContext,
    Kind,
    ObservedItem,
    Phase,
    ReadSession,
    StateReader,
)
from .registry import kind, kinds, register
from .regular import OutboundKind, TailKind
from .routing import RoutingIndexKind, RoutingKind
from .script import ScriptKind

__all__ = [
    "ApplyTarget",
    "DesiredContext",
    "DesiredItem",
    "DiffContext",
    "Entry",
    "Inventory",
    "Kind",
    "ObservedItem",
    "Phase",
    "ReadSession",
    "StateReader",
    "after_apply",
    "kind",
    "kinds",
    "register",
]

register(TailKind())
register(OutboundKind())
register(ScriptKind())
register(HostnameKind())
register(DispatcherKind())
# The routing store: the index is built first (it holds every customer's records), the
# per-customer kind unpacks it.
register(RoutingIndexKind())
register(RoutingKind())
register(D1SchemaKind())
register(D1TableKind())
