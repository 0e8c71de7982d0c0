"""routing_data: store end to end: apply to the emulator, serve through the generated
dispatcher in real workerd, whose KV binding reads the emulator's KV namespace."""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Iterator

import httpx
import pytest

from wfp_reconcile.local.emulator import EmulatorServer
from wfp_reconcile.local.runtime import RuntimeSettings, run_runtime

from .conftest import ACCOUNT, PlatformRepoBuilder

pytestmark = [
    pytest.mark.workerd,
    pytest.mark.list_modes("flat"),
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
]

KV_ID = "7a1c" * 8
DISPATCHER = "test-dispatcher"
TOKEN = "acme-secret-token"

EGRESS = b"""
export default {
  async fetch(request, env) {
    return Response.json({ via: "egress", customer_id: env.customer_id ?? null,
                           allow_hosts: env.allow_hosts ?? null, url: request.url });
  },
};
"""
FETCHER = b"""
export default {
  async fetch() {
    const res = await fetch("http://upstream.example/data");
    return new Response(await res.text(), { status: res.status });
  },
};
"""


@pytest.fixture
def store_repo(platform_repo: PlatformRepoBuilder, cf: EmulatorServer) -> PlatformRepoBuilder:
    cf.state.store.create_kv(ACCOUNT, "routes", KV_ID)
    (platform_repo.root / "platform" / "outbound" / "egress.mjs").write_bytes(EGRESS)
    platform_repo.platform["dispatcher"] = {
        "name": DISPATCHER,
        "routing_data": "store",
        "routing_store": {"kv_namespace_id": KV_ID},
    }
    platform_repo.write_platform()
    acme = platform_repo.customer(
        "acme",
        {"acme-web": {}, "acme-api": {"access": "token"}},
        tokens=[{"name": "ci", "sha256": hashlib.sha256(TOKEN.encode()).hexdigest()}],
        outbound={"worker": "egress", "params": {"allow_hosts": ["api.example.com"]}},
    )
    (acme / "acme-web.mjs").write_bytes(FETCHER)
    platform_repo.customer("beta", ["beta-hello", "beta-later"])
    return platform_repo


@pytest.fixture
def eyeballs(cf: EmulatorServer) -> Iterator[httpx.Client]:
    settings = RuntimeSettings(
        emulator_url=cf.url,
        account_id=ACCOUNT,
        dispatcher_name=DISPATCHER,
        port=0,
        default_compat_date="2024-09-01",
        emulator_secret=cf.internal_secret,
    )
    with run_runtime(settings) as runtime, httpx.Client(base_url=runtime.url, timeout=30) as c:
        yield c


def _eventually(client: httpx.Client, path: str, status: int, **kwargs: object) -> httpx.Response:
    deadline = time.monotonic() + 20
    while True:
        res = client.get(path, **kwargs)  # type: ignore[arg-type]
        if res.status_code == status or time.monotonic() > deadline:
            return res
        time.sleep(0.2)


def test_store_mode_serves_through_kv_records_and_fails_closed_without_one(
    store_repo: PlatformRepoBuilder, cf: EmulatorServer, run, eyeballs: httpx.Client
) -> None:
    code, out, err = run("apply", "--repo", str(store_repo.root), "--auto-approve")
    assert code == 0, out + err
    # Nobody asked for beta-later yet: take its record away, as before it is written.
    cf.state.store.kv_delete(ACCOUNT, KV_ID, ["s:beta-later"])

    web = _eventually(eyeballs, "/acme-web/", 200)
    assert web.status_code == 200, web.text
    assert web.json() == {
        "via": "egress",
        "customer_id": "acme",
        "allow_hosts": ["api.example.com"],
        "url": "http://upstream.example/data",
    }
    assert eyeballs.get("/beta-hello/").text.startswith("Hello! This module")

    assert eyeballs.get("/acme-api/").status_code == 401
    assert eyeballs.get("/acme-api/", headers={"X-Customer-Token": "wrong"}).status_code == 403
    allowed = eyeballs.get("/acme-api/", headers={"X-Customer-Token": TOKEN})
    assert allowed.status_code == 200, allowed.text

    absent = eyeballs.get("/beta-later/")
    assert absent.status_code == 503
    assert absent.json()["error"] == "routing_unavailable"
    assert absent.headers["retry-after"] == "10"
    assert eyeballs.get("/nobody/").status_code == 503

    api = eyeballs.get("/_platform/v1/scripts", headers={"X-Customer-Token": TOKEN})
    assert api.status_code == 200, api.text
    assert [s["name"] for s in api.json()["scripts"]] == ["acme-api", "acme-web"]
    assert eyeballs.get("/_platform/health").json()["routing_data"] == "store"

    # A record written later is served at once: misses are not cached in the isolate.
    with httpx.Client(
        base_url=cf.api_base, headers={"Authorization": f"Bearer {cf.api_token}"}
    ) as api_client:
        value = cf.state.store.kv_get(ACCOUNT, KV_ID, "s:beta-hello")
        assert value is not None
        written = api_client.put(
            f"/accounts/{ACCOUNT}/storage/kv/namespaces/{KV_ID}/values/s%3Abeta-later",
            content=value[1],
        )
        assert written.status_code == 200
    assert eyeballs.get("/beta-later/").status_code == 200
