"""Smoke requests: ``preflight: {path: /healthz, expect: 200}`` on a customer script.

The scripts that declare one are applied, with the generated dispatcher and the outbound
Workers, to an in-memory local API emulator, and the local Workers runtime (workerd,
``wfp-reconcile dev``'s) serves them: each request goes through the dispatcher, exactly
as an eyeball's would, so the customer's outbound Worker sits in front of every fetch()
the script makes. Nothing leaves 127.0.0.1 and nothing talks to Cloudflare.
"""

from __future__ import annotations

import dataclasses
import secrets
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import httpx

from wfp_reconcile.config.model import PlatformRepo, Routing

from .model import Finding, PreflightReport, Reason

__all__ = ["SmokeCheck", "run_smoke", "smoke_checks", "with_smoke"]


@dataclasses.dataclass(frozen=True)
class SmokeCheck:
    customer: str
    script: str
    path: str
    expect: int


def smoke_checks(repo: PlatformRepo, names: Sequence[str] | None = None) -> list[SmokeCheck]:
    """The declared smoke requests (of ``names`` only, when given)."""
    wanted = None if names is None else set(names)
    return [
        SmokeCheck(customer.id, name, script.preflight.path, script.preflight.expect)
        for customer in repo.customers
        if not customer.suspended
        for name, script in sorted(customer.scripts.items())
        if script.preflight is not None and (wanted is None or name in wanted)
    ]


def _request(repo: PlatformRepo, base: str, check: SmokeCheck) -> tuple[str, dict[str, str]]:
    dispatcher = repo.platform.dispatcher
    if dispatcher.routing is Routing.HOST and dispatcher.domain:
        return f"{base}{check.path}", {"host": f"{check.script}.{dispatcher.domain}"}
    return f"{base}/{check.script}{check.path}", {}


def _finding(check: SmokeCheck, message: str) -> Finding:
    return Finding(
        kind="script",
        name=check.script,
        customer=check.customer,
        path=str(PurePosixPath("customers") / check.customer / "customer.yaml"),
        line=0,
        column=0,
        reason=Reason.SMOKE,
        message=message,
    )


def run_smoke(repo: PlatformRepo, checks: Sequence[SmokeCheck]) -> list[Finding]:
    """Send every smoke request through the dispatcher in workerd; findings for misses."""
    if not checks:
        return []
    from wfp_reconcile.cloudflare import ClientSettings, CloudflareClient
    from wfp_reconcile.engine import apply_plan, plan_repo
    from wfp_reconcile.local.emulator import run_emulator
    from wfp_reconcile.local.runtime import RuntimeSettings, run_runtime
    from wfp_reconcile.local.runtime.d1local import ensure_local_databases

    token = secrets.token_urlsafe(24)
    customers = sorted({c.customer for c in checks})
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="wfp-smoke-") as tmp:
        with run_emulator(Path(tmp) / "state", api_token=token) as server:
            settings = ClientSettings(
                account_id=repo.platform.account_id,
                api_token=token,
                base_url=server.api_base,
                requests_per_window=1_000_000,
                max_attempts=2,
            )
            with CloudflareClient(settings) as client:
                ensure_local_databases(repo, server.url)
                client.ensure_namespace(repo.platform.namespace)
                planned = plan_repo(repo, client, customers=customers, describe=False)
                result = apply_plan(planned.plan, repo, client, verify_state=False)
            not_uploaded = {r.change.name: r.error for r in result.failed}
            runtime_settings = RuntimeSettings(
                emulator_url=server.url,
                emulator_secret=server.internal_secret,
                account_id=repo.platform.account_id,
                dispatcher_name=repo.platform.dispatcher.name,
                port=0,
            )
            with (
                run_runtime(runtime_settings) as runtime,
                httpx.Client(timeout=30.0, trust_env=False) as http,
            ):
                for check in checks:
                    if check.script in not_uploaded:
                        continue  # reported by the load check already
                    url, headers = _request(repo, runtime.url, check)
                    try:
                        answer = http.get(url, headers=headers)
                    except httpx.HTTPError as exc:
                        findings.append(_finding(check, f"GET {check.path} did not answer: {exc}"))
                        continue
                    if answer.status_code != check.expect:
                        body = answer.text[:300].replace("\n", " ")
                        findings.append(
                            _finding(
                                check,
                                f"Smoke request GET {check.path} through the dispatcher "
                                f"answered {answer.status_code}, expected {check.expect}: "
                                f"{body}",
                            )
                        )
    return findings


def with_smoke(repo: PlatformRepo, report: PreflightReport) -> PreflightReport:
    """``report`` plus the smoke requests of the scripts it checked and found loadable."""
    loaded = [c.name for c in report.checked if c.kind == "script" and c.ok]
    checks = smoke_checks(repo, loaded)
    if not checks:
        return report
    started = time.monotonic()
    found = run_smoke(repo, checks)
    failed = {f.name for f in found}
    checked = tuple(
        dataclasses.replace(c, ok=False) if c.kind == "script" and c.name in failed else c
        for c in report.checked
    )
    return dataclasses.replace(
        report,
        checked=checked,
        findings=report.findings + tuple(found),
        smoke=len(checks),
        seconds=report.seconds + time.monotonic() - started,
    )
