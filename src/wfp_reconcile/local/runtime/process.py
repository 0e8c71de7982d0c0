"""Starting and stopping the local Workers runtime (node + miniflare + workerd).

The runtime runs in its own process group so that stopping it always takes workerd along,
and its stdin is a pipe: if this Python process dies, the launcher sees EOF and exits.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

from wfp_reconcile.errors import RuntimeSetupError

from .install import ensure_installed, find_node, runtime_file

__all__ = [
    "MAX_COMPAT_DATE",
    "RUNTIME_COMPAT_DATE",
    "RunningRuntime",
    "RuntimeSettings",
    "run_runtime",
]

# workerd refuses compatibility dates newer than its build (miniflare 4.20260426.0).
MAX_COMPAT_DATE = "2026-04-26"
RUNTIME_COMPAT_DATE = "2026-04-01"

LogSink = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class RuntimeSettings:
    """What the runtime serves and where it reads code from."""

    emulator_url: str
    """Base URL of the local API emulator (serves ``/__emulator/...``)."""
    account_id: str
    dispatcher_name: str
    port: int = 8787
    """Eyeball port on 127.0.0.1; 0 picks a free one."""
    default_compat_date: str = RUNTIME_COMPAT_DATE
    direct_route: bool = False
    """Serve ``/__wfp_direct/<namespace>/<script>/`` without the dispatcher (benchmarks)."""
    emulator_secret: str = dataclasses.field(default="", repr=False)
    """The emulator's per-run internal secret (``EmulatorServer.internal_secret``); only the
    runtime's own Worker holds it, never a customer script's env."""


@dataclasses.dataclass
class RunningRuntime:
    """A started runtime; ``url`` is the dispatcher's eyeball address."""

    url: str
    port: int
    process: subprocess.Popen[str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully (SIGTERM), then kill whatever is left of the process group."""
        _stop_group(self.process, timeout)


def _stop_group(process: subprocess.Popen[str], timeout: float) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    # workerd is a child of node in the same group: make sure nothing of it survives.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _pump(stream: object, sink: Callable[[str], None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink(line.rstrip("\n"))


@contextlib.contextmanager
def run_runtime(
    settings: RuntimeSettings,
    *,
    install: Path | None = None,
    on_log: LogSink | None = None,
    startup_timeout: float = 60.0,
) -> Iterator[RunningRuntime]:
    """Run the runtime for the duration of the ``with`` block.

    ``on_log`` receives the Workers' console output line by line (from another thread).
    Raises ``RuntimeSetupError`` when Node.js is missing or the runtime does not start.
    """
    node = find_node()
    install = install or ensure_installed()
    launcher = runtime_file("launcher.mjs")
    config = {
        "installDir": str(install),
        "port": settings.port,
        "emulatorUrl": settings.emulator_url.rstrip("/"),
        "accountId": settings.account_id,
        "dispatcherName": settings.dispatcher_name,
        "defaultCompatDate": min(settings.default_compat_date, MAX_COMPAT_DATE),
        "maxCompatDate": MAX_COMPAT_DATE,
        "runtimeCompatDate": RUNTIME_COMPAT_DATE,
        "directRoute": settings.direct_route,
        "emulatorSecret": settings.emulator_secret,
    }
    try:
        process = subprocess.Popen(
            [str(node), str(launcher)],
            cwd=launcher.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "WFP_RUNTIME_CONFIG": json.dumps(config)},
            start_new_session=True,
        )
    except OSError as exc:
        raise RuntimeSetupError(f"Could not start the local runtime with {node}: {exc}.")
    try:
        running = _wait_ready(process, on_log, startup_timeout)
        yield running
    finally:
        _stop_group(process, timeout=10.0)


def _wait_ready(
    process: subprocess.Popen[str], on_log: LogSink | None, timeout: float
) -> RunningRuntime:
    lines: queue.Queue[str | None] = queue.Queue()
    errors: deque[str] = deque(maxlen=30)
    ready = threading.Event()

    def on_stdout(line: str) -> None:
        if not ready.is_set():
            lines.put(line)
        elif on_log is not None:
            on_log(line)

    def on_stderr(line: str) -> None:
        errors.append(line)
        if on_log is not None and ready.is_set():
            on_log(line)

    def pump_stdout() -> None:
        _pump(process.stdout, on_stdout)
        lines.put(None)

    threading.Thread(target=pump_stdout, name="wfp-runtime-stdout", daemon=True).start()
    threading.Thread(
        target=_pump, args=(process.stderr, on_stderr), name="wfp-runtime-stderr", daemon=True
    ).start()
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeSetupError(
                f"The local runtime did not start within {timeout:.0f} s. " + _tail(errors)
            )
        try:
            line = lines.get(timeout=min(remaining, 0.5))
        except queue.Empty:
            continue
        if line is None:
            process.wait(timeout=5)
            raise RuntimeSetupError(
                f"The local runtime exited during start-up (exit {process.returncode}). "
                + _tail(errors)
            )
        try:
            event = json.loads(line)
        except ValueError:
            if on_log is not None:
                on_log(line)
            continue
        if isinstance(event, dict) and event.get("event") == "ready":
            ready.set()
            url = str(event["url"]).rstrip("/")
            return RunningRuntime(url=url, port=int(url.rsplit(":", 1)[1]), process=process)


def _tail(errors: deque[str]) -> str:
    text = "\n".join(errors).strip()
    return f"Its output:\n{text}" if text else "It printed nothing."
