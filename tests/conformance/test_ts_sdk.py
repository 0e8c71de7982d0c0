"""The official TypeScript SDK (``cloudflare`` 7.x, pinned in package.json) against the
emulator, one Node process for all calls (ts_sdk_client.mjs)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from .conftest import ACCOUNT, read_bundle

JS = "application/javascript+module"
NS = f"/accounts/{ACCOUNT}/workers/dispatch/namespaces"


def _upload(api: httpx.Client, path: str, metadata: dict[str, object], code: bytes) -> None:
    files = [
        ("metadata", ("metadata.json", json.dumps(metadata), "application/json")),
        ("index.mjs", ("index.mjs", code, JS)),
    ]
    api.put(path, files=files).raise_for_status()


def test_ts_sdk_calls(emulator, run_node):
    source = (Path(__file__).parent / "ts_sdk_client.mjs").read_text()
    with httpx.Client(
        base_url=emulator.api_base, headers={"Authorization": f"Bearer {emulator.api_token}"}
    ) as api:
        for i in range(5):
            api.post(f"/accounts/{ACCOUNT}/d1/database", json={"name": f"ts-db-{i}"})
        _upload(api, f"/accounts/{ACCOUNT}/workers/scripts/platform-worker",
                {"main_module": "index.mjs"}, b"export default {} // platform")  # fmt: skip

        api.post(NS, json={"name": "tenants"}).raise_for_status()
        _upload(api, f"{NS}/tenants/scripts/seeded",
                {"main_module": "index.mjs", "tags": ["acme"],
                 "bindings": [{"type": "plain_text", "name": "V", "text": "1"}]},
                b"export default {} // seeded")  # fmt: skip
        out = run_node(source)

    assert out["namespace"] == "extra" and out["namespace_get"] == "tenants"
    assert sorted(out["namespaces"]) == ["extra", "tenants"]
    # Rejected like Cloudflare rejects it: a 400 with a SyntaxError (code 10021).
    assert out["upload_7x"]["status"] == 400
    assert out["upload_7x"]["errors"][0]["code"] == 10021
    assert "SyntaxError" in out["upload_7x"]["errors"][0]["message"]
    assert out["get_absent"]["status"] == 404
    assert out["get_absent"]["errors"][0]["code"] == 10092
    assert out["get"] == {"id": "seeded", "namespace": "tenants", "tags": ["acme"]}
    assert {b["name"] for b in out["settings"]["bindings"]} == {"V"}
    assert "placement" not in out["settings"]
    assert sorted(out["tags_put"]) == ["acme", "plan-pro"] and sorted(out["tags"]) == sorted(
        out["tags_put"]
    )
    assert out["secret_put"] == {"name": "TS_SECRET", "type": "secret_text"}
    assert out["secrets"] == [{"name": "TS_SECRET", "type": "secret_text"}]
    assert out["secret"] == {"name": "TS_SECRET", "type": "secret_text"}
    assert out["settings_edit_7x"]["status"] == 400  # the 7.x flattened settings[...] parts
    assert out["worker_content"] == "export default {} // platform"
    assert out["worker_secret"]["name"] == "W_SECRET"
    assert out["d1"] == [f"ts-db-{i}" for i in range(5)]  # auto-pagination ends
    assert out["d1_query"]["results"] == [{"answer": 42}]
    assert {"served_by_colo", "served_by_primary", "served_by_region"} <= set(
        out["d1_query"]["meta_keys"]
    )
    seeded = read_bundle(emulator, "tenants", "seeded")
    assert {"type": "secret_text", "name": "TS_SECRET", "text": "from-ts"} in seeded["bindings"]
    assert sorted(seeded["tags"]) == ["acme", "plan-pro"]
    assert all("broken" not in r.path or r.status == 400 for r in emulator.requests())
    assert read_bundle(emulator, None, "platform-worker")["bindings"] == [
        {"type": "secret_text", "name": "W_SECRET", "text": "w"}
    ]
