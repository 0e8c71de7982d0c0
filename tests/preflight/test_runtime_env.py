"""The pre-flight workerd loads customer code, inside apply too: it gets no credentials."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from wfp_reconcile.local.runtime.preflight_process import run_preflight_runtime

from .conftest import requires_node

pytestmark = [
    requires_node,
    pytest.mark.workerd,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]


def test_workerd_does_not_inherit_the_api_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "token-value-for-the-test")
    monkeypatch.setenv("WFP_AGE_IDENTITY", "AGE-SECRET-KEY-FOR-THE-TEST")
    monkeypatch.setenv("WFP_TEST_HARMLESS", "kept")
    with run_preflight_runtime() as runtime:
        raw = Path(f"/proc/{runtime.process.pid}/environ").read_bytes()
    names = {entry.split(b"=", 1)[0].decode() for entry in raw.split(b"\0") if entry}
    assert "WFP_TEST_HARMLESS" in names
    assert "CLOUDFLARE_API_TOKEN" not in names
    assert "WFP_AGE_IDENTITY" not in names
