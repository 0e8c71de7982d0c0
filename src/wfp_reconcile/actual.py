"""Actual state: what each kind read from the account, by kind.

Reading is the only I/O of planning; every kind reads through one ``ReadSession`` that
counts the calls (the plan's cost line) and lists the account's Workers once.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any

from wfp_reconcile.desired import DesiredState
from wfp_reconcile.kinds import ReadSession, StateReader, kind, kinds
from wfp_reconcile.worker import ActualWorker, WorkerKind

__all__ = ["ActualState", "ActualWorker", "StateReader", "read_actual"]

_REGULAR = (WorkerKind.TAIL.value, WorkerKind.OUTBOUND.value, WorkerKind.DISPATCHER.value)


@dataclasses.dataclass(frozen=True)
class ActualState:
    """What the account holds that matters to one plan, by kind."""

    namespace: str
    items: Mapping[str, Mapping[str, Any]]
    """Observed items by kind name, then by item name."""
    tags_from_list: bool
    """False when the list omitted tags and they were read per script."""
    read_calls: int
    namespace_exists: bool = True

    @classmethod
    def of_workers(
        cls,
        namespace: str,
        scripts: Mapping[str, ActualWorker],
        workers: Mapping[str, Mapping[str, ActualWorker]] | None = None,
        *,
        tags_from_list: bool = True,
        read_calls: int = 1,
    ) -> ActualState:
        """An actual state of Worker kinds only (for tests and tools)."""
        items: dict[str, Mapping[str, Any]] = {WorkerKind.SCRIPT.value: dict(scripts)}
        items.update(workers or {})
        return cls(namespace, items, tags_from_list, read_calls)

    def of(self, kind: str) -> Mapping[str, Any]:
        return self.items.get(kind, {})

    def _script_workers(self) -> Mapping[str, ActualWorker]:
        return {
            n: w for n, w in self.of(WorkerKind.SCRIPT.value).items() if isinstance(w, ActualWorker)
        }

    # Cached (the state is immutable): callers look names up in these per script, and
    # building them on each access made `status` quadratic in the number of scripts.
    # cached_property writes the instance __dict__, which a frozen dataclass allows.
    @functools.cached_property
    def scripts(self) -> Mapping[str, ActualWorker]:
        """Managed customer scripts in the namespace, by name."""
        return {n: w for n, w in self._script_workers().items() if w.managed}

    @functools.cached_property
    def unmanaged(self) -> Mapping[str, ActualWorker]:
        """Scripts without the management tag whose names the repository declares."""
        return {n: w for n, w in self._script_workers().items() if not w.managed}

    @property
    def workers(self) -> Mapping[str, ActualWorker]:
        """Regular Workers (dispatcher, outbound, tail) by name, managed or not."""
        out: dict[str, ActualWorker] = {}
        for name in _REGULAR:
            out.update(self.of(name))
        return out

    def digest(self) -> str:
        """Identifies what was seen; a saved plan is stale when this changes."""
        h = hashlib.sha256(b"ns" if self.namespace_exists else b"no-ns")
        for kind_name in sorted(self.items):
            group = self.items[kind_name]
            for name in sorted(group):
                h.update(f"{kind_name}\0".encode() + group[name].digest_line())
        return h.hexdigest()


def read_actual(
    reader: StateReader,
    desired: DesiredState,
    *,
    only: Sequence[str] | None = None,
    started: Mapping[str, Future[Any]] | None = None,
) -> ActualState:
    """Read what every kind (or the kinds named in ``only``) needs of the account.

    Args:
        reader: The Cloudflare client (or anything with the same read methods).
        desired: The desired state; its names decide which foreign items are looked up.
        only: Read just these kinds (``status`` needs only scripts).
        started: Reads already under way (``kinds.ahead.read_ahead``), waited for when
            a kind needs them.
    """
    chosen = kinds() if only is None else tuple(kind(n) for n in only)
    declared: dict[str, frozenset[str]] = {}
    for k in kinds():
        declared[k.space] = declared.get(k.space, frozenset()) | {
            i.name for i in desired.of(k.name)
        }
    session = ReadSession(
        reader,
        platform=desired.platform,
        namespace=desired.namespace,
        management_tag=desired.management_tag,
        declared=declared,
        wanted={k.name: frozenset(i.name for i in desired.of(k.name)) for k in kinds()},
        started=started,
    )
    items = {k.name: dict(k.read(session, desired.of(k.name))) for k in chosen}
    return ActualState(
        namespace=desired.namespace,
        items=items,
        tags_from_list=session.tags_from_list,
        read_calls=session.calls,
        namespace_exists=session.namespace_exists,
    )
