from __future__ import annotations

from wfp_reconcile.bundle import Module, ScriptUpload


def test_emulator_client_round_trips_a_script(emulator, emulator_client):
    emulator_client.ensure_namespace("ns")
    upload = ScriptUpload(
        {"main_module": "index.mjs", "tags": ["managed"]},
        (Module("index.mjs", b"export default {}", "application/javascript+module"),),
    )
    info = emulator_client.upload_script("ns", "hello", upload)
    listed = list(emulator_client.list_scripts("ns", tags=[("managed", True)]))
    assert [s.id for s in listed] == ["hello"]
    assert listed[0].etag == info.etag
    assert emulator.count("upload_script") == 1
