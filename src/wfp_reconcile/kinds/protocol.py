"""The kind protocol: what every kind of managed resource supplies to the engine.

The engine knows no resource types (Terraform's core does not either): each kind says
how its desired items follow from the repository, how to read what exists, how the two
differ, what an apply of one change costs and does, and how a change is shown. The
shared rules (conflict, adopt, protected, skipped) are in ``kinds.rules``; the registry
(``kinds.registry``) orders the kinds. docs/CONTRACTS.md describes the contract.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from wfp_reconcile.change import Change, FieldChange
from wfp_reconcile.cloudflare import ScriptInfo
from wfp_reconcile.config.model import Platform, PlatformRepo
from wfp_reconcile.errors import WfpError

if TYPE_CHECKING:
    from wfp_reconcile.outcome import Entry, Inventory

__all__ = [
    "ApplyTarget",
    "DesiredContext",
    "DesiredItem",
    "DiffContext",
    "Kind",
    "ObservedItem",
    "Phase",
    "ReadSession",
    "StateReader",
    "WORKERS_READ",
]

_R = TypeVar("_R")

WORKERS_READ = "workers"
"""``ReadSession.once``'s key of the account's Worker list."""


class Phase(StrEnum):
    """Apply phases, in order; every kind names the one its writes run in."""

    TAIL = "tail Workers"
    OUTBOUND = "outbound Workers"
    SCRIPTS = "customer scripts"
    DISPATCHER = "dispatcher"
    DELETES = "deletes"
    """Every delete of every kind, once everything else is live."""
    ROUTING_INDEX = "routing index"
    """The routing store's index records, once every record they vouch for is written
    and every record they no longer name is removed (``kinds.routing``); like the
    dispatcher, only when no earlier phase failed."""
    MIRROR_SCHEMA = "D1 schema"
    """The D1 mirror's schema migrations: after the deletes, since the mirror records
    what is live; runs even when an earlier phase failed."""
    MIRROR_ROWS = "D1 rows"
    """The D1 mirror's rows, once its schema is current; also runs after failures (the
    failed items' rows are kept as they were)."""


class DesiredItem(Protocol):
    """One item a kind wants to exist."""

    @property
    def name(self) -> str: ...

    @property
    def customer(self) -> str | None:
        """The owning customer; ``None`` for the platform's own items (never scoped out)."""
        ...

    def digest_line(self) -> bytes:
        """Everything about the item that a saved plan must find unchanged."""
        ...


class ObservedItem(Protocol):
    """One item a kind read from the account."""

    @property
    def name(self) -> str: ...

    def digest_line(self) -> bytes:
        """Everything seen of it that makes a saved plan stale when it changes."""
        ...


class StateReader(Protocol):
    """The read-only part of the Cloudflare client that planning needs."""

    def list_scripts(
        self, namespace: str, *, tags: Sequence[tuple[str, bool]] = (), page_size: int = 1000
    ) -> Iterable[ScriptInfo]: ...

    def get_script_tags(self, namespace: str, name: str) -> tuple[str, ...]: ...

    def list_workers(self) -> Sequence[ScriptInfo]: ...

    def get_worker_tags(self, name: str) -> tuple[str, ...]: ...

    def get_worker_settings(self, name: str) -> dict[str, Any]: ...

    def map_concurrent(
        self, fn: Callable[[str], _R], items: Iterable[str]
    ) -> Sequence[_R | WfpError]: ...


@dataclasses.dataclass(frozen=True)
class DesiredContext:
    """What a kind's ``desired`` may look at: all of it pure data."""

    repo: PlatformRepo
    built: Mapping[str, tuple[Any, ...]]
    """Every item of the kinds built before this one (not limited to a --customer scope)."""
    inventory: Inventory | None = None
    """What is deployed and ours after the apply of the other kinds' changes
    (``kinds.outcome.after_apply``); derived kinds (the dispatcher) are built from it.
    ``None``: assume every declared item is deployed as declared."""
    customers: frozenset[str] = frozenset()
    """The run's --customer scope (every customer when empty); the engine leaves out the
    scoped-out customers' items, a kind whose items span customers (the D1 mirror's
    tables) reads it."""


class ReadSession:
    """Planning's reads, shared by the kinds of one plan: counts every call and reads
    what several kinds need (the account's Worker list) once."""

    def __init__(
        self,
        reader: StateReader,
        *,
        namespace: str,
        management_tag: str,
        declared: Mapping[str, frozenset[str]],
        wanted: Mapping[str, frozenset[str]] | None = None,
        platform: Platform | None = None,
        started: Mapping[str, Future[Any]] | None = None,
    ) -> None:
        self.reader = reader
        self.platform = platform
        """platform.yaml, for settings a kind reads with (``None`` in bare tests)."""
        self.namespace = namespace
        self.management_tag = management_tag
        self.declared = declared
        """Names wanted (within the run's scope), by space."""
        self.wanted = wanted or {}
        """Names wanted, by kind."""
        self.calls = 0
        self.namespace_exists = True
        self.tags_from_list = True
        self._workers: Sequence[ScriptInfo] | None = None
        self._settings: dict[str, Mapping[str, Any]] = {}
        self._shared: dict[str, Any] = {}
        self._started = started or {}
        """Reads of ``once`` begun before the session (``kinds.ahead``), by key."""

    def count(self, calls: int = 1) -> None:
        self.calls += calls

    def once(self, key: str, read: Callable[[], _R]) -> _R:
        """A read several kinds need (the D1 mirror's schema and rows), done once per
        plan; ``read`` counts its own calls. A read started ahead under ``key`` is
        waited for instead (its errors are raised here, as ``read``'s would be)."""
        if key not in self._shared:
            early = self._started.get(key)
            self._shared[key] = read() if early is None else early.result()
        found: _R = self._shared[key]
        return found

    def worker_settings(self, name: str) -> Mapping[str, Any]:
        """A regular Worker's settings, read at most once per plan."""
        if name not in self._settings:
            self._settings[name] = self.reader.get_worker_settings(name)
            self.count()
        return self._settings[name]

    def workers(self) -> Sequence[ScriptInfo]:
        """The account's regular Workers, listed once per plan."""
        if self._workers is None:
            self._workers = self.once(WORKERS_READ, self.reader.list_workers)
            self.count()
        return self._workers


@dataclasses.dataclass(frozen=True)
class DiffContext:
    """What the shared rules need to classify a difference."""

    namespace: str
    management_tag: str
    customers: frozenset[str] = frozenset()
    """The --customer scope: deletes only of these customers' items (all when empty)."""
    suspended: frozenset[str] = frozenset()
    known_customers: frozenset[str] = frozenset()
    adopt: frozenset[str] = frozenset()
    declared: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)
    """Every name declared in each name space (``Kind.space``), whatever the scope: a
    script that moved to a customer outside the scope must not look undeclared."""


class ApplyTarget(Protocol):
    """What a kind's ``visit`` writes through."""

    @property
    def client(self) -> Any:
        """The Cloudflare client (each kind uses the calls it needs)."""
        ...

    @property
    def namespace(self) -> str: ...

    @property
    def management_tag(self) -> str: ...

    @property
    def platform(self) -> Platform | None:
        """platform.yaml, for settings a kind writes with (a zone id)."""
        ...

    @property
    def secret_keys(self) -> Any:
        """What decrypts declared secrets (``wfp_reconcile.secrets.delivery.SecretKeys``)."""
        ...

    def item(self, change: Change) -> Any:
        """The desired item a create/update/adopt/retag change applies."""
        ...


class Kind(Protocol):
    """One kind of managed resource. Register an instance in ``kinds.registry``."""

    name: str
    """The value of ``Change.kind`` and the key of desired/actual state."""
    phase: Phase
    """When its creates, updates and retags run (deletes run in ``Phase.DELETES``)."""
    space: str
    """Names are unique within a space: ``namespace`` (customer scripts), ``account``
    (regular Workers). A delete is never planned for a name any kind of the same space
    declares."""
    counted: bool
    """Its items are the namespace's population the delete-fraction guard is taken of."""
    derived: bool
    """Built from the inventory the other kinds leave (``DesiredContext.inventory``): the
    engine builds it again once the other kinds' changes are known."""

    def desired(self, ctx: DesiredContext) -> Sequence[DesiredItem]:
        """Every item the repository declares of this kind (pure)."""
        ...

    def read(
        self, session: ReadSession, wanted: Sequence[DesiredItem]
    ) -> Mapping[str, ObservedItem]:
        """What exists, by name: ours, and others' under a name ``wanted`` uses (planning
        I/O only; count every call with ``session.count``)."""
        ...

    def diff(
        self,
        desired: Sequence[DesiredItem],
        actual: Mapping[str, ObservedItem],
        ctx: DiffContext,
    ) -> Sequence[Change]:
        """The changes that make ``actual`` match ``desired`` (pure; use ``kinds.rules``)."""
        ...

    def cost(self, change: Change) -> int:
        """Write calls an apply of ``change`` makes (for the plan's estimate)."""
        ...

    def visit(self, change: Change, target: ApplyTarget) -> None:
        """Apply one writing change; idempotent (a re-run after a fault converges)."""
        ...

    def explain(
        self, reader: Any, namespace: str, change: Change, item: DesiredItem
    ) -> tuple[FieldChange, ...]:
        """Planning-only reads that say *what* an update changes (``()``: nothing to add)."""
        ...

    def owned(self, observed: ObservedItem, known_customers: frozenset[str]) -> Entry | None:
        """The inventory entry of an item read from the account when it is deployed and
        ours (``None``: another's, or not this platform's)."""
        ...

    def deployed(self, item: DesiredItem) -> Entry:
        """The inventory entry of a declared item once an apply put it live."""
        ...

    def group(self, change: Change) -> str:
        """The plan section a change is shown in (``platform`` or ``customer X``)."""
        ...

    def label(self, change: Change) -> str:
        """How the item is named in plans and apply output (``script acme-web``)."""
        ...
