"""Runs store_records.test.mjs (the store mode's customer API on odd records) in Node."""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest

NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed (CI installs it)")
def test_the_customer_api_fails_closed_on_records_it_cannot_vouch_for() -> None:
    assert NODE is not None
    core = resources.files("wfp_reconcile.dispatcher").joinpath("template", "dispatcher-core.mjs")
    result = subprocess.run(
        [NODE, "--test", str(Path(__file__).with_name("store_records.test.mjs"))],
        env={**os.environ, "WFP_DISPATCHER_CORE": str(core)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
