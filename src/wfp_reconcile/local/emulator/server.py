"""Running the emulator: in a background thread (tests, ``wfp-reconcile dev``) or in front."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from wfp_reconcile.errors import RuntimeSetupError

from .app import create_app
from .faults import FaultConfig
from .state import EmulatorState, RequestRecord

__all__ = ["EmulatorServer", "bind_socket", "run_emulator"]

_START_TIMEOUT = 10.0


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free port. Binding first avoids a port race."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio only sets TCP_NODELAY on accepted sockets whose proto is
    # IPPROTO_TCP, and without it every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise RuntimeSetupError(
            f"Cannot listen on {host}:{port} ({exc.strerror}); choose another port with --port."
        )
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class EmulatorServer:
    """A running emulator: where it listens, its token, and handles on faults and the log."""

    def __init__(self, url: str, api_token: str, state: EmulatorState) -> None:
        self.url = url
        self.api_base = url + "/client/v4"
        self.api_token = api_token
        self._state = state

    def __repr__(self) -> str:
        return f"EmulatorServer(url={self.url!r})"

    @property
    def internal_secret(self) -> str:
        """The per-run secret ``/__emulator`` callers send (give it to the runtime)."""
        return self._state.internal_secret

    @property
    def internal_headers(self) -> dict[str, str]:
        """Headers that open ``/__emulator`` (for tests and tools)."""
        return {"X-Wfp-Emulator-Secret": self._state.internal_secret}

    @property
    def state(self) -> EmulatorState:
        """The emulator's state (store, D1, faults, log), for white-box assertions."""
        return self._state

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the injected faults from now on."""
        self._state.faults.configure(faults)

    def requests(self, kind: str | None = None) -> list[RequestRecord]:
        """The requests answered so far, optionally only those of one kind."""
        return self._state.log.records(kind)

    def count(self, kind: str | None = None) -> int:
        """How many requests of ``kind`` (all kinds when ``None``) were answered."""
        return self._state.log.count(kind)

    def reset_requests(self) -> None:
        """Forget the request log and counters."""
        self._state.log.reset()


@contextlib.contextmanager
def run_emulator(
    state_dir: Path | None,
    *,
    api_token: str,
    port: int = 0,
    faults: FaultConfig | None = None,
    host: str = "127.0.0.1",
    log_level: str = "warning",
) -> Iterator[EmulatorServer]:
    """Serve the emulator on ``host:port`` in a background thread until the block exits.

    Args:
        state_dir: SQLite state directory; ``None`` keeps everything in memory.
        api_token: the bearer token the emulated API accepts.
        port: 0 picks a free port (see ``EmulatorServer.url``).
        faults: faults to inject from the start.

    Raises:
        RuntimeSetupError: the port is taken or the server did not start.
    """
    app = create_app(state_dir, api_token=api_token, faults=faults)
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="wfp-emulator", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeSetupError("The local Cloudflare API emulator did not start.")
        time.sleep(0.01)
    shown_host = f"[{host}]" if ":" in host else host
    try:
        yield EmulatorServer(f"http://{shown_host}:{bound_port}", api_token, app.state.emulator)
    finally:
        server.should_exit = True
        thread.join(timeout=_START_TIMEOUT)
        sock.close()
