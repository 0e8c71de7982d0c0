"""Loading bundles in one workerd for the whole run, in parallel, and turning workerd's
answers into findings.

One session starts workerd once (``PreflightSession``) and loads every Worker through the
Worker Loader with a few loads in flight. workerd runs isolates on one thread, so a
Worker whose start-up looks slow under that load is measured again on its own before it
is reported. Open-source workerd enforces no CPU limit: a global scope that never
finishes would hold the whole process, so a batch that does not answer in time restarts
workerd and its Workers are loaded one at a time to find the one that hangs; after a few
hangs of one customer its other Workers are not loaded, so one customer cannot make every
apply wait long. workerd's answers carry what customer code computed: they are checked
like any untrusted input (``_checked``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.desired import DesiredWorker
from wfp_reconcile.errors import RuntimeSetupError
from wfp_reconcile.local.runtime.preflight_process import run_preflight_runtime

from .locate import locate_failure, missing_handler
from .model import (
    SIZE_LIMIT_BYTES,
    STARTUP_LIMIT_MS,
    CheckedWorker,
    Finding,
    PreflightReport,
    Reason,
)
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
_HANGS_PER_CUSTOMER = 2
"""A customer's Workers that may hang pre-flight (each costs a wait) before its others
are skipped without being loaded."""


class PreflightSession:
    """One pre-flight workerd, restarted only when a Worker hangs it."""

    def __init__(self, *, install: Path | None = None) -> None:
        self._install = install
        self._stack: contextlib.ExitStack | None = None
        self._url: str | None = None
        self._pid: int | None = None
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
        self._stack, self._url, self._pid = stack, runtime.url, runtime.process.pid

    def _stop(self, *, hung: bool = False) -> None:
        if hung and self._pid is not None:
            # A spinning isolate holds the thread that would handle SIGTERM: the polite
            # stop would only wait 5 s more for every hang.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._pid, signal.SIGKILL)
        if self._stack is not None:
            self._stack.close()
        self._stack, self._url, self._pid, self._loaded = None, None, None, 0

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

    def load(
        self, bodies: Sequence[dict[str, Any]], owners: Sequence[str | None] | None = None
    ) -> list[dict[str, Any]]:
        """workerd's result for every body (see preflight-worker.mjs), in order.

        ``owners`` names each body's customer: once ``_HANGS_PER_CUSTOMER`` of a customer's
        Workers hung, its others are not loaded (stage ``not_loaded``), so the waits one
        customer's code can cost every apply stay bounded.
        """
        owner = list(owners) if owners is not None else [None] * len(bodies)
        hangs: Counter[str] = Counter()

        def given_up(i: int) -> bool:
            who = owner[i]
            return who is not None and hangs[who] >= _HANGS_PER_CUSTOMER

        results: list[dict[str, Any]] = []
        for start in range(0, len(bodies), _BATCH):
            batch = [i for i in range(start, min(start + _BATCH, len(bodies))) if not given_up(i)]
            found: dict[int, dict[str, Any]] = {}
            try:
                if batch:
                    answers = self._post([bodies[i] for i in batch], _CONCURRENCY, _BATCH_SECONDS)
                    found = dict(zip(batch, answers, strict=True))
            except (httpx.TimeoutException, httpx.TransportError):
                self._stop(hung=True)
                for i in batch:
                    if given_up(i):
                        continue
                    found[i] = self._load_alone(bodies[i])
                    who = owner[i]
                    if found[i].get("stage") == "hang" and who is not None:
                        hangs[who] += 1
            for i in range(start, min(start + _BATCH, len(bodies))):
                results.append(found.get(i) or _not_loaded(bodies[i]))
        return results

    def _load_alone(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(self._post([body], 1, _SINGLE_SECONDS)[0])
        except (httpx.TimeoutException, httpx.TransportError):
            self._stop(hung=True)
            return {"id": body["id"], "ok": False, "stage": "hang", "ms": _SINGLE_SECONDS * 1000}

    def remeasure(self, body: dict[str, Any]) -> dict[str, Any]:
        """Load one Worker with nothing else in flight: its start-up time on its own."""
        return self._load_alone(body)


def _not_loaded(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": body["id"], "ok": False, "stage": "not_loaded", "message": "", "ms": 0}


# The handler names preflight-worker.mjs probes for (HANDLERS there).
_HANDLERS = frozenset(("fetch", "tail", "trace", "scheduled", "queue", "email", "alarm", "test"))


def _checked(raw: object) -> dict[str, Any] | None:
    """One Worker's result with every field of its type, or ``None``.

    The probe's part (``hasDefault``, ``handlers``) is computed in the customer's isolate,
    after the customer's global scope ran, which can replace the built-ins the probe uses:
    it is untrusted data, and one Worker's odd answer must not stop the others' apply.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("ok"), bool):
        return None
    ms = raw.get("ms", 0)
    if isinstance(ms, bool) or not isinstance(ms, int | float) or not 0 <= ms < 1e9:
        return None
    if not raw["ok"]:
        stage, message = raw.get("stage"), raw.get("message", "")
        if not isinstance(stage, str) or not isinstance(message, str):
            return None
        return {"ok": False, "stage": stage, "message": message, "ms": int(ms)}
    handlers = raw.get("handlers", [])
    has_default = raw.get("hasDefault")
    if not isinstance(has_default, bool) or not isinstance(handlers, list):
        return None
    if not all(isinstance(h, str) and h in _HANDLERS for h in handlers):
        return None
    return {"ok": True, "ms": int(ms), "hasDefault": has_default, "handlers": handlers}


def _whole_worker(spec: LoadSpec, reason: Reason, message: str, *, at_main: bool = True) -> Finding:
    """A finding about the Worker as a whole: at its main module (or, ``at_main=False``
    or without one, the YAML that declares it), with no line."""
    main = spec.modules.get(spec.worker.main_module) if at_main else None
    return Finding(
        kind=spec.worker.kind,
        name=spec.worker.name,
        customer=spec.worker.customer,
        path=main.path if main else spec.worker.config_path,
        line=0,
        column=0,
        reason=reason,
        message=message,
    )


def _unreadable(spec: LoadSpec) -> Finding:
    return _whole_worker(
        spec,
        Reason.STARTUP,
        "Pre-flight could not read what loading the Worker answered: its global scope "
        "changes built-ins (Array.prototype, say) that the check relies on.",
    )


def _findings(spec: LoadSpec, raw: dict[str, Any], limit_ms: int) -> list[Finding]:
    # "hang" and "not_loaded" are this module's own results (PreflightSession.load).
    stage = raw.get("stage") if isinstance(raw, dict) else None
    if stage == "hang":
        return [_slow(spec, None, limit_ms)]
    if stage == "not_loaded":
        return [_gave_up(spec)]
    result = _checked(raw)
    if result is None:
        return [_unreadable(spec)]
    if not result["ok"]:
        return [locate_failure(spec.worker, result["stage"], result["message"], spec.modules)]
    found = missing_handler(
        spec.worker,
        result["hasDefault"],
        tuple(result["handlers"]),
        spec.modules.get(spec.worker.main_module),
    )
    return [found] if found else []


def _gave_up(spec: LoadSpec) -> Finding:
    return _whole_worker(
        spec,
        Reason.STARTUP_CPU,
        f"Not loaded: {_HANGS_PER_CUSTOMER} other Workers of this customer did not finish "
        f"starting within {_SINGLE_SECONDS:.0f} s, so pre-flight stopped loading its "
        "Workers; fix those first.",
    )


def _slow(spec: LoadSpec, ms: int | None, limit_ms: int) -> Finding:
    took = f"took {ms} ms" if ms is not None else f"did not finish within {_SINGLE_SECONDS:.0f} s"
    return _whole_worker(
        spec,
        Reason.STARTUP_CPU,
        f"Starting the Worker (its global scope) {took}; Cloudflare's start-up limit is "
        f"{limit_ms} ms. Move the work into the handler or precompute it.",
    )


def _too_large(spec: LoadSpec, size: int, limit: int) -> Finding:
    return _whole_worker(
        spec,
        Reason.SIZE,
        f"The Worker's modules are {size} bytes together; Cloudflare refuses a Worker "
        f"over {limit} bytes (10027). Make the bundle smaller"
        + (
            " or keep the routing data in Workers KV (dispatcher.routing_data: store)."
            if spec.worker.kind == "dispatcher"
            else "."
        ),
        at_main=False,
    )


def _ms(raw: dict[str, Any]) -> int:
    result = _checked(raw)
    return 0 if result is None else int(result["ms"])


def check_workers(
    session: PreflightSession,
    repo: PlatformRepo,
    workers: Sequence[DesiredWorker],
    *,
    startup_limit_ms: int = STARTUP_LIMIT_MS,
    size_limit: int = SIZE_LIMIT_BYTES,
) -> tuple[tuple[CheckedWorker, ...], tuple[Finding, ...]]:
    """Load ``workers`` in the session's workerd; what loaded and what was found."""
    checked: list[CheckedWorker] = []
    findings: list[Finding] = []
    specs = []
    for worker in workers:
        spec = load_spec(repo, worker)
        size = sum(len(m.content) for m in worker.upload.modules)
        if size <= size_limit:
            specs.append(spec)
            continue
        # Cloudflare refuses it before running anything: so does pre-flight (nor is a
        # bundle this large worth loading).
        findings.append(_too_large(spec, size, size_limit))
        checked.append(
            CheckedWorker(
                kind=spec.worker.kind,
                name=spec.worker.name,
                customer=spec.worker.customer,
                ok=False,
                startup_ms=0,
            )
        )
    results = session.load([s.body for s in specs], [s.worker.customer for s in specs])
    for spec, result in zip(specs, results, strict=True):
        found = _findings(spec, result, startup_limit_ms)
        ms = _ms(result)
        if not found and ms > startup_limit_ms:
            ms = _ms(session.remeasure(spec.body))
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
    size_limit: int = SIZE_LIMIT_BYTES,
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
        checked, findings = check_workers(
            session, repo, workers, startup_limit_ms=startup_limit_ms, size_limit=size_limit
        )
    return PreflightReport(checked, findings, unchanged, baseline, time.monotonic() - started)


@contextlib.contextmanager
def maybe_session(session: PreflightSession | None) -> Iterator[PreflightSession]:
    """``session``, or a new one for the block."""
    if session is not None:
        yield session
        return
    with PreflightSession() as fresh:
        yield fresh
