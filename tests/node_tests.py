"""Runs a Node test-runner file against the packaged dispatcher core, for pytest wrappers."""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

NODE = shutil.which("node")


def run_node_tests(test_file: Path) -> None:
    """Run ``test_file`` with ``node --test`` (WFP_DISPATCHER_CORE names the core module)
    and fail with its output unless every test passed."""
    assert NODE is not None
    core = resources.files("wfp_reconcile.dispatcher").joinpath("template", "dispatcher-core.mjs")
    result = subprocess.run(
        [NODE, "--test", str(test_file)],
        env={**os.environ, "WFP_DISPATCHER_CORE": str(core)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
