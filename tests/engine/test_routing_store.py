"""routing_data: store: the routing records in Workers KV, planned and applied per customer."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from wfp_reconcile.dispatcher.records import INDEX_KEYS, index_key, index_shard

from .conftest import ACCOUNT, PlatformRepoBuilder
from .outcome_check import deployed_manifest, stored_routes

KV_ID = "5e0f" * 8
DISPATCHER = "test-dispatcher"
TOKEN = hashlib.sha256(b"acme-token").hexdigest()


@pytest.fixture
def store_repo(platform_repo: PlatformRepoBuilder, cf) -> PlatformRepoBuilder:
    cf.state.store.create_kv(ACCOUNT, "routes", KV_ID)
    platform_repo.platform["dispatcher"] = {
        "name": DISPATCHER,
        "routing_data": "store",
        "routing_store": {"kv_namespace_id": KV_ID},
    }
    platform_repo.platform["default_limits"] = {"cpu_ms": 50, "subrequests": 20}
    platform_repo.write_platform()
    platform_repo.customer(
        "acme",
        {"acme-web": {}, "acme-api": {"access": "token", "limits": {"cpu_ms": 10}}},
        tokens=[{"name": "ci", "sha256": TOKEN}],
        outbound={"worker": "egress", "params": {"allow_hosts": ["api.example.com"]}},
    )
    platform_repo.customer("beta", ["beta-hello"])
    return platform_repo


def _record(cf, key: str) -> Any:
    found = cf.state.store.kv_get(ACCOUNT, KV_ID, key)
    return None if found is None else json.loads(found[1])


def _index(cf) -> dict[str, str]:
    """Every customer's digest, from all index records."""
    out: dict[str, str] = {}
    for key in INDEX_KEYS:
        shard = _record(cf, key)
        if shard is not None:
            out.update(shard["customers"])
    return out


def _shards(cf) -> dict[str, Any]:
    return {key: _record(cf, key) for key in INDEX_KEYS}


def _kinds(cf) -> dict[str, int]:
    return cf.state.log.counts()


def test_apply_writes_one_record_per_script_and_the_worker_carries_none(store_repo, cf, run):
    code, out, err = run("apply", "--repo", str(store_repo.root), "--auto-approve")
    assert code == 0, out + err
    web = _record(cf, "s:acme-web")
    assert web == {
        "v": 1,
        "customer": "acme",
        "access": "public",
        "binding": "DISPATCHER_EGRESS",
        "fingerprint": web["fingerprint"],
        "limits": {"cpuMs": 50, "subRequests": 20},
        "outbound": {"allow_hosts": ["api.example.com"], "customer_id": "acme"},
        "suspended": False,
        "tokens": [TOKEN],
    }
    assert _record(cf, "s:acme-api")["limits"] == {"cpuMs": 10, "subRequests": 20}
    assert _record(cf, "s:beta-hello")["outbound"] is None
    assert _record(cf, f"t:{TOKEN}") == {"v": 1, "customer": "acme"}
    assert [s["name"] for s in _record(cf, "c:acme")["scripts"]] == ["acme-api", "acme-web"]
    assert set(_index(cf)) == {"acme", "beta"}
    assert _record(cf, index_key(index_shard("beta")))["customers"]["beta"] == _index(cf)["beta"]
    manifest = deployed_manifest(cf, ACCOUNT, DISPATCHER)
    assert manifest is not None
    assert "scripts" not in manifest and "customers" not in manifest
    d1 = store_repo.platform.get("d1")
    assert manifest["routing_data"] == {
        "mode": "store",
        "binding": "ROUTES",
        "cache_ttl": 30,
        "plain_binding": "DISPATCHER",
        # The status page's source when the D1 mirror is configured (the flat list mode's).
        "d1": d1.get("binding", "DB") if isinstance(d1, dict) else None,
    }
    bindings = cf.state.store.get_script(ACCOUNT, "", DISPATCHER).metadata["bindings"]
    assert {"type": "kv_namespace", "name": "ROUTES", "namespace_id": KV_ID} in bindings


def test_a_no_change_plan_reads_the_index_once(store_repo, cf, run):
    run("apply", "--repo", str(store_repo.root), "--auto-approve")
    cf.state.log.reset()
    code, out, err = run("plan", "--repo", str(store_repo.root), "--detailed-exitcode")
    assert code == 0, out + err
    assert _kinds(cf).get("kv_bulk_get") == 1
    assert not any(k.startswith("kv_") and k != "kv_bulk_get" for k in _kinds(cf))


def test_a_change_to_one_customer_rewrites_only_its_records(store_repo, cf, run):
    run("apply", "--repo", str(store_repo.root), "--auto-approve")
    acme_before = _record(cf, "s:acme-web")
    shards_before = _shards(cf)
    store_repo.edit_customer("beta", limits={"cpu_ms": 5})
    code, out, _ = run("plan", "--repo", str(store_repo.root))
    assert "routing records beta" in out and "routing records acme" not in out
    cf.state.log.reset()
    code, out, err = run("apply", "--repo", str(store_repo.root), "--auto-approve")
    assert code == 0, out + err
    # beta's records, then the one index record holding beta's digest.
    assert _kinds(cf).get("kv_bulk_write") == 2
    assert _kinds(cf).get("upload_worker", 0) == 0, "the dispatcher is not re-uploaded"
    changed = {k for k, v in _shards(cf).items() if v != shards_before[k]}
    assert changed == {index_key(index_shard("beta"))}
    assert _record(cf, "s:beta-hello")["limits"]["cpuMs"] == 5
    assert _record(cf, "s:acme-web") == acme_before
    code, out, _ = run("plan", "--repo", str(store_repo.root), "--detailed-exitcode")
    assert code == 0, out


def test_removed_scripts_and_customers_lose_their_records(store_repo, cf, run):
    run("apply", "--repo", str(store_repo.root), "--auto-approve")
    store_repo.customer("acme", {"acme-web": {}}, tokens=[])
    store_repo.remove_customer("beta")
    code, out, err = run(
        "apply", "--repo", str(store_repo.root), "--auto-approve", "--allow-deletes", "2"
    )
    assert code == 0, out + err
    assert _record(cf, "s:acme-api") is None
    assert _record(cf, f"t:{TOKEN}") is None
    assert _record(cf, "s:beta-hello") is None and _record(cf, "c:beta") is None
    assert set(stored_routes(cf, ACCOUNT, _Store())) == {"acme-web"}
    assert set(_index(cf)) == {"acme"}


def test_a_script_moving_to_another_customer_is_unrouted_until_adopted(store_repo, cf, run):
    run("apply", "--repo", str(store_repo.root), "--auto-approve")
    (store_repo.root / "customers" / "acme" / "acme-web.mjs").rename(
        store_repo.root / "customers" / "beta" / "acme-web.mjs"
    )
    store_repo.customer(
        "acme", {"acme-api": {"access": "token"}}, tokens=[{"name": "ci", "sha256": TOKEN}]
    )
    store_repo.customer("beta", ["beta-hello", "acme-web"])
    code, out, err = run("apply", "--repo", str(store_repo.root), "--auto-approve")
    # A conflict until an admin adopts it: neither customer's record routes it meanwhile.
    assert "! script acme-web" in out
    assert _record(cf, "s:acme-web") is None
    code, out, err = run("adopt", "acme-web", "--repo", str(store_repo.root), "--auto-approve")
    assert code == 0, out + err
    assert _record(cf, "s:acme-web")["customer"] == "beta"
    assert [s["name"] for s in _record(cf, "c:beta")["scripts"]] == ["acme-web", "beta-hello"]


def test_a_failed_record_write_leaves_the_index_so_the_next_run_converges(
    store_repo, cf, run, monkeypatch
):
    from wfp_reconcile.errors import ApiServerError
    from wfp_reconcile.kinds import routing

    run("apply", "--repo", str(store_repo.root), "--auto-approve")
    index_before = _index(cf)
    store_repo.edit_customer("beta", limits={"cpu_ms": 7})

    real = routing.kv_bulk_write
    failing = [True]

    def broken(*args: Any, **kwargs: Any) -> int:
        if failing[0]:
            raise ApiServerError("Cloudflare API PUT .../bulk: 500 (injected)")
        return real(*args, **kwargs)

    monkeypatch.setattr(routing, "kv_bulk_write", broken)
    code, out, err = run("apply", "--repo", str(store_repo.root), "--auto-approve")
    assert code == 1, out + err
    assert _index(cf) == index_before, "the index never vouches for a failed write"
    failing[0] = False
    code, out, err = run("apply", "--repo", str(store_repo.root), "--auto-approve")
    assert code == 0, out + err
    assert _record(cf, "s:beta-hello")["limits"]["cpuMs"] == 7


class _Store:
    class routing_store:  # noqa: N801 (the shape of config.model.Dispatcher)
        kv_namespace_id = KV_ID


def test_a_saved_plan_applies_the_same_records_and_goes_stale_when_they_change(
    store_repo, cf, run, tmp_path
):
    plan_file = tmp_path / "plan.json"
    assert run("plan", "--repo", str(store_repo.root), "--out", str(plan_file))[0] == 0
    code, out, err = run("apply", str(plan_file), "--repo", str(store_repo.root))
    assert code == 0, out + err
    assert set(_index(cf)) == {"acme", "beta"}
    store_repo.edit_customer("beta", limits={"cpu_ms": 9})
    assert run("plan", "--repo", str(store_repo.root), "--out", str(plan_file))[0] == 0
    # Someone else's apply rewrote the index in between: the saved plan is stale.
    key = index_key(index_shard("acme"))
    cf.state.store.kv_put(ACCOUNT, KV_ID, [(key, b'{"v":1,"customers":{}}', None, None)])
    code, out, err = run("apply", str(plan_file), "--repo", str(store_repo.root))
    assert code == 1 and "changed since the plan" in err, out + err


def test_a_missing_kv_namespace_is_named_in_one_error(store_repo, cf, run):
    cf.state.store.delete_kv(ACCOUNT, KV_ID)
    code, out, err = run("plan", "--repo", str(store_repo.root))
    assert code == 1
    assert f"kv_namespace_id {KV_ID} names no Workers KV namespace" in err, err
