"""Executes a plan through the client, in phases, one visitor method per action.

Phases run in order: tail Workers (scripts and the dispatcher name them as
``tail_consumers``), outbound Workers, customer scripts, the dispatcher, then deletes
last, so that nothing is ever routed to code that is not there yet and nothing is
removed before its replacement is live. Within a phase operations run
concurrently; one failure does not stop the others. Every operation is
idempotent, so running again after a fault converges.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Protocol

from wfp_reconcile.assets.apply import prepare_upload
from wfp_reconcile.bundle import ScriptUpload
from wfp_reconcile.cloudflare import ScriptInfo
from wfp_reconcile.desired import (
    NS_PREFIX,
    DesiredState,
    DesiredWorker,
    WorkerKind,
    namespace_tag,
)
from wfp_reconcile.diff import Action, Change
from wfp_reconcile.errors import NotFoundError, PlanError, WfpError

__all__ = ["ApplyEvent", "ApplyResult", "OperationResult", "Phase", "PlanApplier", "phases"]

logger = logging.getLogger(__name__)


class Phase(StrEnum):
    TAIL = "tail Workers"
    OUTBOUND = "outbound Workers"
    SCRIPTS = "customer scripts"
    DISPATCHER = "dispatcher"
    DELETES = "deletes"


def phases(changes: Sequence[Change]) -> list[tuple[Phase, list[Change]]]:
    """The writing changes grouped into apply phases, in order (shared with render)."""
    buckets: dict[Phase, list[Change]] = {phase: [] for phase in Phase}
    for change in changes:
        if not change.action.writes:
            continue
        if change.action is Action.DELETE:
            buckets[Phase.DELETES].append(change)
        elif change.kind is WorkerKind.TAIL:
            buckets[Phase.TAIL].append(change)
        elif change.kind is WorkerKind.OUTBOUND:
            buckets[Phase.OUTBOUND].append(change)
        elif change.kind is WorkerKind.DISPATCHER:
            buckets[Phase.DISPATCHER].append(change)
        else:
            buckets[Phase.SCRIPTS].append(change)
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
    seconds: float
    attempted: bool = True
    """False when the operation waited for an earlier phase that failed."""

    @property
    def ok(self) -> bool:
        return self.error is None


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

    @property
    def succeeded(self) -> tuple[OperationResult, ...]:
        return tuple(r for r in self.results if r.ok)

    @property
    def failed(self) -> tuple[OperationResult, ...]:
        """Operations that were tried and failed."""
        return tuple(r for r in self.results if not r.ok and r.attempted)

    @property
    def not_attempted(self) -> tuple[OperationResult, ...]:
        """Operations left for the next run because an earlier phase failed."""
        return tuple(r for r in self.results if not r.attempted)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


class PlanApplier:
    """Applies changes; ``visit_<action>`` does one change."""

    def __init__(
        self,
        client: WorkerWriter,
        desired: DesiredState,
        *,
        on_event: Callable[[ApplyEvent], None] | None = None,
    ) -> None:
        self.client = client
        self.desired = desired
        self.on_event = on_event
        self._by_key = {(w.kind, w.name): w for w in desired.all()}

    def apply(self, changes: Sequence[Change]) -> ApplyResult:
        results: list[OperationResult] = []
        total = sum(1 for c in changes if c.action.writes)
        done = 0
        for phase, items in phases(changes):
            # The dispatcher's manifest routes to every declared script and deletes assume
            # the new routing is live: both wait for every earlier phase to succeed, so a
            # failed upload never leaves traffic routed to code that is not there. A
            # re-run does what is left.
            if phase in (Phase.DISPATCHER, Phase.DELETES) and any(not r.ok for r in results):
                for change in items:
                    result = OperationResult(
                        change, "not attempted: an earlier phase failed", 0.0, attempted=False
                    )
                    results.append(result)
                    done += 1
                    if self.on_event:
                        self.on_event(ApplyEvent(phase, result, done, total))
                continue
            outcomes = self.client.map_concurrent(self._run, items)
            for change, outcome in zip(items, outcomes, strict=True):
                if isinstance(outcome, OperationResult):
                    result = outcome
                else:  # the client's own failure wrapper
                    result = OperationResult(change, str(outcome), 0.0)
                results.append(result)
                done += 1
                if self.on_event:
                    self.on_event(ApplyEvent(phase, result, done, total))
        return ApplyResult(tuple(results))

    def _run(self, change: Change) -> OperationResult:
        visit = getattr(self, f"visit_{change.action.value}", None)
        if visit is None:
            raise PlanError(f"Unexpected action in plan: {change.action}")
        started = time.monotonic()
        try:
            visit(change)
        except WfpError as exc:
            logger.info("%s %s failed: %s", change.action, change.name, exc)
            return OperationResult(change, exc.message, time.monotonic() - started)
        return OperationResult(change, None, time.monotonic() - started)

    def _desired(self, change: Change) -> DesiredWorker:
        try:
            return self._by_key[(change.kind, change.name)]
        except KeyError:
            raise PlanError(f"{change.kind} {change.name} is in the plan but not declared.")

    def _upload(self, change: Change) -> None:
        worker = self._desired(change)
        upload = worker.upload_with_tags()
        if worker.kind is WorkerKind.SCRIPT:
            upload = prepare_upload(
                self.client, self.desired.namespace, worker.name, upload, worker.assets, change
            )
            self.client.upload_script(self.desired.namespace, worker.name, upload)
        else:
            self.client.upload_worker(worker.name, upload)

    visit_create = _upload
    visit_update = _upload
    visit_adopt = _upload

    def _check_still_ours(self, change: Change) -> None:
        """Refuse to retag or delete a Worker that lost our tags since the plan was read.

        The plan saw the tags a moment (or, with a saved plan, hours) ago; re-reading them
        right before the write closes that window for everything but a concurrent writer.
        """
        if change.kind is WorkerKind.SCRIPT:
            tags = self.client.get_script_tags(self.desired.namespace, change.name)
            ours = self.desired.management_tag in tags
        else:
            tags = self.client.get_worker_tags(change.name)
            ours = self.desired.management_tag in tags and (
                namespace_tag(self.desired.namespace) in tags
                # A declared Worker from before namespace tags may be retagged, never deleted.
                or (
                    change.action is not Action.DELETE
                    and not any(t.startswith(NS_PREFIX) for t in tags)
                )
            )
        if not ours:
            raise PlanError(
                f"Refusing to {change.action.value} {change.kind.value} {change.name}: it no "
                "longer carries this platform's management tags (someone else owns it now). "
                "Make a new plan."
            )

    def visit_retag(self, change: Change) -> None:
        worker = self._desired(change)
        self._check_still_ours(change)
        if worker.kind is WorkerKind.SCRIPT:
            self.client.put_script_tags(self.desired.namespace, worker.name, worker.tags)
        else:  # regular Worker tags travel with the upload
            self.client.upload_worker(worker.name, worker.upload_with_tags())

    def visit_delete(self, change: Change) -> None:
        try:
            self._check_still_ours(change)
            if change.kind is WorkerKind.SCRIPT:
                self.client.delete_script(self.desired.namespace, change.name)
            else:
                self.client.delete_worker(change.name)
        except NotFoundError:
            pass  # already gone (a re-run after a kill): the goal is reached
