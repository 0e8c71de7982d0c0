"""Loading bundles in one workerd for the whole run, in parallel, and turning workerd's
answers into findings.

One session starts workerd once (``PreflightSession``) and loads every Worker through the
Worker Loader with a few loads in flight. workerd runs isolates on one thread, so a
Worker whose start-up looks slow under that load is measured again on its own before it
is reported. Open-source workerd enforces no CPU limit: a global scope that never
finishes would hold the whole process, so a batch that does not answer in time restarts
workerd and its Workers are loaded one at a time to find the one that hangs.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.desired import DesiredWorker
from wfp_reconcile.errors import RuntimeSetupError
from wfp_reconcile.local.runtime.preflight_process import run_preflight_runtime

from .locate import locate_failure, missing_handler
from .model import STARTUP_LIMIT_MS, CheckedWorker, Finding, PreflightReport, Reason
from .payload import LoadSpec, load_spec

__all__ = ["PreflightSession", "run_preflight"]

_BATCH = 100
# workerd keeps every Worker it loaded (about 1 MB each; the Worker Loader has no
# unload), so 1,000 changed Workers held 1.1 GB: a session starts a fresh workerd once
# this many were loaded in one (a restart costs about half a second; runs of up to this
# many Workers still start one).
RECYCLE_AFTER = 250
_CONCURRENCY = 8
_BATCH_SECONDS = 60.0
_SINGLE_SECONDS = 10.0


class PreflightSession:
    """One pre-flight workerd, restarted only when a Worker hangs it."""

    def __init__(self, *, install: Path | None = None) -> None:
        self._install = install
        self._stack: contextlib.ExitStack | None = None
        self._url: str | None = None
        self._loaded = 0
        """Workers loaded in the running workerd."""
        self._http = httpx.Client(timeout=_BATCH_SECONDS, trust_env=False)

    def __enter__(self) -> PreflightSession:
        self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop()
        self._http.close()

    def _start(self) -> None:
        stack = contextlib.ExitStack()
        runtime = stack.enter_context(run_preflight_runtime(install=self._install))
        self._stack, self._url = stack, runtime.url

    def _stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack, self._url, self._loaded = None, None, 0

    def _post(self, bodies: Sequence[dict[str, Any]], concurrency: int, timeout: float) -> Any:
        if self._loaded and self._loaded + len(bodies) > RECYCLE_AFTER:
            self._stop()  # frees the Workers loaded so far
        if self._url is None:
            self._start()
        self._loaded += len(bodies)
        response = self._http.post(
            f"{self._url}/check",
            json={"workers": list(bodies), "concurrency": concurrency},
            timeout=timeout,
        )
        if response.status_code != 200:
            raise RuntimeSetupError(
                f"The pre-flight runtime answered {response.status_code}: {response.text[:500]}"
            )
        return response.json()["results"]

    def load(self, bodies: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """workerd's result for every body (see preflight-worker.mjs), in order."""
        results: list[dict[str, Any]] = []
        for start in range(0, len(bodies), _BATCH):
            batch = bodies[start : start + _BATCH]
            try:
                results += self._post(batch, _CONCURRENCY, _BATCH_SECONDS)
            except (httpx.TimeoutException, httpx.TransportError):
                self._stop()
                results += [self._load_alone(body) for body in batch]
        return results

    def _load_alone(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(self._post([body], 1, _SINGLE_SECONDS)[0])
        except (httpx.TimeoutException, httpx.TransportError):
            self._stop()
            return {"id": body["id"], "ok": False, "stage": "hang", "ms": _SINGLE_SECONDS * 1000}

    def remeasure(self, body: dict[str, Any]) -> dict[str, Any]:
        """Load one Worker with nothing else in flight: its start-up time on its own."""
        return self._load_alone(body)


def _findings(spec: LoadSpec, result: dict[str, Any], limit_ms: int) -> list[Finding]:
    if result.get("stage") == "hang":
        return [_slow(spec, None, limit_ms)]
    if not result.get("ok"):
        stage, message = str(result.get("stage")), str(result.get("message"))
        return [locate_failure(spec.worker, stage, message, spec.modules)]
    found = missing_handler(
        spec.worker,
        bool(result.get("hasDefault")),
        tuple(result.get("handlers") or ()),
        spec.modules.get(spec.worker.main_module),
    )
    return [found] if found else []


def _slow(spec: LoadSpec, ms: int | None, limit_ms: int) -> Finding:
    main = spec.modules.get(spec.worker.main_module)
    took = f"took {ms} ms" if ms is not None else f"did not finish within {_SINGLE_SECONDS:.0f} s"
    return Finding(
        kind=spec.worker.kind,
        name=spec.worker.name,
        customer=spec.worker.customer,
        path=main.path if main else spec.worker.config_path,
        line=0,
        column=0,
        reason=Reason.STARTUP_CPU,
        message=(
            f"Starting the Worker (its global scope) {took}; Cloudflare's start-up limit is "
            f"{limit_ms} ms. Move the work into the handler or precompute it."
        ),
    )


def check_workers(
    session: PreflightSession,
    repo: PlatformRepo,
    workers: Sequence[DesiredWorker],
    *,
    startup_limit_ms: int = STARTUP_LIMIT_MS,
) -> tuple[tuple[CheckedWorker, ...], tuple[Finding, ...]]:
    """Load ``workers`` in the session's workerd; what loaded and what was found."""
    specs = [load_spec(repo, w) for w in workers]
    results = session.load([s.body for s in specs])
    checked: list[CheckedWorker] = []
    findings: list[Finding] = []
    for spec, result in zip(specs, results, strict=True):
        found = _findings(spec, result, startup_limit_ms)
        ms = int(result.get("ms") or 0)
        if not found and ms > startup_limit_ms:
            ms = int(session.remeasure(spec.body).get("ms") or 0)
            if ms > startup_limit_ms:
                found = [_slow(spec, ms, startup_limit_ms)]
        checked.append(
            CheckedWorker(
                kind=spec.worker.kind,
                name=spec.worker.name,
                customer=spec.worker.customer,
                ok=not found,
                startup_ms=ms,
            )
        )
        findings += found
    return tuple(checked), tuple(findings)


def run_preflight(
    repo: PlatformRepo,
    workers: Sequence[DesiredWorker],
    *,
    unchanged: int = 0,
    baseline: str = "none",
    session: PreflightSession | None = None,
    startup_limit_ms: int = STARTUP_LIMIT_MS,
) -> PreflightReport:
    """Pre-flight ``workers`` (the desired bundles apply would upload).

    Starts a workerd for the run unless ``session`` is given (tests and long-lived callers
    share one). Nothing here talks to Cloudflare.
    """
    started = time.monotonic()
    if not workers:
        return PreflightReport((), (), unchanged, baseline, time.monotonic() - started)
    with contextlib.ExitStack() as stack:
        if session is None:
            session = stack.enter_context(PreflightSession())
        checked, findings = check_workers(session, repo, workers, startup_limit_ms=startup_limit_ms)
    return PreflightReport(checked, findings, unchanged, baseline, time.monotonic() - started)


@contextlib.contextmanager
def maybe_session(session: PreflightSession | None) -> Iterator[PreflightSession]:
    """``session``, or a new one for the block."""
    if session is not None:
        yield session
        return
    with PreflightSession() as fresh:
        yield fresh
