"""The Workers KV calls: paths, bodies and answers as the TS SDK's kv/namespaces types have them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from wfp_reconcile.cloudflare import ClientSettings, CloudflareClient
from wfp_reconcile.cloudflare.kv import (
    create_kv_namespace,
    kv_bulk_delete,
    kv_bulk_get,
    kv_bulk_write,
    kv_get,
    kv_list_keys,
    kv_put,
    list_kv_namespaces,
)
from wfp_reconcile.errors import ApiError, NotFoundError

BASE = "https://cf.test/client/v4"
ACCOUNT = "acc0123"
KV = f"{BASE}/accounts/{ACCOUNT}/storage/kv/namespaces"
NS_ID = "0f2ac74b498b48028cb68387c421e279"


def envelope(result: Any, **extra: Any) -> dict[str, Any]:
    return {"success": True, "errors": [], "messages": [], "result": result, **extra}


def failure(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": []}


@pytest.fixture
def client():
    settings = ClientSettings(
        account_id=ACCOUNT, api_token="t0ken-abcdef0123456789", base_url=BASE, max_attempts=1
    )
    with CloudflareClient(settings) as c:
        yield c


@respx.mock
def test_get_returns_the_raw_value_and_none_for_a_missing_key(client):
    respx.get(f"{KV}/{NS_ID}/values/s%3Aacme-web").respond(content=b'{"customer":"acme"}')
    respx.get(f"{KV}/{NS_ID}/values/s%3Amissing").respond(
        404, json=failure(10009, "get: 'key not found'")
    )
    assert kv_get(client, NS_ID, "s:acme-web") == b'{"customer":"acme"}'
    assert kv_get(client, NS_ID, "s:missing") is None


@respx.mock
def test_get_of_an_unknown_namespace_is_an_error_not_an_absent_key(client):
    respx.get(f"{KV}/{NS_ID}/values/i").respond(404, json=failure(10013, "namespace not found"))
    with pytest.raises(NotFoundError) as caught:
        kv_get(client, NS_ID, "i")
    assert caught.value.codes == (10013,)


@respx.mock
def test_put_sends_the_raw_value(client):
    route = respx.put(f"{KV}/{NS_ID}/values/i%3Aindex").respond(json=envelope({}))
    kv_put(client, NS_ID, "i:index", b'{"a":"b"}')
    assert route.calls.last.request.content == b'{"a":"b"}'


@respx.mock
def test_bulk_write_sends_key_value_objects_in_chunks_of_10000(client):
    bodies: list[list[dict[str, Any]]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        return httpx.Response(
            200, json=envelope({"successful_key_count": len(body), "unsuccessful_keys": []})
        )

    respx.put(f"{KV}/{NS_ID}/bulk").mock(side_effect=answer)
    pairs = [(f"s:{i}", "v") for i in range(10_001)]
    assert kv_bulk_write(client, NS_ID, pairs) == 2
    assert [len(b) for b in bodies] == [10_000, 1]
    assert bodies[0][0] == {"key": "s:0", "value": "v"}


@respx.mock
def test_bulk_write_with_unsuccessful_keys_fails(client):
    respx.put(f"{KV}/{NS_ID}/bulk").respond(
        json=envelope({"successful_key_count": 1, "unsuccessful_keys": ["s:b"]})
    )
    with pytest.raises(ApiError, match="did not write 1 of 2 keys \\('s:b'\\)"):
        kv_bulk_write(client, NS_ID, [("s:a", "1"), ("s:b", "2")])


@respx.mock
def test_bulk_delete_posts_the_key_names(client):
    route = respx.post(f"{KV}/{NS_ID}/bulk/delete").respond(
        json=envelope({"successful_key_count": 2, "unsuccessful_keys": []})
    )
    assert kv_bulk_delete(client, NS_ID, ["s:a", "t:x"]) == 1
    assert json.loads(route.calls.last.request.content) == ["s:a", "t:x"]
    assert kv_bulk_delete(client, NS_ID, []) == 0


@respx.mock
def test_list_keys_follows_the_cursor_until_it_is_empty(client):
    pages = {
        None: envelope(
            [{"name": "s:a"}, {"name": "s:b"}], result_info={"count": 2, "cursor": "c1"}
        ),
        "c1": envelope([{"name": "s:c"}], result_info={"count": 1, "cursor": ""}),
    }
    seen: list[dict[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        return httpx.Response(200, json=pages[request.url.params.get("cursor")])

    respx.get(f"{KV}/{NS_ID}/keys").mock(side_effect=answer)
    assert list(kv_list_keys(client, NS_ID, prefix="s:")) == ["s:a", "s:b", "s:c"]
    assert seen == [
        {"limit": "1000", "prefix": "s:"},
        {"limit": "1000", "prefix": "s:", "cursor": "c1"},
    ]


@respx.mock
def test_namespaces_list_pages_and_create(client):
    respx.get(KV, params={"page": "1"}).respond(
        json=envelope([{"id": NS_ID, "title": "routes"}], result_info={"total_pages": 1})
    )
    route = respx.post(KV).respond(json=envelope({"id": NS_ID, "title": "routes"}))
    assert list_kv_namespaces(client) == [{"id": NS_ID, "title": "routes"}]
    assert create_kv_namespace(client, "routes")["id"] == NS_ID
    assert json.loads(route.calls.last.request.content) == {"title": "routes"}


@respx.mock
def test_bulk_get_posts_keys_and_json_type(client):
    route = respx.post(f"{KV}/{NS_ID}/bulk/get").respond(
        json=envelope({"values": {"i:00": {"v": 1}, "i:01": None}})
    )
    assert kv_bulk_get(client, NS_ID, ["i:00", "i:01"]) == {"i:00": {"v": 1}, "i:01": None}
    assert json.loads(route.calls.last.request.content) == {
        "keys": ["i:00", "i:01"],
        "type": "json",
    }
    with pytest.raises(ValueError):
        kv_bulk_get(client, NS_ID, [f"k{i}" for i in range(101)])
