"""The dispatcher: the platform's generated dispatch Worker, a kind derived from the others.

Its manifest says which scripts it routes, so its desired item is computed from what the
other kinds leave deployed (``DesiredContext.inventory``), not from the repository alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from wfp_reconcile.dispatcher import build_dispatcher_upload
from wfp_reconcile.worker import DesiredWorker, WorkerKind

from .protocol import DesiredContext, Phase
from .regular import RegularWorkerKind, regular_worker

__all__ = ["DispatcherKind", "routed_fingerprints"]


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

    def desired(self, ctx: DesiredContext) -> Sequence[DesiredWorker]:
        repo = ctx.repo
        routed = routed_fingerprints(ctx)
        fingerprints = {k: v for k, v in routed.items() if v is not None}
        # The commit is shown by the dispatcher but must not force a re-upload on every
        # commit, so the fingerprint is taken from the same manifest without it.
        unstamped = build_dispatcher_upload(repo, fingerprints, None, routed=routed)
        worker = regular_worker(repo.platform, self.name, repo.platform.dispatcher.name, unstamped)
        stamped = build_dispatcher_upload(repo, fingerprints, repo.commit, routed=routed)
        return [dataclasses.replace(worker, upload=stamped)]
