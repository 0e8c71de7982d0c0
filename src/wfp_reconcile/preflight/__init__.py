"""Pre-flight: load the exact bundles apply would upload in real workerd, before they are
uploaded, so broken code fails the pull request instead of the apply (docs/preflight.md)."""

from __future__ import annotations

from .model import STARTUP_LIMIT_MS, CheckedWorker, Finding, PreflightReport, Reason
from .runner import PreflightSession, run_preflight
from .select import Baseline, fingerprints, select_changed

__all__ = [
    "STARTUP_LIMIT_MS",
    "Baseline",
    "CheckedWorker",
    "Finding",
    "PreflightReport",
    "PreflightSession",
    "Reason",
    "fingerprints",
    "run_preflight",
    "select_changed",
]
