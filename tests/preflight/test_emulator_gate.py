"""The local API emulator refuses uploads Cloudflare would refuse on load: 400, code 10021,
workerd's message (when the local runtime is installed)."""

from __future__ import annotations

import pytest

from wfp_reconcile.bundle import Module, ScriptUpload
from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.errors import ValidationError
from wfp_reconcile.preflight.upload_gate import gate_enabled

from .conftest import HELLO, requires_node

pytestmark = [requires_node, pytest.mark.workerd]


def upload(source: str) -> ScriptUpload:
    return ScriptUpload(
        metadata={"main_module": "index.mjs", "compatibility_date": "2024-09-23"},
        modules=(Module("index.mjs", source.encode(), "application/javascript+module"),),
    )


def test_a_broken_upload_is_answered_like_cloudflare(emulator_client: CloudflareClient) -> None:
    assert gate_enabled(), "the runtime is installed by scripts/bootstrap"
    emulator_client.ensure_namespace("gate")
    emulator_client.upload_script("gate", "fine", upload(HELLO))

    with pytest.raises(ValidationError) as caught:
        emulator_client.upload_script("gate", "broken", upload("export default {\n  oops\n};\n"))
    assert caught.value.status == 400
    assert caught.value.codes == (10021,)
    assert "Uncaught ReferenceError: oops is not defined" in caught.value.message
    assert "index.mjs:2:3" in caught.value.message
    # Nothing was stored: the last good version (here: none) stays.
    names = {s.id for s in emulator_client.list_scripts("gate")}
    assert names == {"fine"}


def test_the_gate_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WFP_EMULATOR_PREFLIGHT", "0")
    assert not gate_enabled()
