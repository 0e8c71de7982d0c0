"""Issue 11 item 8: in ``dev``, customer code in workerd cannot use the emulator's
``/__emulator`` endpoints (other customers' bundles and secrets, D1 rows, faults), while the
runtime itself, which holds the per-run secret, still reads them."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator

import httpx
import pytest

from wfp_reconcile.cloudflare import ClientSettings, CloudflareClient
from wfp_reconcile.config.model import Customer, Platform, PlatformRepo, Script
from wfp_reconcile.local.emulator import EmulatorServer, run_emulator
from wfp_reconcile.local.runtime import RuntimeSettings, run_runtime
from wfp_reconcile.local.runtime.devstack import apply_with_engine

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
    pytest.mark.workerd,
]

ACCOUNT = "isoaccount"
NAMESPACE = "isons"
DB_ID = "6b1d0f5a-9c8e-4d4f-b3a2-1f0e9d8c7b61"

# Tries every internal endpoint it can name, with and without guessing credentials.
PROBE = b"""
export default {
  async fetch(request, env) {
    const base = env.EMULATOR;
    const paths = [
      `/__emulator/bundles/${env.ACCOUNT}/${env.NAMESPACE}/victim`,
      `/__emulator/workers/${env.ACCOUNT}/dispatcher`,
      "/__emulator/state",
      "/__emulator/requests",
      "/__emulator/faults",
    ];
    const out = {};
    for (const path of paths) {
      try {
        const res = await fetch(base + path, { headers: { "x-wfp-emulator-secret": "guess" } });
        out[path] = { status: res.status, body: (await res.text()).slice(0, 200) };
      } catch (error) {
        out[path] = { error: String(error) };
      }
    }
    const d1 = await fetch(`${base}/__emulator/d1/${env.ACCOUNT}/${env.DB}/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sql: "SELECT 1 AS one" }),
    });
    out.d1 = { status: d1.status };
    out.env = Object.keys(env).sort();
    return Response.json(out);
  },
};
"""

VICTIM = b"export default { fetch(r, env) { return new Response('victim ' + env.TOKEN) } };\n"


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with run_emulator(None, api_token=secrets.token_urlsafe(16)) as server:
        yield server


@pytest.fixture(scope="module")
def http(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    platform = Platform(account_id=ACCOUNT, namespace=NAMESPACE, compatibility_date="2026-01-01")
    probe_vars = {"EMULATOR": emulator.url, "ACCOUNT": ACCOUNT, "NAMESPACE": NAMESPACE,
                  "DB": DB_ID}  # fmt: skip
    customers = (
        Customer(id="mallory", name="Mallory", plan="pro",
                 scripts={"probe": Script(main_module="probe.mjs", vars=probe_vars)}),
        Customer(id="alice", name="Alice", plan="pro",
                 scripts={"victim": Script(main_module="victim.mjs", vars={"TOKEN": "t0p"})}),
    )  # fmt: skip
    files = {"customers/mallory/probe.mjs": PROBE, "customers/alice/victim.mjs": VICTIM}
    repo = PlatformRepo(platform=platform, customers=customers, files=files, commit=None)
    headers = emulator.internal_headers
    assert httpx.put(f"{emulator.url}/__emulator/d1/{ACCOUNT}/{DB_ID}", headers=headers).is_success
    settings = ClientSettings(
        account_id=ACCOUNT,
        api_token=emulator.api_token,
        base_url=emulator.api_base,
        requests_per_window=1_000_000,
    )
    with CloudflareClient(settings) as api:
        assert apply_with_engine(repo, api).ok
    runtime_settings = RuntimeSettings(
        emulator_url=emulator.url,
        account_id=ACCOUNT,
        dispatcher_name=platform.dispatcher.name,
        port=0,
        emulator_secret=emulator.internal_secret,
    )
    with (
        run_runtime(runtime_settings) as runtime,
        httpx.Client(base_url=runtime.url, timeout=30) as c,
    ):
        yield c


def test_customer_code_cannot_read_the_emulator(http: httpx.Client) -> None:
    # The runtime, holding the secret, serves the victim: the secret is what opens it.
    victim = http.get("/victim/")
    assert victim.status_code == 200 and victim.text == "victim t0p"

    out = http.get("/probe/").json()

    for path, result in out.items():
        if path.startswith("/__emulator"):
            assert result.get("status") == 403, (path, result)
            assert "t0p" not in result.get("body", "")
    assert out["d1"]["status"] == 403
    assert "EMULATOR_SECRET" not in out["env"]


def test_without_the_secret_loopback_callers_are_refused(emulator: EmulatorServer) -> None:
    assert httpx.get(f"{emulator.url}/__emulator/state").status_code == 403
    assert httpx.get(
        f"{emulator.url}/__emulator/state", headers=emulator.internal_headers
    ).is_success
