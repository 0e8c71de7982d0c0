"""The dispatcher: the platform's generated dispatch Worker, a kind derived from the others.

Its manifest says which scripts it routes, so its desired item is computed from what the
other kinds leave deployed (``DesiredContext.inventory``), not from the repository alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, cast

from wfp_reconcile.change import Action, Change, FieldChange
from wfp_reconcile.dispatcher import build_dispatcher_uploads
from wfp_reconcile.worker import ActualWorker, DesiredWorker, WorkerKind

from .hostname import routed_hostnames
from .protocol import ApplyTarget, DesiredContext, DiffContext, Phase, ReadSession
from .regular import RegularWorkerKind, namespace_bindings, regular_worker

WORKERS_DEV = "workers_dev"
_UPLOADS = (Action.CREATE, Action.UPDATE, Action.ADOPT)


def _on_off(value: object) -> str:
    return "enabled" if value else "disabled"


__all__ = ["WORKERS_DEV", "DispatcherKind", "routed_fingerprints"]


def routed_fingerprints(ctx: DesiredContext) -> dict[str, str | None]:
    """The scripts the dispatcher routes, with the fingerprint each is deployed with.

    Exactly the scripts that are deployed and ours once the apply ran (the inventory),
    and only under the customer that declares them: a name the plan marks as a conflict
    (another team's script, another customer's retired or protected one), a create that
    failed or was skipped, a name never created (``apply --customer`` of another
    customer) is not routed, so the dispatcher never puts one customer's access mode,
    tokens and limits in front of someone else's code.
    """
    if ctx.inventory is None:  # no plan: assume everything declared is deployed
        scripts: Sequence[DesiredWorker] = ctx.built.get(WorkerKind.SCRIPT.value, ())
        return {w.name: w.fingerprint.short for w in scripts}
    owners = {name: c.id for c in ctx.repo.customers for name in c.scripts}
    return {
        name: entry.fingerprint
        for name, entry in ctx.inventory.of(WorkerKind.SCRIPT.value).items()
        if owners.get(name) == entry.customer
    }


class DispatcherKind(RegularWorkerKind):
    name = WorkerKind.DISPATCHER.value
    phase = Phase.DISPATCHER
    derived = True

    def proven(self, session: ReadSession, name: str) -> bool:
        # A dispatcher is what it dispatches to: all its namespace bindings name ours.
        bindings = namespace_bindings(session.worker_settings(name))
        return bool(bindings) and all(b.get("namespace") == session.namespace for b in bindings)

    def desired(self, ctx: DesiredContext) -> Sequence[DesiredWorker]:
        repo = ctx.repo
        routed = routed_fingerprints(ctx)
        fingerprints = {k: v for k, v in routed.items() if v is not None}
        # The commit is shown by the dispatcher but must not force a re-upload on every
        # commit, so the fingerprint is taken from the same manifest without it.
        hostnames = routed_hostnames(ctx)
        unstamped, stamped = build_dispatcher_uploads(
            repo, fingerprints, (None, repo.commit), routed=routed, hostnames=hostnames
        )
        # workers.dev is a setting of its own (a call after the upload, issue 11 item 10);
        # in the fingerprint so that changing it re-applies it.
        settings = {WORKERS_DEV: repo.platform.dispatcher.workers_dev}
        worker = regular_worker(
            repo.platform, self.name, repo.platform.dispatcher.name, unstamped, settings
        )
        return [dataclasses.replace(worker, upload=stamped)]

    def _diff_one(
        self, desired: DesiredWorker, actual: ActualWorker | None, ctx: DiffContext
    ) -> Change | None:
        change = super()._diff_one(desired, actual, ctx)
        if change is None or change.action is not Action.CREATE:
            return change
        # A new dispatcher: say what workers.dev will be (an update shows it when it differs).
        wanted = FieldChange(
            field=WORKERS_DEV, before=None, after=_on_off(desired.settings.get(WORKERS_DEV))
        )
        return change.model_copy(update={"fields": (*change.fields, wanted)})

    def cost(self, change: Change) -> int:
        # The upload, then the workers.dev setting.
        return 2 if change.action in _UPLOADS else super().cost(change)

    def _upload(self, target: ApplyTarget, worker: DesiredWorker) -> None:
        super()._upload(target, worker)
        if WORKERS_DEV in worker.settings:
            target.client.set_workers_dev(worker.name, bool(worker.settings[WORKERS_DEV]))

    def explain(
        self, reader: Any, namespace: str, change: Change, item: Any
    ) -> tuple[FieldChange, ...]:
        fields = super().explain(reader, namespace, change, item)
        wanted = bool(cast(DesiredWorker, item).settings.get(WORKERS_DEV))
        current = bool(reader.get_workers_dev(change.name))
        if current == wanted:
            return fields
        return (
            *fields,
            FieldChange(field=WORKERS_DEV, before=_on_off(current), after=_on_off(wanted)),
        )
