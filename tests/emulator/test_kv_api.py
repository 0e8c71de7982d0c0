"""The emulated Workers KV endpoints over real HTTP, and the client's KV calls against them."""

from __future__ import annotations

import httpx
import pytest

from wfp_reconcile.cloudflare.kv import (
    create_kv_namespace,
    kv_bulk_delete,
    kv_bulk_write,
    kv_get,
    kv_list_keys,
    kv_put,
    list_kv_namespaces,
)
from wfp_reconcile.errors import NotFoundError
from wfp_reconcile.local.emulator.internal import SECRET_HEADER

ACCOUNT = "0123456789abcdef0123456789abcdef"
KV = f"/accounts/{ACCOUNT}/storage/kv/namespaces"


@pytest.fixture
def api(emulator):
    with httpx.Client(
        base_url=emulator.api_base, headers={"Authorization": f"Bearer {emulator.api_token}"}
    ) as client:
        yield client


def codes(response: httpx.Response) -> list[int]:
    body = response.json()
    assert body["success"] is False
    return [e["code"] for e in body["errors"]]


def test_namespaces_are_created_once_per_title_and_listed_in_pages(api):
    first = api.post(KV, json={"title": "routes"})
    assert first.status_code == 200
    ns = first.json()["result"]
    assert len(ns["id"]) == 32 and ns["title"] == "routes"
    again = api.post(KV, json={"title": "routes"})
    assert again.status_code == 400 and codes(again) == [10014]
    for i in range(6):
        api.post(KV, json={"title": f"other-{i}"})
    page = api.get(KV, params={"per_page": 5, "page": 2}).json()
    assert page["result_info"] == {
        "page": 2,
        "per_page": 5,
        "count": 2,
        "total_count": 7,
        "total_pages": 2,
    }
    missing = api.get(f"{KV}/{'0' * 32}")
    assert missing.status_code == 404 and codes(missing) == [10013]


def test_values_bulk_write_get_and_delete(api):
    ns = api.post(KV, json={"title": "routes"}).json()["result"]["id"]
    absent = api.get(f"{KV}/{ns}/values/s%3Aa")
    assert absent.status_code == 404 and codes(absent) == [10009]
    wrote = api.put(
        f"{KV}/{ns}/bulk",
        json=[{"key": "s:a", "value": "1"}, {"key": "s:b", "value": "aGk=", "base64": True}],
    )
    assert wrote.json()["result"] == {"successful_key_count": 2, "unsuccessful_keys": []}
    got = api.get(f"{KV}/{ns}/values/s%3Ab")
    assert got.content == b"hi" and got.headers["content-type"] == "application/octet-stream"
    bulk = api.post(f"{KV}/{ns}/bulk/get", json={"keys": ["s:a", "s:z"], "type": "json"})
    assert bulk.json()["result"] == {"values": {"s:a": 1, "s:z": None}}
    gone = api.post(f"{KV}/{ns}/bulk/delete", json=["s:a", "s:never"])
    assert gone.json()["result"]["successful_key_count"] == 2
    assert api.get(f"{KV}/{ns}/values/s%3Aa").status_code == 404
    too_many = api.put(
        f"{KV}/{ns}/bulk", json=[{"key": f"k{i}", "value": ""} for i in range(10_001)]
    )
    assert too_many.status_code == 400
    long_key = api.put(f"{KV}/{ns}/values/{'k' * 513}", content=b"x")
    assert long_key.status_code == 414 and codes(long_key) == [10033]
    short_ttl = api.put(f"{KV}/{ns}/values/k", content=b"x", params={"expiration_ttl": 10})
    assert short_ttl.status_code == 400


def test_keys_are_listed_in_order_with_a_cursor_and_a_prefix(api):
    ns = api.post(KV, json={"title": "routes"}).json()["result"]["id"]
    api.put(f"{KV}/{ns}/bulk", json=[{"key": f"s:{i:02}", "value": "v"} for i in range(25)])
    api.put(f"{KV}/{ns}/values/t%3Ax", content=b"v")
    names: list[str] = []
    cursor = ""
    while True:
        page = api.get(f"{KV}/{ns}/keys", params={"prefix": "s:", "limit": 10, "cursor": cursor})
        body = page.json()
        names += [k["name"] for k in body["result"]]
        assert body["result_info"]["count"] == len(body["result"])
        cursor = body["result_info"]["cursor"]
        if not cursor:
            break
    assert names == [f"s:{i:02}" for i in range(25)]


def test_the_client_round_trips_through_the_emulator(emulator_client):
    ns = create_kv_namespace(emulator_client, "routes")["id"]
    assert [n["title"] for n in list_kv_namespaces(emulator_client)] == ["routes"]
    assert kv_get(emulator_client, ns, "i:index") is None
    kv_put(emulator_client, ns, "i:index", b'{"a":"1"}')
    assert kv_get(emulator_client, ns, "i:index") == b'{"a":"1"}'
    assert kv_bulk_write(emulator_client, ns, [(f"s:{i}", "{}") for i in range(3)]) == 1
    assert sorted(kv_list_keys(emulator_client, ns, prefix="s:", limit=10)) == ["s:0", "s:1", "s:2"]
    kv_bulk_delete(emulator_client, ns, ["s:0", "s:1"])
    assert list(kv_list_keys(emulator_client, ns)) == ["i:index", "s:2"]
    with pytest.raises(NotFoundError):
        kv_get(emulator_client, "f" * 32, "i:index")


def test_internal_value_endpoint_and_ensure(emulator, api):
    internal = {SECRET_HEADER: emulator.internal_secret}
    ns = "ab" * 16
    base = emulator.api_base.removesuffix("/client/v4")
    assert httpx.put(f"{base}/__emulator/kv/{ACCOUNT}/{ns}").status_code == 403
    assert httpx.put(f"{base}/__emulator/kv/{ACCOUNT}/{ns}", headers=internal).status_code == 201
    assert httpx.put(f"{base}/__emulator/kv/{ACCOUNT}/{ns}", headers=internal).status_code == 200
    api.put(f"{KV}/{ns}/values/s%3Aa", content=b'{"x":1}')
    got = httpx.get(f"{base}/__emulator/kv/{ACCOUNT}/{ns}/values/s:a", headers=internal)
    assert got.status_code == 200 and got.content == b'{"x":1}'
    assert (
        httpx.get(f"{base}/__emulator/kv/{ACCOUNT}/{ns}/values/s:b", headers=internal).status_code
        == 404
    )


def test_dev_makes_the_routing_store_namespace_exist(emulator):
    from types import SimpleNamespace

    from wfp_reconcile.local.runtime.kvlocal import ensure_local_routing_store

    store = SimpleNamespace(kv_namespace_id="cd" * 16)
    repo = SimpleNamespace(
        platform=SimpleNamespace(
            account_id=ACCOUNT,
            dispatcher=SimpleNamespace(routing_data="store", routing_store=store),
        )
    )
    secret = emulator.internal_secret
    assert ensure_local_routing_store(repo, emulator.url, secret=secret) == "cd" * 16
    assert ensure_local_routing_store(repo, emulator.url, secret=secret) is None
    assert emulator.state.store.get_kv(ACCOUNT, "cd" * 16) is not None
    repo.platform.dispatcher.routing_data = "manifest"
    assert ensure_local_routing_store(repo, emulator.url, secret=secret) is None
