"""One outcome: what is deployed and ours once an apply ran (pure).

``after_apply`` is the only definition of "deployed and ours". The dispatcher's routes
(a derived kind), the D1 mirror's ``deployed_scripts`` rows, the apply summary and
``status`` all read it, at plan time (assuming every write succeeds) and after an apply
(with the failures). Flux's inventory is the model: start from what the account holds
that is ours, lay the successful changes over it, keep the rest as it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, Protocol

from wfp_reconcile.change import Action, Change

__all__ = ["Entry", "Inventory", "StockTaker", "after_apply", "as_declared"]


@dataclasses.dataclass(frozen=True)
class Entry:
    """One deployed item of ours."""

    kind: str
    name: str
    customer: str | None
    fingerprint: str | None
    declared: bool
    """Live exactly as the repository declares it (put live or found in step by this
    apply); ``False``: ours, but as an earlier apply left it (failed, skipped,
    protected, or out of the run's scope with other content)."""


class StockTaker(Protocol):
    """The part of a kind (``kinds.protocol.Kind``) that takes stock."""

    @property
    def name(self) -> str: ...

    def owned(self, observed: Any, known_customers: frozenset[str]) -> Entry | None: ...

    def deployed(self, item: Any) -> Entry: ...


@dataclasses.dataclass(frozen=True)
class Inventory:
    """Every deployed item of ours, by kind and name."""

    entries: Mapping[str, Mapping[str, Entry]]

    def of(self, kind: str) -> Mapping[str, Entry]:
        return self.entries.get(kind, {})

    def __iter__(self) -> Iterator[Entry]:
        for kind in self.entries:
            yield from self.entries[kind].values()

    def names(self, kind: str) -> frozenset[str]:
        return frozenset(self.of(kind))


def after_apply(
    kinds: Sequence[StockTaker],
    desired: Mapping[str, Sequence[Any]],
    actual: Mapping[str, Mapping[str, Any]],
    changes: Sequence[Change],
    *,
    failed: Collection[tuple[str, str]] = (),
    known_customers: frozenset[str] = frozenset(),
) -> Inventory:
    """What is deployed and ours after ``changes`` were applied, ``failed`` excepted.

    Args:
        kinds: The kinds to take stock of.
        desired: Declared items by kind.
        actual: What was read, by kind.
        changes: The plan's changes.
        failed: ``(kind, name)`` of every change that was not carried out (failed, or
            not attempted): those items stay as they were.
        known_customers: Every customer id of the repository (to read ownership tags).
    """
    missed = set(failed)
    entries: dict[str, dict[str, Entry]] = {}
    for kind in kinds:
        items = {item.name: item for item in desired.get(kind.name, ())}
        out: dict[str, Entry] = {}
        for name, observed in actual.get(kind.name, {}).items():
            entry = kind.owned(observed, known_customers)
            if entry is not None:
                out[name] = entry
        mine = {c.name: c for c in changes if c.kind == kind.name}
        for name, item in items.items():
            change = mine.get(name)
            if change is None:
                # Nothing planned: live as declared when what is deployed matches (an item
                # outside a --customer scope may differ and is then kept as it is).
                found, wanted = out.get(name), kind.deployed(item)
                if found is not None and (found.customer, found.fingerprint) == (
                    wanted.customer,
                    wanted.fingerprint,
                ):
                    out[name] = wanted
            elif change.action.writes and (kind.name, name) not in missed:
                if change.action is Action.DELETE:
                    out.pop(name, None)
                else:
                    out[name] = kind.deployed(item)
        for name, change in mine.items():
            if name in items or (kind.name, name) in missed:
                continue
            if change.action is Action.DELETE:
                out.pop(name, None)
        entries[kind.name] = dict(sorted(out.items()))
    return Inventory(entries)


def as_declared(kinds: Sequence[StockTaker], desired: Mapping[str, Sequence[Any]]) -> Inventory:
    """The inventory when every declared item is deployed as declared (no plan to go by)."""
    return Inventory(
        {
            k.name: dict(sorted((i.name, k.deployed(i)) for i in desired.get(k.name, ())))
            for k in kinds
        }
    )
