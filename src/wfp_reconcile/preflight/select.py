"""Which Workers to pre-flight: those whose bundle differs from a baseline (pure).

The baseline is what is deployed (the fingerprints a plan compared with) or, offline, the
desired state of a base git revision: pre-flight itself never talks to Cloudflare, so the
fork pull-request job, which has no secrets, compares with the pull request's base.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from wfp_reconcile.desired import DesiredState, DesiredWorker

__all__ = ["Baseline", "fingerprints", "select_changed"]

Baseline = Mapping[tuple[str, str], str]
"""``(kind, name)`` -> short fingerprint of the bundle the baseline has."""


def fingerprints(desired: DesiredState) -> dict[tuple[str, str], str]:
    """The baseline a desired state makes (for a base revision)."""
    return {(w.kind.value, w.name): w.fingerprint.short for w in desired.workers()}


def select_changed(
    desired: DesiredState,
    baseline: Baseline | None,
    *,
    only: Collection[tuple[str, str]] | None = None,
) -> tuple[tuple[DesiredWorker, ...], int]:
    """The Workers to load, and how many were left out as unchanged.

    Args:
        desired: What apply would upload.
        baseline: The bundles to compare with; ``None`` loads every Worker.
        only: When given, just these ``(kind, name)`` (a plan's uploads), whatever the
            baseline says.
    """
    chosen: list[DesiredWorker] = []
    unchanged = 0
    # Workers only: other kinds (custom hostnames) upload no bundle.
    for worker in _uploadable(desired.workers()):
        key = (worker.kind.value, worker.name)
        if only is not None:
            wanted = key in only
        else:
            wanted = baseline is None or baseline.get(key) != worker.fingerprint.short
        if wanted:
            chosen.append(worker)
        else:
            unchanged += 1
    return tuple(chosen), unchanged


def _uploadable(workers: Iterable[DesiredWorker]) -> Iterable[DesiredWorker]:
    # A suspended customer's scripts are never uploaded, so they cannot break an apply.
    return (w for w in workers if not w.suspended)
