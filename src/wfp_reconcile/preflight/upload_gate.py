"""The local API emulator's upload check: reject what Cloudflare would reject on load.

Cloudflare loads every upload and answers ``400`` with code ``10021`` and the runtime's
message when the Worker does not start (cloudflare/workers-sdk#6657,
cloudflare/wrangler-legacy#1952). When the local runtime is installed, the emulator does
the same through one pre-flight workerd per process, started on the first upload and
stopped when the process exits. ``WFP_EMULATOR_PREFLIGHT=0`` turns it off.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import json
import os
import queue
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any, Protocol

from wfp_reconcile.errors import RuntimeSetupError
from wfp_reconcile.local.runtime.install import _is_installed, install_dir
from wfp_reconcile.local.runtime.process import MAX_COMPAT_DATE

from .runner import PreflightSession

__all__ = ["gate_enabled", "preflight_upload_check", "upload_failure", "warm_up"]


class UploadModule(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def content(self) -> bytes: ...


_lock = threading.Lock()
_session: PreflightSession | None = None
_disabled = False
_queue: queue.SimpleQueue[tuple[dict[str, Any], Future[dict[str, Any]]]] = queue.SimpleQueue()
_batcher: threading.Thread | None = None
_known: dict[str, dict[str, Any]] = {}
"""Results by the upload's content hash: re-uploading the same bundle is not loaded again."""
_MAX_KNOWN = 20_000
_MAX_BATCH = 100


def gate_enabled(env: Mapping[str, str] | None = None) -> bool:
    """On unless turned off, when the pinned runtime (workerd) is installed."""
    env = os.environ if env is None else env
    if _disabled or env.get("WFP_EMULATOR_PREFLIGHT", "1") == "0":
        return False
    return _is_installed(install_dir())


def _shared_session() -> PreflightSession | None:
    global _session, _disabled
    with _lock:
        if _session is None and not _disabled:
            try:
                _session = PreflightSession().__enter__()
            except RuntimeSetupError:
                # The runtime is present but does not start here: behave as without it.
                _disabled = True
                return None
            atexit.register(_close)
        return _session


def warm_up() -> None:
    """Start the shared workerd in the background (the emulator calls this when it is
    created), so the first upload does not wait for the whole start-up."""
    if gate_enabled() and _session is None:
        threading.Thread(target=_shared_session, name="wfp-upload-gate", daemon=True).start()


def _check(session: PreflightSession, body: dict[str, Any]) -> dict[str, Any]:
    """Concurrent uploads are loaded together, in one batch (workerd loads a few at a time)."""
    global _batcher
    future: Future[dict[str, Any]] = Future()
    _queue.put((body, future))
    with _lock:
        if _batcher is None:
            _batcher = threading.Thread(
                target=_batches, args=(session,), name="wfp-upload-gate-batches", daemon=True
            )
            _batcher.start()
    return future.result()


def _batches(session: PreflightSession) -> None:
    while True:
        items = [_queue.get()]
        while len(items) < _MAX_BATCH:
            try:
                items.append(_queue.get_nowait())
            except queue.Empty:
                break
        try:
            results = session.load([body for body, _ in items])
        except Exception as exc:  # the runtime broke: every waiting upload hears why
            for _, future in items:
                future.set_exception(exc)
            continue
        for (_, future), result in zip(items, results, strict=True):
            future.set_result(result)


def _close() -> None:
    global _session
    with _lock:
        if _session is not None:
            _session.close()
            _session = None


def upload_failure(metadata: Mapping[str, Any], modules: Sequence[UploadModule]) -> str | None:
    """workerd's message when this upload would not start on Cloudflare, else ``None``."""
    if not gate_enabled() or "main_module" not in metadata:
        # A service-worker script (body_part) is not an ES module bundle: the Worker
        # Loader cannot load it, so it is not checked.
        return None
    session = _shared_session()
    if session is None:
        return None
    date = str(metadata.get("compatibility_date") or MAX_COMPAT_DATE)
    body = {
        "id": "upload",
        "main_module": metadata["main_module"],
        "compatibility_date": min(date, MAX_COMPAT_DATE),
        "compatibility_flags": list(metadata.get("compatibility_flags", [])),
        "bindings": list(metadata.get("bindings", [])),
        "modules": [
            {
                "name": m.name,
                "content_type": m.content_type,
                "content_b64": base64.b64encode(m.content).decode("ascii"),
            }
            for m in modules
        ],
    }
    key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    result = _known.get(key)
    if result is None:
        result = _check(session, body)
        if len(_known) < _MAX_KNOWN:
            _known[key] = result
    if result.get("ok"):
        return None
    if result.get("stage") == "hang":
        return "Script startup exceeded CPU time limit."
    return str(result.get("message") or "The Worker failed to start.")


def preflight_upload_check(account: str, namespace: str, name: str, upload: Any) -> None:
    """The emulator's upload check (``EmulatorState.upload_checks``): refuse, as Cloudflare
    does, an upload that does not start (400, code 10021, workerd's message)."""
    del account, namespace, name  # what Cloudflare checks depends on the bundle only
    failure = upload_failure(upload.metadata, upload.modules)
    if failure is not None:
        from wfp_reconcile.local.emulator.validation import ApiProblem

        raise ApiProblem(400, 10021, failure)
