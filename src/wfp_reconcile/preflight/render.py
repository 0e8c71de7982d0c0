"""A pre-flight report as text, JSON or GitHub workflow annotations (strings only)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .model import Finding, PreflightReport

__all__ = ["render_github", "render_json", "render_text", "summary_line"]


def _who(finding: Finding) -> str:
    owner = f" of customer {finding.customer}" if finding.customer else ""
    return f"{finding.kind} {finding.name}{owner}"


def summary_line(report: PreflightReport) -> str:
    failed = len(report.failed())
    count = len(report.checked)
    noun = "Worker" if count == 1 else "Workers"
    skipped = f", {report.unchanged} unchanged" if report.unchanged else ""
    base = f" (compared with {report.baseline})" if report.baseline != "none" else ""
    if report.smoke:
        skipped += f", {report.smoke} smoke request{'' if report.smoke == 1 else 's'}"
    if failed:
        return (
            f"Pre-flight: {failed} of {count} {noun} would be rejected by Cloudflare"
            f"{skipped}{base}, {report.seconds:.1f} s."
        )
    return f"Pre-flight: {count} {noun} load in workerd{skipped}{base}, {report.seconds:.1f} s."


def render_text(report: PreflightReport) -> str:
    lines = [f"error: {f.where}: {_who(f)}: {f.message}" for f in report.findings]
    lines.append(summary_line(report))
    return "\n".join(lines)


def render_json(report: PreflightReport) -> str:
    return json.dumps(report.to_json(), indent=2)


def _escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(report: PreflightReport, repo: Path) -> str:
    """One ``::error`` annotation per finding, on the file and line it names."""
    lines = []
    for f in report.findings:
        path = Path(os.path.relpath(repo / f.path)).as_posix()
        props = f"file={_escape(path, prop=True)}"
        if f.line:
            props += f",line={f.line}" + (f",col={f.column}" if f.column else "")
        title = _escape(f"pre-flight: {_who(f)}", prop=True)
        lines.append(f"::error {props},title={title}::{_escape(f.message)}")
    lines.append(summary_line(report))
    return "\n".join(lines)
