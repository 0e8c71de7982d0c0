"""Executes a plan through the client, in phases, one visitor method per action.

Phases run in order: tail Workers (scripts and the dispatcher name them as
``tail_consumers``), outbound Workers, customer scripts, the dispatcher (and the routing
store's records), then deletes, so that nothing is ever routed to code that is not there
yet and nothing is removed before its replacement is live; then the routing store's
index; the D1 mirror last, recording what is live. Within a
phase operations run concurrently; one failure does not stop the others. Every operation is
idempotent, so running again after a fault converges.

An upload pre-flight found Cloudflare would reject (``engine.apply_plan``) is *skipped*:
never sent, so the last good version stays live. Unlike a failure it holds nothing
back, because the dispatcher the engine hands over was derived without it.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from wfp_reconcile.bundle import ScriptUpload
from wfp_reconcile.change import Action, Change
from wfp_reconcile.cloudflare import ScriptInfo
from wfp_reconcile.config.model import Platform
from wfp_reconcile.desired import DesiredState
from wfp_reconcile.errors import PlanError, WfpError
from wfp_reconcile.kinds import Inventory, Phase, kind
from wfp_reconcile.secrets.delivery import SecretKeys

if TYPE_CHECKING:
    from wfp_reconcile.preflight import PreflightReport

__all__ = [
    "UPLOADS",
    "ApplyEvent",
    "ApplyResult",
    "OperationResult",
    "Phase",
    "PlanApplier",
    "phases",
]

logger = logging.getLogger(__name__)

UPLOADS = (Action.CREATE, Action.UPDATE, Action.ADOPT)
"""The actions that upload a bundle (what pre-flight checks and may skip)."""


# Phases that run only when no earlier one failed (a customer's routing records and
# deletes: when none of its own and none of the platform's did, ``_waits_for``). The
# routing index must never vouch for a record that was not written (the next plan would
# then see nothing to do).
_WAITS = (Phase.DISPATCHER, Phase.DELETES, Phase.ROUTING_INDEX)


def _waits_for(
    change: Change, phase: Phase, items: Sequence[Change], blocking: Sequence[OperationResult]
) -> bool:
    """Whether ``change``, of a phase in ``_WAITS`` with ``items``, waits for the failures
    ``blocking``.

    A customer's own item in the dispatcher's phase (its routing records) is built from
    that customer's uploads and the platform's Workers only: another customer's failure
    must not hold back its suspension, a revoked token or a new script's route for as
    long as that other upload keeps failing. It still waits when the dispatch Worker of
    the same phase does (the records may name a binding only its new version has). A
    customer's delete waits likewise for what routes that customer (its records, or the
    dispatch Worker: a platform item), not for another customer: deleting a script is
    how it is stopped at once. Everything else (the dispatch Worker, platform deletes,
    the routing index) waits for every failure.
    """
    if phase not in (Phase.DISPATCHER, Phase.DELETES) or change.customer is None:
        return True
    if phase is Phase.DISPATCHER and any(c.customer is None for c in items):
        return True
    return any(r.change.customer in (None, change.customer) for r in blocking)


def phases(changes: Sequence[Change]) -> list[tuple[Phase, list[Change]]]:
    """The writing changes grouped into apply phases, in order (shared with render)."""
    buckets: dict[Phase, list[Change]] = {phase: [] for phase in Phase}
    for change in changes:
        if not change.action.writes:
            continue
        if change.action is Action.DELETE:
            buckets[Phase.DELETES].append(change)
        else:
            buckets[kind(change.kind).phase].append(change)
    return [(phase, items) for phase, items in buckets.items() if items]


class WorkerWriter(Protocol):
    """The writing part of the Cloudflare client that apply needs."""

    def upload_script(self, namespace: str, name: str, upload: ScriptUpload) -> ScriptInfo: ...

    def put_script_tags(
        self, namespace: str, name: str, tags: Sequence[str]
    ) -> tuple[str, ...]: ...

    def delete_script(self, namespace: str, name: str) -> None: ...

    def upload_worker(self, name: str, upload: ScriptUpload) -> ScriptInfo: ...

    def delete_worker(self, name: str) -> None: ...

    def get_script_tags(self, namespace: str, name: str) -> tuple[str, ...]: ...

    def get_worker_tags(self, name: str) -> tuple[str, ...]: ...

    def map_concurrent(
        self, fn: Callable[[Change], object], items: Sequence[Change]
    ) -> list[object]: ...


@dataclasses.dataclass(frozen=True)
class OperationResult:
    change: Change
    error: str | None
    """Why the operation did not happen: its failure, why it was skipped, or what it
    waited for; ``None`` when it was done."""
    seconds: float
    attempted: bool = True
    """False when the operation waited for an earlier phase that failed."""
    skipped: bool = False
    """True when pre-flight found Cloudflare would reject the upload, so it was not sent
    (``error`` says where the code is broken)."""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def holds_back(self) -> bool:
        """Whether the dispatcher and the deletes must wait for this one.

        A skipped upload does not: the dispatcher was derived without it (a new script is
        not routed, an updated one keeps its deployed entry). A skipped dispatcher does:
        the deletes assume its new routing is live.
        """
        if self.ok:
            return False
        return not self.skipped or kind(self.change.kind).derived


@dataclasses.dataclass(frozen=True)
class ApplyEvent:
    """Reported after every operation (for progress bars and logs)."""

    phase: Phase
    result: OperationResult
    done: int
    total: int


@dataclasses.dataclass(frozen=True)
class ApplyResult:
    results: tuple[OperationResult, ...]
    inventory: Inventory | None = None
    """What is deployed and ours after the apply (``kinds.outcome``), when known."""
    preflight: PreflightReport | None = None
    """What pre-flight loaded before the first write (``None``: it did not run)."""
    preflight_note: str | None = None
    """Why pre-flight did not run although it was asked for (no runtime here)."""

    @property
    def succeeded(self) -> tuple[OperationResult, ...]:
        return tuple(r for r in self.results if r.ok)

    @property
    def failed(self) -> tuple[OperationResult, ...]:
        """Operations that were tried and failed."""
        return tuple(r for r in self.results if not r.ok and r.attempted and not r.skipped)

    @property
    def skipped(self) -> tuple[OperationResult, ...]:
        """Uploads not sent because pre-flight found Cloudflare would reject them."""
        return tuple(r for r in self.results if r.skipped)

    @property
    def not_attempted(self) -> tuple[OperationResult, ...]:
        """Operations left for the next run because an earlier phase failed."""
        return tuple(r for r in self.results if not r.attempted)

    @property
    def ok(self) -> bool:
        """Everything was done: a skipped upload is not (the apply exits 1)."""
        return all(r.ok for r in self.results)


class PlanApplier:
    """Applies changes phase by phase; each change's kind (``Kind.visit``) does it."""

    def __init__(
        self,
        client: WorkerWriter,
        desired: DesiredState,
        *,
        on_event: Callable[[ApplyEvent], None] | None = None,
        secret_keys: SecretKeys | None = None,
        rederive: Callable[[frozenset[tuple[str, str]]], DesiredState] | None = None,
    ) -> None:
        """``rederive`` builds the derived kinds again from the inventory the apply
        leaves when the given ``(kind, name)`` changes were not carried out; it is called
        before a phase of derived kinds (the D1 mirror) that runs after a failure."""
        self.client = client
        self.on_event = on_event
        self._secret_keys = secret_keys or SecretKeys()
        self._rederive = rederive
        self._use(desired)

    def _use(self, desired: DesiredState) -> None:
        self.desired = desired
        self._by_key: dict[tuple[str, str], object] = {
            (k, item.name): item for k in desired.items for item in desired.items[k]
        }

    def apply(
        self, changes: Sequence[Change], *, skip: Mapping[tuple[str, str], str] | None = None
    ) -> ApplyResult:
        """Apply ``changes`` phase by phase.

        Args:
            changes: The plan's changes (the derived ones as the caller derived them).
            skip: ``(kind, name)`` -> why: uploads not to send (pre-flight's findings).
        """
        skip = skip or {}
        results: list[OperationResult] = []
        total = sum(1 for c in changes if c.action.writes)
        done = 0

        def report(phase: Phase, result: OperationResult) -> None:
            nonlocal done
            results.append(result)
            done += 1
            if self.on_event:
                self.on_event(ApplyEvent(phase, result, done, total))

        for phase, items in phases(changes):
            # The dispatcher's manifest routes to every declared script and deletes assume
            # the new routing is live: both wait for every earlier phase to succeed, so a
            # failed upload never leaves traffic routed to code that is not there. A
            # re-run does what is left. A skipped upload holds nothing back (holds_back).
            blocking = [r for r in results if r.holds_back]
            if phase in _WAITS and blocking:
                why = (
                    "not attempted: an earlier phase failed"
                    if any(not r.skipped for r in blocking)
                    else "not attempted: the dispatcher's upload was skipped (pre-flight)"
                )
                ready = []
                for change in items:
                    if _waits_for(change, phase, items, blocking):
                        report(phase, OperationResult(change, why, 0.0, attempted=False))
                    else:
                        ready.append(change)
                if not ready:
                    continue
                items = ready
            held = [c for c in items if c.action in UPLOADS and (c.kind, c.name) in skip]
            for change in held:
                report(
                    phase,
                    OperationResult(change, skip[(change.kind, change.name)], 0.0, skipped=True),
                )
            if held:
                kept = {(c.kind, c.name) for c in held}
                items = [c for c in items if (c.kind, c.name) not in kept]
            # A derived kind's phase that runs after failures (the D1 mirror) gets its items
            # built again from what was carried out. (The dispatcher never runs after a
            # failure, a customer's routing records only after none of that customer's
            # (``_waits_for``), and the engine derived both without the skipped uploads.)
            missed = frozenset((r.change.kind, r.change.name) for r in results if not r.ok)
            derived = any(kind(c.kind).derived for c in items)
            if missed and derived and self._rederive and phase is not Phase.DISPATCHER:
                self._use(self._rederive(missed))
            outcomes = self.client.map_concurrent(self._run, items)
            for change, outcome in zip(items, outcomes, strict=True):
                if isinstance(outcome, OperationResult):
                    result = outcome
                else:  # the client's own failure wrapper
                    result = OperationResult(change, str(outcome), 0.0)
                report(phase, result)
        return ApplyResult(tuple(results))

    def _run(self, change: Change) -> OperationResult:
        target = kind(change.kind)
        if not change.action.writes:
            raise PlanError(f"Unexpected action in plan: {change.action}")
        started = time.monotonic()
        try:
            target.visit(change, self)
        except WfpError as exc:
            logger.info("%s %s failed: %s", change.action, change.name, exc)
            return OperationResult(change, exc.message, time.monotonic() - started)
        return OperationResult(change, None, time.monotonic() - started)

    # -- the ApplyTarget the kinds write through ----------------------------------------

    @property
    def namespace(self) -> str:
        return self.desired.namespace

    @property
    def management_tag(self) -> str:
        return self.desired.management_tag

    @property
    def platform(self) -> Platform | None:
        return self.desired.platform

    @property
    def secret_keys(self) -> SecretKeys:
        return self._secret_keys

    def item(self, change: Change) -> object:
        try:
            return self._by_key[(change.kind, change.name)]
        except KeyError:
            raise PlanError(f"{change.kind} {change.name} is in the plan but not declared.")
