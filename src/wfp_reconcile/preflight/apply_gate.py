"""Pre-flight inside apply: which uploads to skip because Cloudflare would reject them.

A rejected upload changes nothing on Cloudflare, but it fails late, after the Workers
before it went live; loading the changed bundles first lets apply skip exactly the
broken ones (the last good version stays live, the summary says why) and go on with
the rest. Skipped items count as not carried out, so what is "deployed and ours" after
the apply (the dispatcher's routes, the D1 mirror, status) keeps their old version.
``engine.apply_plan`` calls these before its first write (docs/preflight.md, "In apply").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping

from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.desired import DesiredState
from wfp_reconcile.errors import RuntimeSetupError

from .model import Finding, PreflightReport
from .runner import PreflightSession, run_preflight
from .select import select_changed

__all__ = ["SKIP_REASON", "replace_checked", "skip_reasons", "uploads_to_skip"]

SKIP_REASON = "would be rejected by Cloudflare (pre-flight)"
"""How every skip reason starts; the findings (``path:line:col: message``) follow."""


def uploads_to_skip(
    repo: PlatformRepo,
    desired: DesiredState,
    uploads: Collection[tuple[str, str]],
    *,
    session: PreflightSession | None = None,
) -> tuple[PreflightReport | None, str | None]:
    """Pre-flight the ``(kind, name)`` items apply is about to upload.

    Args:
        repo: The repository the bundles come from (findings name its files).
        desired: The desired state apply uploads from.
        uploads: The items the plan creates, updates or adopts; those without a bundle
            (not Workers) are left out.
        session: The workerd to load them in (one per apply); a new one otherwise.

    Returns:
        The report, or ``None`` and the reason when the runtime is not available here
        (apply then uploads as before: Cloudflare still refuses a broken bundle by
        itself). ``(None, None)`` when nothing uploads a bundle.
    """
    workers, unchanged = select_changed(desired, None, only=uploads)
    if not workers:
        return None, None
    try:
        report = run_preflight(
            repo, workers, unchanged=unchanged, baseline="deployed", session=session
        )
    except RuntimeSetupError as exc:
        return None, f"pre-flight did not run ({exc.message})"
    return report, None


def skip_reasons(report: PreflightReport | None) -> Mapping[tuple[str, str], str]:
    """``(kind, name)`` -> why it is skipped, for every Worker with a finding."""
    if report is None:
        return {}
    reasons: dict[tuple[str, str], list[Finding]] = {}
    for finding in report.findings:
        reasons.setdefault((finding.kind, finding.name), []).append(finding)
    return {
        key: f"{SKIP_REASON}: " + "; ".join(str(f) for f in found) for key, found in reasons.items()
    }


def replace_checked(
    report: PreflightReport, keys: Collection[tuple[str, str]], again: PreflightReport | None
) -> PreflightReport:
    """``report`` with the Workers ``keys`` as ``again`` checked them (or not at all).

    Apply checks the dispatcher twice when it skips a script: the dispatcher is derived
    again without the skipped scripts, and only that bundle is uploaded.
    """

    def kept(kind: str, name: str) -> bool:
        return (kind, name) not in keys

    checked = tuple(c for c in report.checked if kept(c.kind, c.name))
    findings = tuple(f for f in report.findings if kept(f.kind, f.name))
    seconds = report.seconds
    if again is not None:
        checked += again.checked
        findings += again.findings
        seconds += again.seconds
    return dataclasses.replace(report, checked=checked, findings=findings, seconds=seconds)
