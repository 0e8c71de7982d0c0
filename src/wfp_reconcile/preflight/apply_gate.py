"""Pre-flight inside apply: which uploads to skip because Cloudflare would reject them.

A rejected upload changes nothing on Cloudflare, but it fails late, after the Workers
before it went live; loading the changed bundles first lets apply skip exactly the
broken ones (the last good version stays live, the summary says why) and go on with
the rest. Skipped items count as not carried out, so what is "deployed and ours" after
the apply (the dispatcher's routes, the D1 mirror, status) keeps their old version.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.desired import DesiredState
from wfp_reconcile.errors import RuntimeSetupError

from .model import Finding, PreflightReport
from .runner import PreflightSession, run_preflight
from .select import select_changed

__all__ = ["skip_reasons", "uploads_to_skip"]


def uploads_to_skip(
    repo: PlatformRepo,
    desired: DesiredState,
    uploads: Collection[tuple[str, str]],
    *,
    session: PreflightSession | None = None,
) -> tuple[PreflightReport | None, str | None]:
    """Pre-flight the ``(kind, name)`` items apply is about to upload.

    Returns the report, or ``None`` and the reason when the runtime is not available here
    (apply then uploads as before: Cloudflare still refuses a broken bundle by itself).
    """
    workers, unchanged = select_changed(desired, None, only=uploads)
    if not workers:
        return None, None
    try:
        return run_preflight(repo, workers, unchanged=unchanged, session=session), None
    except RuntimeSetupError as exc:
        return None, f"pre-flight did not run ({exc.message})"


def skip_reasons(report: PreflightReport | None) -> Mapping[tuple[str, str], str]:
    """``(kind, name)`` -> why it is skipped, for every Worker with a finding."""
    if report is None:
        return {}
    reasons: dict[tuple[str, str], list[Finding]] = {}
    for finding in report.findings:
        reasons.setdefault((finding.kind, finding.name), []).append(finding)
    return {
        key: "skipped, would be rejected by Cloudflare (pre-flight): "
        + "; ".join(str(f) for f in found)
        for key, found in reasons.items()
    }
