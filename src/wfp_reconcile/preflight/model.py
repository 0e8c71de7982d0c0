"""What pre-flight found: one finding per broken Worker, located in the repository."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Any

__all__ = ["CheckedWorker", "Finding", "PreflightReport", "Reason"]

# Cloudflare's limit on a Worker's start-up (evaluating its global scope), on every plan:
# https://developers.cloudflare.com/workers/platform/limits/ ("Worker startup time").
STARTUP_LIMIT_MS = 1000

# Cloudflare's Worker size limit: one 64 MiB uncompressed limit on every plan since 2026
# (the limits page; cloudflare-docs#31002). An upload past it is refused with 10027.
SIZE_LIMIT_BYTES = 64 * 1024 * 1024


class Reason(StrEnum):
    """Why a Worker would be rejected (or fail) on Cloudflare."""

    SYNTAX = "syntax"
    """A module does not parse."""
    IMPORT = "import"
    """An import names a module that is not in the bundle, or an export it lacks."""
    COMPAT = "compat"
    """An import needs a compatibility flag the script does not declare (``node:``)."""
    ENTRY = "entry"
    """The main module has no default export with the handler the Worker needs."""
    STARTUP = "startup"
    """The global scope threw while the Worker started."""
    STARTUP_CPU = "startup_cpu"
    """Starting the Worker took longer than Cloudflare's start-up limit."""
    SIZE = "size"
    """The Worker's modules together are over Cloudflare's size limit."""
    CONFIG = "config"
    """workerd refused the configuration (an unknown compatibility flag, say)."""
    SMOKE = "smoke"
    """The script's smoke request (``preflight:`` in customer.yaml) did not answer as expected."""


@dataclasses.dataclass(frozen=True)
class Finding:
    """One problem in one Worker, at a place in the repository (line 0: the whole file)."""

    kind: str
    """The Worker's kind (``script``, ``outbound``, ``tail``, ``dispatcher``)."""
    name: str
    customer: str | None
    path: str
    line: int
    column: int
    reason: Reason
    message: str
    """workerd's message (what Cloudflare answers with code 10021), plus a hint."""

    @property
    def where(self) -> str:
        if not self.line:
            return self.path
        return (
            f"{self.path}:{self.line}:{self.column}" if self.column else f"{self.path}:{self.line}"
        )

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "customer": self.customer,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "reason": self.reason.value,
            "message": self.message,
        }


@dataclasses.dataclass(frozen=True)
class CheckedWorker:
    """One Worker pre-flight loaded, and how long its start-up took (wall time)."""

    kind: str
    name: str
    customer: str | None
    ok: bool
    startup_ms: int


@dataclasses.dataclass(frozen=True)
class PreflightReport:
    """Everything one pre-flight run checked and found."""

    checked: tuple[CheckedWorker, ...]
    findings: tuple[Finding, ...]
    unchanged: int
    """Workers not loaded because their bundle equals the baseline's."""
    baseline: str
    """What the bundles were compared with: ``deployed``, ``base <rev>`` or ``none``."""
    seconds: float
    smoke: int = 0
    """Smoke requests sent through the dispatcher (``preflight:`` in customer.yaml)."""

    @property
    def ok(self) -> bool:
        return not self.findings

    def failed(self) -> frozenset[tuple[str, str]]:
        """``(kind, name)`` of every Worker with a finding."""
        return frozenset((f.kind, f.name) for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "ok": self.ok,
            "baseline": self.baseline,
            "checked": len(self.checked),
            "unchanged": self.unchanged,
            "seconds": round(self.seconds, 3),
            "smoke_requests": self.smoke,
            "workers": [dataclasses.asdict(c) for c in self.checked],
            "findings": [f.to_json() for f in self.findings],
        }
