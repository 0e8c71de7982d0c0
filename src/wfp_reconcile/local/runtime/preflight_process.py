"""Starting and stopping the pre-flight runtime: one workerd (through miniflare) that loads
bundles with the Worker Loader and answers whether Cloudflare would accept them.

It shares the local runtime's installation, Node.js discovery and process handling
(process.py): its own process group, stdin as a lifeline, one JSON "ready" line.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from wfp_reconcile.errors import RuntimeSetupError

from .install import ensure_installed, find_node, runtime_file
from .process import (
    MAX_COMPAT_DATE,
    RUNTIME_COMPAT_DATE,
    RunningRuntime,
    _stop_group,
    _wait_ready,
)

__all__ = ["MAX_COMPAT_DATE", "run_preflight_runtime"]


@contextlib.contextmanager
def run_preflight_runtime(
    *, install: Path | None = None, startup_timeout: float = 60.0
) -> Iterator[RunningRuntime]:
    """Run the pre-flight runtime for the duration of the ``with`` block.

    ``url`` of the yielded runtime answers ``POST /check`` (see preflight-worker.mjs).
    Raises ``RuntimeSetupError`` when Node.js is missing or the runtime does not start.
    """
    node = find_node()
    install = install or ensure_installed()
    launcher = runtime_file("preflight-launcher.mjs")
    config = {"installDir": str(install), "runtimeCompatDate": RUNTIME_COMPAT_DATE}
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
        raise RuntimeSetupError(f"Could not start the pre-flight runtime with {node}: {exc}.")
    try:
        yield _wait_ready(process, None, startup_timeout)
    finally:
        _stop_group(process, timeout=10.0)
