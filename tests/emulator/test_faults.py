"""Fault injection, resilience of the client against it, restart, scale."""

from __future__ import annotations

import time

import httpx
import pytest

from wfp_reconcile.bundle import Module, ScriptUpload
from wfp_reconcile.errors import ApiServerError
from wfp_reconcile.local.emulator import FaultConfig, run_emulator
from wfp_reconcile.local.emulator.store import ModuleRow

ACCOUNT = "0123456789abcdef0123456789abcdef"
NS = f"/accounts/{ACCOUNT}/workers/dispatch/namespaces"


def script(name: str, tags: tuple[str, ...] = ("managed",)) -> ScriptUpload:
    return ScriptUpload(
        {"main_module": "index.mjs", "tags": list(tags)},
        (Module("index.mjs", f"// {name}".encode(), "application/javascript+module"),),
    )


@pytest.fixture
def http(emulator):
    with httpx.Client(
        base_url=emulator.api_base, headers={"Authorization": f"Bearer {emulator.api_token}"}
    ) as client:
        yield client


def test_injected_429_carries_retry_after(emulator, http):
    emulator.set_faults(FaultConfig(fail_429=1.0, retry_after_seconds=2.5))
    response = http.get(NS)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.headers["retry-after-ms"] == "2500"
    assert response.json()["success"] is False
    assert emulator.requests()[-1].fault == "429"


def test_injected_5xx_and_drops(emulator, http):
    emulator.set_faults(FaultConfig(fail_5xx=1.0))
    assert http.get(NS).status_code in (500, 502, 503)
    emulator.set_faults(FaultConfig(drop=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(NS)
    assert [r.fault for r in emulator.requests()] == ["5xx", "drop"]
    assert emulator.requests()[-1].status == 0


def test_rate_limit_answers_429_past_n_requests_per_window(emulator, http):
    emulator.set_faults(FaultConfig(rate_limit=3, rate_window_seconds=60))
    statuses = [http.get(NS).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    retry_after = int(http.get(NS).headers["Retry-After"])
    assert 55 <= retry_after <= 60


def test_latency_is_added_to_each_request(emulator, http):
    emulator.set_faults(FaultConfig(latency_ms=80))
    started = time.monotonic()
    http.get(NS)
    assert time.monotonic() - started >= 0.08


def test_seeded_faults_are_reproducible(emulator, http):
    def run() -> list[int]:
        emulator.set_faults(FaultConfig(fail_5xx=0.5, seed=42))
        return [http.get(NS).status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert 200 in first and any(s >= 500 for s in first)


def test_fail_scripts_breaks_only_the_named_upload(emulator, emulator_client):
    emulator_client.ensure_namespace("ns")
    emulator.set_faults(FaultConfig(fail_scripts=("bad",)))
    results = emulator_client.map_concurrent(
        lambda n: emulator_client.upload_script("ns", n, script(n)), ["good1", "bad", "good2"]
    )
    assert isinstance(results[1], ApiServerError)
    assert results[1].status == 500
    names = sorted(s.id for s in emulator_client.list_scripts("ns"))
    assert names == ["good1", "good2"]


def test_bulk_upload_survives_5xx_and_429_with_every_script_once(emulator, make_client):
    client = make_client(max_attempts=25)
    client.ensure_namespace("ns")
    emulator.set_faults(FaultConfig(fail_5xx=0.3, fail_429=0.1, retry_after_seconds=0.01, seed=7))
    names = [f"script-{i:03d}" for i in range(200)]
    results = client.map_concurrent(lambda n: client.upload_script("ns", n, script(n)), names)
    failures = [r for r in results if isinstance(r, Exception)]
    assert failures == []
    emulator.set_faults(FaultConfig())
    listed = [s.id for s in client.list_scripts("ns", tags=[("managed", True)], page_size=50)]
    assert sorted(listed) == names  # every script present exactly once
    faults = {r.fault for r in emulator.requests("upload_script")}
    assert {"5xx", "429"} <= faults
    assert client.stats.retries > 0 and client.stats.rate_limited > 0


def test_restart_keeps_namespaces_scripts_tags_workers_and_d1(tmp_path):
    token = "restart-token-0123456789"
    state = tmp_path / "state"
    headers = {"Authorization": f"Bearer {token}"}
    with run_emulator(state, api_token=token) as first:
        with httpx.Client(base_url=first.api_base, headers=headers) as http:
            http.post(NS, json={"name": "ns"})
            files = {
                "metadata": (
                    "m.json",
                    b'{"main_module":"a.mjs","tags":["t1"]}',
                    "application/json",
                ),
                "a.mjs": ("a.mjs", b"export default {}", "application/javascript+module"),
            }
            etag = http.put(f"{NS}/ns/scripts/kept", files=files).json()["result"]["etag"]
            http.put(f"{NS}/ns/scripts/kept/tags", json=["t1", "t2"])
            http.put(f"/accounts/{ACCOUNT}/workers/scripts/disp", files=files)
            db = http.post(f"/accounts/{ACCOUNT}/d1/database", json={"name": "d"}).json()
            db_id = db["result"]["uuid"]
            http.post(
                f"/accounts/{ACCOUNT}/d1/database/{db_id}/query",
                json={
                    "batch": [{"sql": "CREATE TABLE x (v)"}, {"sql": "INSERT INTO x VALUES (5)"}]
                },
            )
            version = httpx.get(
                f"{first.url}/__emulator/state", headers=first.internal_headers
            ).json()["version"]
    with run_emulator(state, api_token=token) as second:
        with httpx.Client(base_url=second.api_base, headers=headers) as http:
            assert [n["namespace_name"] for n in http.get(NS).json()["result"]] == ["ns"]
            details = http.get(f"{NS}/ns/scripts/kept").json()["result"]["script"]
            assert details["etag"] == etag and details["tags"] == ["t1", "t2"]
            assert http.get(f"{NS}/ns/scripts/kept/content").content == b"export default {}"
            assert [
                w["id"] for w in http.get(f"/accounts/{ACCOUNT}/workers/scripts").json()["result"]
            ] == ["disp"]  # noqa: E501
            rows = http.post(
                f"/accounts/{ACCOUNT}/d1/database/{db_id}/query", json={"sql": "SELECT v FROM x"}
            ).json()["result"][0]["results"]
            assert rows == [{"v": 5}]
            assert (
                httpx.get(f"{second.url}/__emulator/state", headers=second.internal_headers).json()[
                    "version"
                ]
                == version
            )


def test_thousands_of_scripts_list_in_few_pages(emulator, emulator_client):
    emulator_client.ensure_namespace("big")
    store = emulator.state.store
    module: list[ModuleRow] = []  # listing does not look at modules
    for i in range(2500):
        store.put_script(
            ACCOUNT,
            "big",
            f"s{i:05d}",
            {"main_module": "i.mjs"},
            module,
            ["managed"] if i % 2 else [],
        )
    emulator.reset_requests()
    emulator.set_faults(FaultConfig(latency_ms=20))
    started = time.monotonic()
    managed = list(emulator_client.list_scripts("big", tags=[("managed", True)]))
    assert len(managed) == 1250 and len({s.id for s in managed}) == 1250
    assert emulator.count("list_scripts") == 2
    assert time.monotonic() - started < 5


def test_drop_after_carries_out_the_request_then_loses_the_answer(emulator, http, emulator_client):
    emulator_client.ensure_namespace("ns")
    emulator.set_faults(FaultConfig(drop_after=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        http.put(
            f"{NS}/ns/scripts/kept",
            files={
                "metadata": (None, '{"main_module": "w.mjs"}', "application/json"),
                "w.mjs": ("w.mjs", b"export default {};", "application/javascript+module"),
            },
        )
    assert emulator.requests()[-1].fault == "drop_after"
    emulator.set_faults(FaultConfig())
    assert [s.id for s in emulator_client.list_scripts("ns")] == ["kept"]


def test_client_retries_a_lost_answer_and_the_retry_is_harmless(emulator, emulator_client):
    emulator_client.ensure_namespace("ns")
    emulator.set_faults(FaultConfig(drop_after=0.5, seed=7))
    for i in range(10):
        emulator_client.upload_script("ns", f"s{i}", script(f"s{i}"))
    emulator.set_faults(FaultConfig())
    assert sorted(s.id for s in emulator_client.list_scripts("ns")) == [f"s{i}" for i in range(10)]
    assert any(r.fault == "drop_after" for r in emulator.requests())
