"""The dispatcher: the platform's generated dispatch Worker, a kind derived from the others.

Its manifest says which scripts it routes, so its desired item is computed from what the
other kinds leave deployed (``DesiredContext.inventory``), not from the repository alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from wfp_reconcile.dispatcher import build_dispatcher_upload
from wfp_reconcile.worker import DesiredWorker, WorkerKind

from .protocol import DesiredContext, Phase
from .regular import RegularWorkerKind, regular_worker

__all__ = ["DispatcherKind", "routed_fingerprints"]


def routed_fingerprints(ctx: DesiredContext) -> Mapping[str, str]:
    """The scripts the dispatcher routes, with the fingerprint each is deployed with."""
    scripts: Sequence[DesiredWorker] = ctx.built.get(WorkerKind.SCRIPT.value, ())
    return {w.name: w.fingerprint.short for w in scripts}


class DispatcherKind(RegularWorkerKind):
    name = WorkerKind.DISPATCHER.value
    phase = Phase.DISPATCHER

    def desired(self, ctx: DesiredContext) -> Sequence[DesiredWorker]:
        repo = ctx.repo
        fingerprints = routed_fingerprints(ctx)
        # The commit is shown by the dispatcher but must not force a re-upload on every
        # commit, so the fingerprint is taken from the same manifest without it.
        unstamped = build_dispatcher_upload(repo, fingerprints, None)
        worker = regular_worker(repo.platform, self.name, repo.platform.dispatcher.name, unstamped)
        stamped = build_dispatcher_upload(repo, fingerprints, repo.commit)
        return [dataclasses.replace(worker, upload=stamped)]
