"""A local Cloudflare API emulator: dispatch namespaces, scripts, tags, Workers and D1.

It speaks the same endpoints, envelope, error codes, tag filters and pagination as
Cloudflare, persists in SQLite, and can inject latency, 429s, 5xx and dropped
connections. See ``docs/emulator.md``.
"""

from __future__ import annotations

from .app import create_app
from .faults import FaultConfig
from .server import EmulatorServer, run_emulator
from .state import EmulatorState, RequestRecord

__all__ = [
    "EmulatorServer",
    "EmulatorState",
    "FaultConfig",
    "RequestRecord",
    "create_app",
    "run_emulator",
]
