"""Contract suite: the emulator's endpoints over real HTTP, checked against the OpenAPI subset."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from wfp_reconcile.local.emulator import FaultConfig

ACCOUNT = "0123456789abcdef0123456789abcdef"
NS = f"/accounts/{ACCOUNT}/workers/dispatch/namespaces"
WORKERS = f"/accounts/{ACCOUNT}/workers/scripts"
D1 = f"/accounts/{ACCOUNT}/d1/database"
JS = "application/javascript+module"
# Uploads must start in workerd, as on Cloudflare (the emulator loads them: docs/preflight.md).
OTHER_JS = b"export default { fetch() { return new Response('other'); } };\n"


@pytest.fixture
def api(emulator, openapi):
    """An httpx client on /client/v4 whose JSON answers are validated against the spec."""

    def check(response: httpx.Response) -> None:
        path = response.request.url.path.removeprefix("/client/v4")
        # The 2024 subset's binding union predates `plain_text` and outbound params as
        # {name} objects (see research/cloudflare-api.md), so echoed bindings are not checked.
        if path.endswith(("/settings", "/bindings")) and response.status_code == 200:
            return
        if response.headers.get("content-type", "").startswith("application/json"):
            openapi.validate_response(
                response.request.method, path, response.status_code, response.json()
            )

    with httpx.Client(
        base_url=emulator.api_base,
        headers={"Authorization": f"Bearer {emulator.api_token}"},
        event_hooks={"response": [lambda r: (r.read(), check(r))[0]]},
    ) as client:
        yield client


def form(
    metadata: Any,
    modules: list[tuple[str, bytes, str]] | None = None,
    *,
    raw_metadata: bytes | None = None,
) -> dict[str, Any]:
    """Keyword arguments for an httpx multipart upload."""
    if modules is None:
        modules = [("index.mjs", b"export default {fetch() {}}", JS)]
    meta = raw_metadata if raw_metadata is not None else json.dumps(metadata).encode()
    files: list[tuple[str, tuple[str, bytes, str]]] = [
        ("metadata", ("metadata.json", meta, "application/json"))
    ]
    files += [(name, (name, content, ctype)) for name, content, ctype in modules]
    return {"files": files}


def upload(api, name: str, *, ns: str = "ns", **metadata: Any) -> httpx.Response:
    metadata.setdefault("main_module", "index.mjs")
    return api.put(f"{NS}/{ns}/scripts/{name}", **form(metadata))


def errors(response: httpx.Response) -> list[int]:
    body = response.json()
    assert body["success"] is False and body["result"] is None
    return [e["code"] for e in body["errors"]]


@pytest.fixture
def ns(api):
    assert api.post(NS, json={"name": "ns"}).status_code == 200
    return "ns"


# -- auth and routing --------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Bearer wrong-token"}, id="wrong"),
        pytest.param({"Authorization": "Basic abc"}, id="other-scheme"),
    ],
)
def test_requests_without_the_right_token_get_auth_error_10000(emulator, openapi, headers):
    response = httpx.get(emulator.api_base + NS, headers=headers)
    assert response.status_code == 403
    assert errors(response) == [10000]
    assert openapi.validate_response("GET", NS, 403, response.json())


def test_unknown_routes_answer_7003_in_the_envelope(api):
    response = api.get(f"/accounts/{ACCOUNT}/nothing/here")
    assert response.status_code == 404
    assert errors(response) == [7003]


def test_internal_endpoints_are_not_reachable_under_the_api_prefix(api):
    assert api.get("/__emulator/state").status_code == 404


# -- namespaces --------------------------------------------------------------------------


def test_namespace_create_get_list_delete(api, openapi):
    created = api.post(NS, json={"name": "prod"}).json()["result"]
    assert created["namespace_name"] == "prod" and created["script_count"] == 0
    assert api.get(f"{NS}/prod").json()["result"]["namespace_id"] == created["namespace_id"]
    assert [n["namespace_name"] for n in api.get(NS).json()["result"]] == ["prod"]
    again = api.post(NS, json={"name": "prod"})
    assert again.status_code == 409
    assert api.delete(f"{NS}/prod").json() == {
        "success": True, "errors": [], "messages": [], "result": None,
    }  # fmt: skip
    missing = api.get(f"{NS}/prod")
    assert missing.status_code == 404 and errors(missing) == [10007]


def test_namespaces_are_scoped_by_account(api):
    api.post(NS, json={"name": "mine"})
    other = api.get("/accounts/ffffffffffffffffffffffffffffffff/workers/dispatch/namespaces")
    assert other.json()["result"] == []


def test_script_count_follows_uploads(api, ns):
    upload(api, "a")
    upload(api, "b")
    assert api.get(f"{NS}/ns").json()["result"]["script_count"] == 2


# -- script upload, details, content, delete -----------------------------------------------


def test_upload_returns_a_script_object_with_etag_and_tags(api, ns):
    response = upload(api, "hello", tags=["managed", "customer-1"])
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["id"] == "hello"
    assert result["tags"] == ["managed", "customer-1"]
    assert len(result["etag"]) == 64
    assert result["created_on"].endswith("Z")


def test_etag_is_a_hash_of_content(api, ns):
    first = upload(api, "a").json()["result"]["etag"]
    same = upload(api, "b").json()["result"]["etag"]
    changed = api.put(
        f"{NS}/ns/scripts/a", **form({"main_module": "index.mjs"}, [("index.mjs", OTHER_JS, JS)])
    ).json()["result"]["etag"]
    assert first == same != changed


def test_reupload_keeps_created_on_and_replaces_content(api, ns):
    first = upload(api, "a").json()["result"]
    api.put(f"{NS}/ns/scripts/a", **form({"main_module": "m.mjs"}, [("m.mjs", OTHER_JS, JS)]))
    details = api.get(f"{NS}/ns/scripts/a").json()["result"]
    assert details["script"]["created_on"] == first["created_on"]
    assert details["dispatch_namespace"] == "ns"
    assert api.get(f"{NS}/ns/scripts/a/content").content == OTHER_JS


def test_reupload_without_tags_keeps_the_tags(api, ns):
    upload(api, "a", tags=["x"])
    upload(api, "a")
    assert api.get(f"{NS}/ns/scripts/a/tags").json()["result"] == ["x"]


def test_multi_module_content_comes_back_as_multipart(api, ns):
    wasm = b"\x00asm\x01\x00\x00\x00"  # the smallest valid module: uploads are loaded
    modules = [("index.mjs", OTHER_JS, JS), ("a.wasm", wasm, "application/wasm")]
    api.put(f"{NS}/ns/scripts/m", **form({"main_module": "index.mjs"}, modules))
    response = api.get(f"{NS}/ns/scripts/m/content")
    assert response.headers["content-type"].startswith("multipart/form-data")
    assert wasm in response.content


def test_delete_then_delete_again_is_404(api, ns):
    upload(api, "gone")
    assert api.delete(f"{NS}/ns/scripts/gone").status_code == 200
    again = api.delete(f"{NS}/ns/scripts/gone")
    assert again.status_code == 404 and errors(again) == [10007]
    assert api.get(f"{NS}/ns/scripts/gone").status_code == 404


def test_upload_into_a_missing_namespace_is_404(api):
    response = upload(api, "a", ns="nope")
    assert response.status_code == 404 and errors(response) == [10007]


def test_settings_and_bindings_never_show_secret_values(api, ns):
    bindings = [
        {"type": "secret_text", "name": "KEY", "text": "hunter2-secret"},
        {"type": "plain_text", "name": "MODE", "text": "prod"},
    ]
    upload(api, "s", bindings=bindings, limits={"cpu_ms": 50}, compatibility_date="2024-09-01")
    settings = api.get(f"{NS}/ns/scripts/s/settings").json()["result"]
    listed = api.get(f"{NS}/ns/scripts/s/bindings").json()["result"]
    assert "hunter2-secret" not in json.dumps(settings) + json.dumps(listed)
    assert settings["limits"] == {"cpu_ms": 50}
    assert settings["compatibility_date"] == "2024-09-01"
    assert {b["name"] for b in listed} == {"KEY", "MODE"}


def test_keep_bindings_carries_secrets_over_from_the_previous_upload(api, emulator, ns):
    upload(api, "s", bindings=[{"type": "secret_text", "name": "KEY", "text": "v1"}])
    upload(api, "s", bindings=[], keep_bindings=["secret_text"])
    kept = httpx.get(
        f"{emulator.url}/__emulator/bundles/{ACCOUNT}/ns/s", headers=emulator.internal_headers
    ).json()["bindings"]
    assert kept == [{"type": "secret_text", "name": "KEY", "text": "v1"}]
    upload(api, "s", bindings=[])
    assert (
        httpx.get(
            f"{emulator.url}/__emulator/bundles/{ACCOUNT}/ns/s", headers=emulator.internal_headers
        ).json()["bindings"]
        == []
    )


# -- upload validation: one test per Cloudflare error ------------------------------------

OK_MODULE = [("index.mjs", b"export default {}", JS)]


@pytest.mark.parametrize(
    ("name", "kwargs", "code"),
    [
        pytest.param("Bad-Name", form({"main_module": "index.mjs"}), 10016, id="uppercase-name"),
        pytest.param("a" * 64, form({"main_module": "index.mjs"}), 10016, id="long-name"),
        pytest.param("-x", form({"main_module": "index.mjs"}), 10016, id="leading-dash"),
        pytest.param(
            "s", {"files": [("index.mjs", ("index.mjs", b"x", JS))]}, 10021, id="no-metadata"
        ),
        pytest.param("s", form(None, raw_metadata=b"{not json"), 10026, id="metadata-not-json"),
        pytest.param("s", form(["a"]), 10021, id="metadata-not-object"),
        pytest.param("s", form({}), 10021, id="no-main-module"),
        pytest.param("s", form({"main_module": "other.mjs"}), 10021, id="main-module-not-a-part"),
        pytest.param("s", form({"main_module": "index.mjs"}, []), 10021, id="no-modules"),
        pytest.param(
            "s",
            form({"main_module": "index.mjs"}, [("index.mjs", b"x", "text/html")]),
            10021,
            id="content-type",
        ),
        pytest.param(
            "s",
            form({"main_module": "../index.mjs"}, [("../index.mjs", b"x", JS)]),
            10021,
            id="module-name",
        ),
        pytest.param(
            "s",
            form({"main_module": "index.mjs", "tags": [f"t{i}" for i in range(9)]}, OK_MODULE),
            10021,
            id="nine-tags",
        ),
        pytest.param(
            "s", form({"main_module": "index.mjs", "tags": ["a,b"]}), 10021, id="comma-in-tag"
        ),
        pytest.param(
            "s", form({"main_module": "index.mjs", "tags": ["a&b"]}), 10021, id="ampersand-in-tag"
        ),
        pytest.param(
            "s",
            form({"main_module": "index.mjs", "bindings": [{"type": "plain_text", "text": "x"}]}),
            10052,
            id="binding-without-name",
        ),
        pytest.param(
            "s",
            form({"main_module": "index.mjs", "compatibility_date": "soon"}),
            10021,
            id="compat-date",
        ),
        pytest.param(
            "s",
            {"content": b"addEventListener()", "headers": {"Content-Type": "text/plain"}},
            10001,
            id="not-multipart",
        ),  # fmt: skip
        pytest.param(
            "s",
            {"content": b"garbage", "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
            10026,
            id="malformed-multipart",
        ),
    ],
)
def test_invalid_uploads_are_refused_with_cloudflare_codes(api, ns, name, kwargs, code):
    response = api.put(f"{NS}/ns/scripts/{name}", **kwargs)
    # 415 for a content type Cloudflare does not take (cloudflare-python#2657).
    assert response.status_code == (415 if code == 10001 else 400)
    assert errors(response) == [code]
    assert api.get(f"{NS}/ns/scripts/{name}").status_code in (400, 404)


def test_uploads_over_the_size_limit_are_10027(api, ns):
    big = b"x" * (64 * 1024 * 1024 + 1)  # Cloudflare's 64 MiB, uncompressed
    response = api.put(
        f"{NS}/ns/scripts/big", **form({"main_module": "index.mjs"}, [("index.mjs", big, JS)])
    )
    assert response.status_code == 400 and errors(response) == [10027]


# -- tags ------------------------------------------------------------------------------------


def test_tags_get_put_add_and_remove(api, ns):
    upload(api, "t", tags=["a"])
    assert api.put(f"{NS}/ns/scripts/t/tags", json=["x", "y"]).json()["result"] == ["x", "y"]
    assert api.get(f"{NS}/ns/scripts/t/tags").json()["result"] == ["x", "y"]
    assert api.put(f"{NS}/ns/scripts/t/tags/z").json()["result"] is None
    assert api.delete(f"{NS}/ns/scripts/t/tags/x").json()["result"] is None
    assert api.get(f"{NS}/ns/scripts/t/tags").json()["result"] == ["y", "z"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param([f"t{i}" for i in range(9)], 10021, id="too-many"),
        pytest.param(["a,b"], 10021, id="comma"),
        pytest.param({"tags": ["a"]}, 10021, id="not-an-array"),
    ],
)
def test_invalid_tag_replacements_are_refused(api, ns, body, code):
    upload(api, "t", tags=["keep"])
    response = api.put(f"{NS}/ns/scripts/t/tags", json=body)
    assert response.status_code == 400 and errors(response) == [code]
    assert api.get(f"{NS}/ns/scripts/t/tags").json()["result"] == ["keep"]


def test_tags_of_a_missing_script_are_404(api, ns):
    assert errors(api.get(f"{NS}/ns/scripts/none/tags")) == [10007]
    assert errors(api.put(f"{NS}/ns/scripts/none/tags", json=["a"])) == [10007]


# -- listing -------------------------------------------------------------------------------


def test_list_paginates_with_an_opaque_cursor(api, ns):
    for i in range(7):
        upload(api, f"s{i}")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        body = api.get(f"{NS}/ns/scripts", params=params).json()
        seen += [s["id"] for s in body["result"]]
        pages += 1
        cursor = body["result_info"]["cursor"]
        if not cursor:
            break
        assert not cursor.startswith("s")  # opaque, not the name itself
    assert seen == [f"s{i}" for i in range(7)] and pages == 3


def test_list_filters_by_tags_yes_and_no(api, ns):
    upload(api, "a", tags=["m", "c1"])
    upload(api, "b", tags=["m", "c2"])
    upload(api, "c", tags=["c1"])

    def ids(tag_filter: str) -> list[str]:
        response = api.get(f"{NS}/ns/scripts", params={"tags": tag_filter})
        return [s["id"] for s in response.json()["result"]]

    assert ids("m:yes") == ["a", "b"]
    assert ids("m:yes,c1:no") == ["b"]
    assert ids("c1:yes,m:no") == ["c"]
    assert ids("nothing:yes") == []


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"limit": "0"}, id="limit-0"),
        pytest.param({"limit": "1001"}, id="limit-1001"),
        pytest.param({"limit": "ten"}, id="limit-text"),
        pytest.param({"cursor": "%%%"}, id="cursor"),
        pytest.param({"tags": "m:maybe"}, id="filter-mode"),
        pytest.param({"tags": "m"}, id="filter-no-mode"),
    ],
)
def test_invalid_list_parameters_are_400(api, ns, params):
    response = api.get(f"{NS}/ns/scripts", params=params)
    assert response.status_code == 400 and errors(response) == [10021]


def test_list_without_tags_mode_omits_tags(api, emulator, ns):
    upload(api, "a", tags=["m"])
    emulator.set_faults(FaultConfig(list_without_tags=True))
    (item,) = api.get(f"{NS}/ns/scripts").json()["result"]
    assert "tags" not in item and item["id"] == "a"
    # filtering still works: only the answer omits tags
    assert api.get(f"{NS}/ns/scripts", params={"tags": "m:no"}).json()["result"] == []


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param(FaultConfig(), id="flat"),
        pytest.param(FaultConfig(list_shape="wrapped"), id="wrapped"),
        pytest.param(FaultConfig(list_without_tags=True), id="without-tags"),
    ],
)
def test_listed_items_are_the_script_objects_as_they_are_now(api, emulator, ns, faults):
    """Items are built once and reused (emulator/listing.py): every later write shows."""
    from wfp_reconcile.local.emulator.responses import list_item

    emulator.set_faults(faults)
    upload(api, "a", tags=["m"], compatibility_date="2024-01-01")
    upload(api, "b", tags=["m"])

    def listed() -> list[dict[str, Any]]:
        response = api.get(f"{NS}/ns/scripts", params={"tags": "m:yes"})
        assert response.headers["content-type"] == "application/json"
        items: list[dict[str, Any]] = response.json()["result"]
        return items

    def expected(name: str) -> dict[str, Any]:
        row = emulator.state.store.get_script(ACCOUNT, "ns", name)
        wrapped = faults.list_shape == "wrapped"
        return list_item(row, "ns", include_tags=not faults.list_without_tags, wrapped=wrapped)

    assert listed() == [expected("a"), expected("b")]
    assert listed() == [expected("a"), expected("b")]  # the second time from what was built
    before = listed()
    api.put(f"{NS}/ns/scripts/a/tags", json=["m", "new"])
    upload(api, "b", tags=["m"], compatibility_date="2025-01-01")
    after = listed()
    assert after == [expected("a"), expected("b")] and after[1] != before[1]
    if not faults.list_without_tags:
        item = after[0]["script"] if faults.list_shape == "wrapped" else after[0]
        assert item["tags"] == ["m", "new"]


def test_delete_by_tag_is_recorded_and_refused(api, emulator, ns):
    upload(api, "a", tags=["m"])
    assert api.delete(f"{NS}/ns/scripts", params={"tags": "m:yes"}).status_code == 400
    assert emulator.count("delete_by_tag") == 1
    assert api.get(f"{NS}/ns/scripts/a").status_code == 200


# -- regular Workers -------------------------------------------------------------------------


def test_regular_worker_upload_list_settings_subdomain_delete(api):
    binding = {
        "type": "dispatch_namespace",
        "name": "DISPATCHER",
        "namespace": "ns",
        "outbound": {"worker": {"service": "outbound"}, "params": [{"name": "customer"}]},
    }
    meta = {"main_module": "index.mjs", "bindings": [binding], "tags": ["wfp-dispatcher"]}
    assert api.put(f"{WORKERS}/dispatcher", **form(meta)).status_code == 200
    listed = api.get(WORKERS).json()["result"]
    assert [w["id"] for w in listed] == ["dispatcher"]
    settings = api.get(f"{WORKERS}/dispatcher/settings").json()["result"]
    assert settings["tags"] == ["wfp-dispatcher"] and settings["bindings"] == [binding]
    assert api.get(f"{WORKERS}/dispatcher").content == b"export default {fetch() {}}"
    assert api.get(f"{WORKERS}/dispatcher/subdomain").json()["result"]["enabled"] is False
    enabled = api.post(f"{WORKERS}/dispatcher/subdomain", json={"enabled": True})
    assert enabled.json()["result"]["enabled"] is True
    assert api.get(f"/accounts/{ACCOUNT}/workers/subdomain").json()["result"]["subdomain"]
    assert api.post(f"{WORKERS}/dispatcher/subdomain", json={"on": 1}).status_code == 400
    assert api.delete(f"{WORKERS}/dispatcher").status_code == 200
    assert errors(api.delete(f"{WORKERS}/dispatcher")) == [10007]
    assert errors(api.post(f"{WORKERS}/dispatcher/subdomain", json={"enabled": True})) == [10007]


def test_regular_workers_and_namespaced_scripts_do_not_mix(api, ns):
    upload(api, "same")
    assert api.get(WORKERS).json()["result"] == []


# -- D1 ------------------------------------------------------------------------------------


@pytest.fixture
def db(api):
    created = api.post(D1, json={"name": "customers"}).json()["result"]
    return created["uuid"]


def test_d1_create_list_get_delete(api, db):
    assert [d["uuid"] for d in api.get(D1).json()["result"]] == [db]
    assert api.get(f"{D1}/{db}").json()["result"]["name"] == "customers"
    duplicate = api.post(D1, json={"name": "customers"})
    assert duplicate.status_code == 400
    assert api.delete(f"{D1}/{db}").status_code == 200
    assert api.get(f"{D1}/{db}").status_code == 404


def test_d1_query_with_params_returns_rows_and_meta(api, db):
    api.post(f"{D1}/{db}/query", json={"sql": "CREATE TABLE c (id TEXT, n INTEGER)"})
    insert = api.post(
        f"{D1}/{db}/query", json={"sql": "INSERT INTO c VALUES (?, ?)", "params": ["a", 1]}
    )  # noqa: E501
    assert insert.json()["result"][0]["meta"]["changes"] == 1
    rows = api.post(
        f"{D1}/{db}/query", json={"sql": "SELECT * FROM c WHERE id = ?", "params": ["a"]}
    )
    assert rows.json()["result"][0]["results"] == [{"id": "a", "n": 1}]


def test_d1_semicolon_statements_and_batches_give_one_result_each(api, db):
    multi = api.post(
        f"{D1}/{db}/query", json={"sql": "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('x;y')"}
    )
    assert len(multi.json()["result"]) == 2
    batch = api.post(
        f"{D1}/{db}/query",
        json={
            "batch": [
                {"sql": "INSERT INTO t VALUES (?)", "params": ["z"]},
                {"sql": "SELECT v FROM t ORDER BY v"},
            ]
        },  # noqa: E501
    )
    assert batch.json()["result"][1]["results"] == [{"v": "x;y"}, {"v": "z"}]
    raw = api.post(f"{D1}/{db}/raw", json={"sql": "SELECT v FROM t ORDER BY v"}).json()["result"]
    assert raw[0]["results"] == {"columns": ["v"], "rows": [["x;y"], ["z"]]}


def test_d1_batches_are_atomic(api, db):
    api.post(f"{D1}/{db}/query", json={"sql": "CREATE TABLE t (v TEXT UNIQUE)"})
    failed = api.post(
        f"{D1}/{db}/query",
        json={
            "batch": [{"sql": "INSERT INTO t VALUES ('a')"}, {"sql": "INSERT INTO nope VALUES (1)"}]
        },  # noqa: E501
    )
    assert failed.status_code == 400 and errors(failed) == [7500]
    rows = api.post(f"{D1}/{db}/query", json={"sql": "SELECT COUNT(*) AS n FROM t"})
    assert rows.json()["result"][0]["results"] == [{"n": 0}]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"nosql": 1}, id="no-sql"),
        pytest.param({"sql": "SELECT ?", "params": {"a": 1}}, id="params-not-list"),
        pytest.param({"batch": []}, id="empty-batch"),
    ],
)
def test_d1_malformed_bodies_are_400(api, db, body):
    assert api.post(f"{D1}/{db}/query", json=body).status_code == 400


def test_d1_unknown_database_is_404(api):
    assert api.post(f"{D1}/nope/query", json={"sql": "SELECT 1"}).status_code == 404


# -- internal endpoints --------------------------------------------------------------------


def test_bundle_endpoint_returns_the_contract_shape(api, emulator, ns):
    upload(
        api,
        "b",
        tags=["t"],
        compatibility_date="2024-01-01",
        compatibility_flags=["nodejs_compat"],
        limits={"cpu_ms": 10},
    )
    bundle = httpx.get(
        f"{emulator.url}/__emulator/bundles/{ACCOUNT}/ns/b", headers=emulator.internal_headers
    ).json()
    assert set(bundle) >= {
        "name", "etag", "main_module", "compatibility_date", "compatibility_flags", "bindings",
        "tags", "limits", "modules",
    }  # fmt: skip
    assert bundle["main_module"] == "index.mjs" and bundle["limits"] == {"cpu_ms": 10}
    (module,) = bundle["modules"]
    assert base64.b64decode(module["content_b64"]) == b"export default {fetch() {}}"
    assert (
        httpx.get(
            f"{emulator.url}/__emulator/bundles/{ACCOUNT}/ns/x", headers=emulator.internal_headers
        ).status_code
        == 404
    )
    assert (
        httpx.get(
            f"{emulator.url}/__emulator/workers/{ACCOUNT}/b", headers=emulator.internal_headers
        ).status_code
        == 404
    )


def test_state_version_increases_on_every_write(api, emulator, ns):
    def version() -> int:
        headers = emulator.internal_headers
        return int(httpx.get(f"{emulator.url}/__emulator/state", headers=headers).json()["version"])

    before = version()
    upload(api, "a")
    after_upload = version()
    api.get(f"{NS}/ns/scripts/a")
    assert version() == after_upload > before
    api.put(f"{NS}/ns/scripts/a/tags", json=["x"])
    assert version() > after_upload


def test_faults_and_requests_endpoints(api, emulator, ns):
    url = f"{emulator.url}/__emulator"
    h = emulator.internal_headers
    assert (
        httpx.post(f"{url}/faults", headers=h, json={"latency_ms": 1, "seed": 3}).status_code == 200
    )
    assert httpx.get(f"{url}/faults", headers=h).json()["latency_ms"] == 1
    assert httpx.post(f"{url}/faults", headers=h, json={"fail_5xx": 2}).status_code == 400
    assert httpx.post(f"{url}/faults", headers=h, json={"bogus": 1}).status_code == 400
    upload(api, "a")
    body = httpx.get(f"{url}/requests", headers=h, params={"kind": "upload_script"}).json()
    assert body["counts"]["upload_script"] == 1
    assert body["requests"][0]["path"].endswith("/scripts/a")
    assert httpx.post(f"{url}/requests/reset", headers=h).json() == {"reset": True}
    assert emulator.count() == 0 and emulator.requests() == []
