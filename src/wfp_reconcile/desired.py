"""Model -> desired state: what each kind's items should be, by kind (pure).

Each registered kind (``wfp_reconcile.kinds``) builds its own items; a derived kind (the
dispatcher) is built from the inventory the others leave deployed. The Worker
primitives (fingerprints, tags) live in ``wfp_reconcile.worker`` and are re-exported here.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from wfp_reconcile.config.model import Platform, PlatformRepo
from wfp_reconcile.kinds import DesiredContext, Inventory, kinds
from wfp_reconcile.kinds.regular import tail_worker_bindings
from wfp_reconcile.kinds.rules import in_scope
from wfp_reconcile.worker import (
    FP_PREFIX,
    KEEP_BINDINGS,
    NS_PREFIX,
    PLAN_PREFIX,
    PROTECT_TAG,
    DesiredWorker,
    Fingerprint,
    WorkerKind,
    effective_limits,
    fingerprint_upload,
    namespace_tag,
    own_tags,
    parse_fingerprint_tag,
    tail_consumers,
)

__all__ = [
    "FP_PREFIX",
    "KEEP_BINDINGS",
    "NS_PREFIX",
    "PLAN_PREFIX",
    "PROTECT_TAG",
    "DesiredState",
    "DesiredWorker",
    "Fingerprint",
    "WorkerKind",
    "build_desired",
    "derive",
    "effective_limits",
    "fingerprint_upload",
    "namespace_tag",
    "own_tags",
    "parse_fingerprint_tag",
    "tail_consumers",
    "tail_worker_bindings",
]


@dataclasses.dataclass(frozen=True)
class DesiredState:
    """Every item the repository declares, by kind (limited to a --customer scope)."""

    namespace: str
    management_tag: str
    commit: str | None
    items: Mapping[str, tuple[Any, ...]]
    """Desired items by kind name, in registry order."""
    declared: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)
    """Every name declared in each name space (``Kind.space``), whatever the scope: a
    script that moved to a customer outside the scope must not look undeclared."""
    scope: frozenset[str] = frozenset()
    """The --customer scope the items were built for (every customer when empty)."""
    platform: Platform | None = None
    """platform.yaml, for a kind's reads and writes that need its settings (a zone id)
    beyond its items (``ReadSession.platform``, ``ApplyTarget.platform``)."""

    @classmethod
    def of_workers(
        cls,
        namespace: str,
        management_tag: str,
        workers: Sequence[DesiredWorker],
        *,
        commit: str | None = None,
    ) -> DesiredState:
        """A desired state of Worker kinds only (for tests and tools)."""
        items: dict[str, tuple[Any, ...]] = {}
        for k in kinds():
            items[k.name] = tuple(w for w in workers if w.kind == k.name)
        declared: dict[str, frozenset[str]] = {}
        for k in kinds():
            declared[k.space] = declared.get(k.space, frozenset()) | {w.name for w in items[k.name]}
        return cls(namespace, management_tag, commit, items, declared)

    def of(self, kind: str) -> tuple[Any, ...]:
        return self.items.get(kind, ())

    def _workers(self, kind: WorkerKind) -> tuple[DesiredWorker, ...]:
        return tuple(w for w in self.of(kind.value) if isinstance(w, DesiredWorker))

    @property
    def scripts(self) -> tuple[DesiredWorker, ...]:
        return self._workers(WorkerKind.SCRIPT)

    @property
    def tail(self) -> tuple[DesiredWorker, ...]:
        return self._workers(WorkerKind.TAIL)

    @property
    def outbound(self) -> tuple[DesiredWorker, ...]:
        """Regular Workers applied before the scripts: tail Workers first, then outbound."""
        return self.tail + self._workers(WorkerKind.OUTBOUND)

    @property
    def dispatcher(self) -> DesiredWorker | None:
        found = self._workers(WorkerKind.DISPATCHER)
        return found[0] if found else None

    @property
    def declared_names(self) -> frozenset[str]:
        """Every customer script name the repository declares, whatever the scope."""
        return self.declared.get("namespace", frozenset())

    def all(self) -> tuple[Any, ...]:
        """Every item of every kind, in registry order."""
        return tuple(item for k in self.items for item in self.items[k])

    def workers(self) -> tuple[DesiredWorker, ...]:
        return tuple(w for w in self.all() if isinstance(w, DesiredWorker))

    def script(self, name: str) -> DesiredWorker | None:
        for worker in self.scripts:
            if worker.name == name:
                return worker
        return None

    def digest(self) -> str:
        """Identifies this desired state over all kinds; a saved plan records it."""
        return self._digest

    @functools.cached_property
    def _digest(self) -> str:
        # Cached (the state is frozen): a plan can compute it while the namespace is listed.
        h = hashlib.sha256()
        for kind in self.items:
            for item in self.items[kind]:
                h.update(item.digest_line())
        return h.hexdigest()


def build_desired(
    repo: PlatformRepo, *, customers: Sequence[str] = (), inventory: Inventory | None = None
) -> DesiredState:
    """Build the desired state of the repository.

    Args:
        repo: The validated repository.
        customers: When given, only these customers' items are included (the platform's
            own items, outbound Workers and the dispatcher, always are: they serve everyone).
        inventory: What is deployed and ours after the other kinds' changes (derived kinds
            are built from it); ``None`` assumes everything declared is deployed.

    Returns:
        The desired state, deterministic for the same inputs.
    """
    scope = frozenset(customers)
    built: dict[str, tuple[Any, ...]] = {}
    declared: dict[str, frozenset[str]] = {}
    for kind in kinds():
        items = tuple(kind.desired(DesiredContext(repo, built, inventory, scope)))
        built[kind.name] = items
        declared[kind.space] = declared.get(kind.space, frozenset()) | {i.name for i in items}
    return DesiredState(
        namespace=repo.platform.namespace,
        management_tag=repo.platform.management_tag,
        commit=repo.commit,
        items={
            name: tuple(i for i in items if in_scope(i.customer, scope))
            for name, items in built.items()
        },
        declared=declared,
        scope=scope,
        platform=repo.platform,
    )


def derive(desired: DesiredState, repo: PlatformRepo, inventory: Inventory) -> DesiredState:
    """``desired`` with its derived kinds (the dispatcher) built from ``inventory``: what is
    deployed and ours once the other kinds' changes are applied."""
    items = dict(desired.items)
    for kind in kinds():
        if kind.derived:
            ctx = DesiredContext(repo, items, inventory, desired.scope)
            items[kind.name] = tuple(kind.desired(ctx))
    return dataclasses.replace(desired, items=items)
