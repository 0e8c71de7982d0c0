"""``dev`` on the example repository: the customer secret, encrypted to the public demo
recipient, is decrypted with the demo identity and read as env.SIGNING_KEY in workerd,
through the dispatcher; removing it from git removes it from the script's env."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from wfp_reconcile.config.scaffold import write_files
from wfp_reconcile.local.runtime.devstack import DevEvent, DevSettings, DevStack
from wfp_reconcile.secrets.edit import plan_rm

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "0123456789abcdef0123456789abcdef"  # the example default
DEMO_VALUE = "demo-signing-key"  # the example's value, documented as public
TOKEN = {"X-Customer-Token": "d4e5f6"}  # the example's demo token for customer advanced


@pytest.fixture
def stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[DevStack, list[DevEvent]]]:
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    monkeypatch.delenv("WFP_AGE_IDENTITY", raising=False)
    monkeypatch.delenv("WFP_AGE_IDENTITY_FILE", raising=False)
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / "platform.yaml", repo)
    for name in ("platform", "customers"):
        shutil.copytree(ROOT / name, repo / name)
    events: list[DevEvent] = []
    settings = DevSettings(repo_dir=repo, port=0, state_dir=tmp_path / "state", env={})
    with DevStack(settings, on_event=events.append) as dev:
        yield dev, events


@pytest.mark.workerd
def test_example_secret_reaches_customer_code_through_the_dispatcher(
    stack: tuple[DevStack, list[DevEvent]],
) -> None:
    dev, events = stack
    assert dev.runtime is not None
    with httpx.Client(base_url=dev.runtime.url, timeout=30) as http:
        body = http.get("/advanced-api/?name=Ada", headers=TOKEN).json()
        expected = hmac.new(DEMO_VALUE.encode(), body["message"].encode(), hashlib.sha256)
        assert body["signature"] == expected.hexdigest()
        assert DEMO_VALUE not in str(body)

        write_files(
            (plan_rm(dev.settings.repo_dir, "advanced", "SIGNING_KEY", script="advanced-api"),)
        )
        assert dev.reload()
        assert dev.emulator is not None
        row = dev.emulator.state.store.get_script(ACCOUNT, "wfp-example", "advanced-api")
        assert row is not None
        assert not [b for b in row.metadata["bindings"] if b["type"] == "secret_text"]
        deadline = time.monotonic() + 10  # the runtime notices new uploads by polling
        while time.monotonic() < deadline:
            signature = http.get("/advanced-api/?name=Ada", headers=TOKEN).json()["signature"]
            if signature is None:
                break
            time.sleep(0.1)
        assert signature is None
    assert all(DEMO_VALUE not in e.message + "".join(e.details) for e in events)
