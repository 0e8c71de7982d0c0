"""The script list in every shape Cloudflare documents: flat or wrapped items, with or
without ``result_info``/cursor; unreadable items fail the listing instead of vanishing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from wfp_reconcile.bundle import Module, ScriptUpload
from wfp_reconcile.cloudflare import ClientSettings, CloudflareClient
from wfp_reconcile.errors import ApiError
from wfp_reconcile.local.emulator.formdata import parse_form_data

BASE = "https://cf.test/client/v4"
ACCOUNT = "acc0123"
NS_PATH = f"{BASE}/accounts/{ACCOUNT}/workers/dispatch/namespaces/ns"


def envelope(result: Any, **extra: Any) -> dict[str, Any]:
    return {"success": True, "errors": [], "messages": [], "result": result, **extra}


@pytest.fixture
def client():
    settings = ClientSettings(account_id=ACCOUNT, api_token="tok-0123456789abcdef", base_url=BASE)
    with CloudflareClient(settings, sleep=lambda _: None) as c:
        yield c


def wrapped(name: str, tags: list[str] | None) -> dict[str, Any]:
    script: dict[str, Any] = {"id": name, "etag": f"e-{name}", "handlers": ["fetch"]}
    if tags is not None:
        script["tags"] = tags
    return {
        "created_on": "2026-01-01T00:00:00Z",
        "modified_on": "2026-01-02T00:00:00Z",
        "dispatch_namespace": "ns",
        "script": script,
    }


@respx.mock
def test_wrapped_items_read_like_flat_ones(client):
    respx.get(f"{NS_PATH}/scripts").respond(
        json=envelope([wrapped("a", ["t"]), {"id": "b", "etag": "e-b", "tags": []}])
    )
    a, b = client.list_scripts("ns")
    assert (a.id, a.etag, a.tags, a.modified_on) == ("a", "e-a", ("t",), "2026-01-02T00:00:00Z")
    assert (b.id, b.tags) == ("b", ())


@respx.mock
def test_wrapped_items_without_tags_have_tags_none(client):
    respx.get(f"{NS_PATH}/scripts").respond(json=envelope([wrapped("a", None)]))
    (only,) = client.list_scripts("ns")
    assert only.id == "a" and only.tags is None


@pytest.mark.parametrize(
    "item",
    [
        {"etag": "x", "tags": ["t"]},
        {"id": "", "tags": []},
        {"id": 7},
        {"created_on": "2026", "dispatch_namespace": "ns", "script": {"etag": "x"}},
        "a",
        None,
    ],
    ids=["no-id", "empty-id", "non-string-id", "wrapped-no-id", "string", "null"],
)
@respx.mock
def test_an_item_without_a_script_name_fails_closed(client, item):
    respx.get(f"{NS_PATH}/scripts").respond(json=envelope([{"id": "ok"}, item]))
    with pytest.raises(ApiError, match="Refusing to plan"):
        list(client.list_scripts("ns"))


@respx.mock
def test_no_result_info_is_one_page(client):
    route = respx.get(f"{NS_PATH}/scripts").respond(json=envelope([{"id": "a"}, {"id": "b"}]))
    assert [s.id for s in client.list_scripts("ns")] == ["a", "b"]
    assert route.call_count == 1


@respx.mock
def test_a_server_that_ignores_the_cursor_does_not_loop(client):
    calls = {"n": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1  # a fresh cursor every time, the same first page every time
        info = {"cursor": f"c{calls['n']}"}
        return httpx.Response(200, json=envelope([{"id": "a"}], result_info=info))

    respx.get(f"{NS_PATH}/scripts").mock(side_effect=answer)
    with pytest.raises(ApiError, match="twice"):
        list(client.list_scripts("ns"))
    # Page 2 repeats page 1's script; page 3 was asked for while page 2 was read.
    assert calls["n"] == 3


@respx.mock
def test_a_result_that_is_not_a_list_fails(client):
    respx.get(f"{NS_PATH}/scripts").respond(json=envelope({"id": "a"}))
    with pytest.raises(ApiError, match="not a list"):
        list(client.list_scripts("ns"))


@respx.mock
def test_upload_parts_are_named_by_their_file_name(client):
    route = respx.put(f"{NS_PATH}/scripts/s").respond(json=envelope({"id": "s"}))
    modules = (
        Module("index.mjs", b"export default {}", "application/javascript+module"),
        Module("lib/a b.mjs", b"export const a = 1", "application/javascript+module"),
    )
    client.upload_script("ns", "s", ScriptUpload({"main_module": "index.mjs"}, modules))
    request = route.calls.last.request
    parts = parse_form_data(request.content, request.headers["content-type"])
    assert [(p.name, p.filename) for p in parts] == [
        ("metadata", "metadata.json"),
        ("index.mjs", "index.mjs"),
        ("lib/a b.mjs", "lib/a b.mjs"),
    ]
