"""Runs the dispatcher's JavaScript unit tests (Node's test runner) as one pytest test."""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest

NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed (CI installs it)")
def test_dispatcher_error_mapping_routing_and_customer_api_pass_node_tests() -> None:
    assert NODE is not None
    core = resources.files("wfp_reconcile.dispatcher").joinpath("template", "dispatcher-core.mjs")
    test_file = Path(__file__).with_name("dispatcher_core.test.mjs")
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
