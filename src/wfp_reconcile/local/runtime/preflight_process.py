"""Starting and stopping the pre-flight runtime: one workerd that loads bundles with the
Worker Loader and answers whether Cloudflare would accept them (preflight-worker.mjs).

workerd runs directly from the local runtime's pinned installation, without Node.js and
miniflare in between: pre-flight needs no simulators, and skipping them takes the start-up
from seconds to a fraction of one (docs/benchmarks.md). The listening socket is bound here
and handed to workerd (``--socket-fd``), so the address is known before it starts; workerd
gets its own process group and, on Linux, dies with this process. workerd prints the
console output of the customer code it loads, so only the last bytes of its output are
kept, in memory (``_Tail``): kept whole, a global scope that logs in a loop fills the
apply job's disk at hundreds of MB a second. Likewise its memory is capped (Linux:
``RLIMIT_DATA``, ``memory_limit_bytes``): a global scope that allocates in a loop takes
gigabytes a second, and would otherwise take the CI machine with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

import httpx

from wfp_reconcile.config.envvars import is_credential_name
from wfp_reconcile.errors import RuntimeSetupError

from .install import ensure_installed, runtime_file

__all__ = ["PreflightRuntime", "find_workerd", "run_preflight_runtime"]

logger = logging.getLogger(__name__)

_FILES = ("preflight-config.capnp", "preflight-worker.mjs")

MEMORY_ENV = "WFP_PREFLIGHT_MEMORY_MB"
DEFAULT_MEMORY_MB = 4096
_MIN_MEMORY_MB = 1024


def memory_limit_bytes(env: Mapping[str, str]) -> int:
    """The pre-flight workerd's memory cap: ``WFP_PREFLIGHT_MEMORY_MB`` or 4 GiB.

    Cloudflare gives one isolate 128 MB; workerd keeps up to ``RECYCLE_AFTER`` (250)
    Workers loaded at about 1 MB each, so 4 GiB leaves room for many Workers with large
    global state and still stops one that allocates without bound. An allocation over
    the cap fails inside the customer's code (``RangeError: Array buffer allocation
    failed``), which pre-flight reports at the line that made it.
    """
    raw = env.get(MEMORY_ENV)
    if raw is None or raw == "":
        return DEFAULT_MEMORY_MB * 1024 * 1024
    if not raw.isdigit() or int(raw) < _MIN_MEMORY_MB:
        raise RuntimeSetupError(
            f"{MEMORY_ENV} must be a whole number of megabytes, at least {_MIN_MEMORY_MB} "
            f"(workerd itself maps about 550 MB before it loads a Worker); got {raw!r}."
        )
    return int(raw) * 1024 * 1024


def _cap_memory(pid: int, limit: int) -> None:
    # RLIMIT_DATA counts private writable memory, array buffers and the V8 heap alike
    # (Linux 4.7 and later); prlimit exists only on Linux: elsewhere workerd runs uncapped.
    if hasattr(resource, "prlimit"):
        try:
            resource.prlimit(pid, resource.RLIMIT_DATA, (limit, limit))
        except (OSError, ValueError) as exc:
            logger.warning("pre-flight's workerd runs without a memory cap: %s", exc)


@dataclasses.dataclass
class PreflightRuntime:
    """A started pre-flight workerd; ``url`` answers ``POST /check``."""

    url: str
    process: subprocess.Popen[bytes]


def find_workerd(install: Path) -> Path:
    """The workerd binary of the pinned installation (an optional npm dependency)."""
    found = sorted((install / "node_modules" / "@cloudflare").glob("workerd-*/bin/workerd"))
    if not found:
        raise RuntimeSetupError(
            f"No workerd binary under {install}/node_modules/@cloudflare; reinstall the local "
            "runtime (scripts/install-runtime) on a platform workerd supports."
        )
    return found[0]


def _die_with_parent() -> None:
    # Linux: SIGKILL workerd when the process that started it exits, however it exits.
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


class _Tail:
    """The last ``limit`` bytes a process printed, read as it prints them, so that it
    never blocks on a full pipe and its output never outgrows ``limit``."""

    def __init__(self, stream: IO[bytes], limit: int = 64 * 1024) -> None:
        self._kept = bytearray()
        self._limit = limit
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._drain, args=(stream,), name="workerd-output", daemon=True
        )
        self._thread.start()

    def _drain(self, stream: IO[bytes]) -> None:
        with stream:
            while chunk := os.read(stream.fileno(), 65536):
                with self._lock:
                    self._kept += chunk
                    if len(self._kept) > 2 * self._limit:
                        del self._kept[: -self._limit]

    def text(self, wait: float = 0.0) -> str:
        """What was kept, once the process's last output was read (up to ``wait`` s)."""
        self._thread.join(wait)
        with self._lock:
            return bytes(self._kept[-self._limit :]).decode(errors="replace")


def _wait_ready(process: subprocess.Popen[bytes], url: str, timeout: float, log: _Tail) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while True:
            if process.poll() is not None:
                tail = "\n".join(deque(log.text(wait=1.0).splitlines(), maxlen=20))
                raise RuntimeSetupError(
                    f"The pre-flight runtime (workerd) exited during start-up "
                    f"(exit {process.returncode}). Its output:\n{tail}"
                )
            try:
                if client.get(f"{url}/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeSetupError(
                    f"The pre-flight runtime did not start within {timeout:.0f} s."
                )
            time.sleep(0.02)


@contextlib.contextmanager
def run_preflight_runtime(
    *, install: Path | None = None, startup_timeout: float = 60.0
) -> Iterator[PreflightRuntime]:
    """Run the pre-flight workerd for the duration of the ``with`` block.

    Raises ``RuntimeSetupError`` when the runtime is not installed or does not start, or
    when ``WFP_PREFLIGHT_MEMORY_MB`` is not a number of megabytes.
    """
    limit = memory_limit_bytes(os.environ)
    workerd = find_workerd(install or ensure_installed())
    with tempfile.TemporaryDirectory(prefix="wfp-preflight-") as tmp:
        work = Path(tmp)
        for name in _FILES:
            shutil.copyfile(runtime_file(name), work / name)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            sock.listen(128)
            url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            process = subprocess.Popen(
                [
                    str(workerd),
                    "serve",
                    "--experimental",  # the Worker Loader binding is experimental
                    _FILES[0],
                    "--socket-fd",
                    f"http={sock.fileno()}",
                ],
                cwd=work,
                # It loads customer code, also inside apply, whose environment holds
                # the API token: workerd gets none of the credentials.
                env={k: v for k, v in os.environ.items() if not is_credential_name(k)},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(sock.fileno(),),
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 -- only a prctl call
            )
        except OSError as exc:
            sock.close()
            raise RuntimeSetupError(f"Could not start the pre-flight runtime ({workerd}): {exc}.")
        sock.close()  # workerd holds its own copy of the listening socket
        # Before any customer code is loaded: that comes with the first /check request.
        _cap_memory(process.pid, limit)
        assert process.stdout is not None
        output = _Tail(process.stdout)
        try:
            _wait_ready(process, url, startup_timeout, output)
            yield PreflightRuntime(url=url, process=process)
        finally:
            _stop(process)
