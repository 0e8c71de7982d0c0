"""The emulator answers the requests official clients send, as Cloudflare does.

Requests here are built byte-for-byte in the shapes the clients send (see
tests/conformance for the clients themselves): the Python SDK's `files` parts, wrangler's
part-name-is-filename, settings PATCH, secrets, wrangler's deploy reads, D1 paging.
"""

from __future__ import annotations

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
CODE = b"export default { fetch() { return new Response('ok') } }"


@pytest.fixture
def api(emulator):
    with httpx.Client(
        base_url=emulator.api_base, headers={"Authorization": f"Bearer {emulator.api_token}"}
    ) as client:
        yield client


@pytest.fixture
def ns(api):
    assert api.post(NS, json={"name": "ns"}).status_code == 200
    return "ns"


def codes(response: httpx.Response) -> list[int]:
    return [e["code"] for e in response.json()["errors"]]


def python_sdk_form(metadata: dict[str, Any], modules: dict[str, bytes]) -> dict[str, Any]:
    # cloudflare 5.9.0: metadata is a JSON field, every module a part named `files`
    # whose file name is the module name.
    files: list[tuple[str, Any]] = [("metadata", (None, json.dumps(metadata), "application/json"))]
    files += [("files", (name, body, JS)) for name, body in modules.items()]
    return {"files": files}


def wrangler_form(metadata: dict[str, Any], modules: dict[str, bytes]) -> dict[str, Any]:
    files: list[tuple[str, Any]] = [
        ("metadata", ("metadata.json", json.dumps(metadata), "application/json"))
    ]
    files += [(name, (name, body, JS)) for name, body in modules.items()]
    return {"files": files}


def bundle(emulator, path: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {emulator.api_token}"}
    return httpx.get(f"{emulator.url}/__emulator/{path}", headers=headers).json()


@pytest.mark.parametrize("shape", [python_sdk_form, wrangler_form])
def test_modules_are_identified_by_filename(api, emulator, ns, shape):
    modules = {"index.mjs": CODE, "lib/util.mjs": b"export const x = 1;"}
    meta = {"main_module": "index.mjs", "compatibility_date": "2024-09-01"}
    response = api.put(f"{NS}/ns/scripts/s", **shape(meta, modules))
    assert response.status_code == 200, response.text
    stored = bundle(emulator, f"bundles/{ACCOUNT}/ns/s")
    assert [m["name"] for m in stored["modules"]] == ["index.mjs", "lib/util.mjs"]
    assert stored["main_module"] == "index.mjs"


def test_two_parts_with_the_same_filename_are_refused(api, ns):
    files = [
        ("metadata", (None, json.dumps({"main_module": "a.mjs"}), "application/json")),
        ("files", ("a.mjs", CODE, JS)),
        ("files", ("a.mjs", CODE, JS)),
    ]
    response = api.put(f"{NS}/ns/scripts/s", files=files)
    assert response.status_code == 400 and codes(response) == [10021]


def test_a_multipart_body_labelled_javascript_fails_like_cloudflare(api, ns):
    # The TS SDK 7.x upload (cloudflare-typescript#2799): Cloudflare evaluates the body as
    # a service-worker script and reports a SyntaxError at its first line.
    body = b'--boundary\r\nContent-Disposition: form-data; name="metadata[main_module]"\r\n'
    response = api.put(
        f"{NS}/ns/scripts/s", content=body, headers={"Content-Type": "application/javascript"}
    )
    assert response.status_code == 400 and codes(response) == [10021]
    assert "SyntaxError" in response.json()["errors"][0]["message"]
    assert api.get(f"{NS}/ns/scripts/s").status_code == 404


def test_a_raw_service_worker_script_is_an_upload(api, emulator, ns):
    body = b"addEventListener('fetch', e => e.respondWith(new Response('sw')))"
    response = api.put(
        f"{NS}/ns/scripts/sw", content=body, headers={"Content-Type": "application/javascript"}
    )
    assert response.status_code == 200, response.text
    stored = bundle(emulator, f"bundles/{ACCOUNT}/ns/sw")
    assert stored["main_module"] == "worker.js"
    assert stored["modules"][0]["content_type"] == "application/javascript"


def test_missing_namespaced_script_is_10092_and_missing_service_is_10090(api, ns):
    # wrangler's deploy mocks: only these codes mean "not created yet" on these paths.
    assert codes(api.get(f"{NS}/ns/scripts/nope")) == [10092]
    missing_service = api.get(f"/accounts/{ACCOUNT}/workers/services/nope")
    assert missing_service.status_code == 404 and codes(missing_service) == [10090]
    # other paths keep 10007 (workers.api.error.script_not_found)
    assert codes(api.get(f"{NS}/ns/scripts/nope/settings")) == [10007]
    assert codes(api.delete(f"{WORKERS}/nope")) == [10007]


def upload(api, path: str, **metadata: Any) -> None:
    metadata.setdefault("main_module", "index.mjs")
    response = api.put(path, **wrangler_form(metadata, {"index.mjs": CODE}))
    assert response.status_code == 200, response.text


def settings_form(settings: dict[str, Any]) -> dict[str, Any]:
    return {"files": [("settings", (None, json.dumps(settings), "application/json"))]}


@pytest.mark.parametrize("where", ["namespaced", "regular"])
def test_settings_patch_changes_only_what_it_names(api, ns, where):
    path = f"{NS}/ns/scripts/s" if where == "namespaced" else f"{WORKERS}/s"
    upload(api, path, compatibility_date="2024-09-01", logpush=False, tags=["a"],
           bindings=[{"type": "plain_text", "name": "V", "text": "1"}])  # fmt: skip
    response = api.patch(f"{path}/settings", **settings_form({"logpush": True, "tags": ["b"]}))
    assert response.status_code == 200, response.text
    got = api.get(f"{path}/settings").json()["result"]
    assert got["logpush"] is True and got["tags"] == ["b"]
    assert got["compatibility_date"] == "2024-09-01"
    assert got["bindings"] == [{"type": "plain_text", "name": "V", "text": "1"}]
    assert "placement" not in got  # `placement: {}` matches no variant of the SDK types


def test_settings_patch_of_bindings_keeps_secret_values_it_cannot_read(api, emulator, ns):
    upload(api, f"{NS}/ns/scripts/s",
           bindings=[{"type": "secret_text", "name": "S", "text": "hunter2"}])  # fmt: skip
    shown = api.get(f"{NS}/ns/scripts/s/settings").json()["result"]["bindings"]
    assert shown == [{"type": "secret_text", "name": "S"}]
    response = api.patch(
        f"{NS}/ns/scripts/s/settings",
        **settings_form({"bindings": [*shown, {"type": "plain_text", "name": "P", "text": "x"}]}),
    )
    assert response.status_code == 200, response.text
    stored = bundle(emulator, f"bundles/{ACCOUNT}/ns/s")["bindings"]
    assert {"type": "secret_text", "name": "S", "text": "hunter2"} in stored


def test_settings_patch_without_a_settings_part_is_refused(api, ns):
    upload(api, f"{NS}/ns/scripts/s")
    flattened = {"files": [("settings[logpush]", (None, "true"))]}  # the TS SDK 7.x shape
    response = api.patch(f"{NS}/ns/scripts/s/settings", **flattened)
    assert response.status_code == 400 and codes(response) == [10021]


@pytest.mark.parametrize("where", ["namespaced", "regular"])
def test_secrets_put_list_get_delete_never_return_values(api, emulator, ns, where):
    path = f"{NS}/ns/scripts/s" if where == "namespaced" else f"{WORKERS}/s"
    upload(api, path)
    put = api.put(f"{path}/secrets", json={"name": "TOKEN", "text": "v1", "type": "secret_text"})
    assert put.status_code == 200 and put.json()["result"] == {
        "name": "TOKEN",
        "type": "secret_text",
    }
    api.put(f"{path}/secrets", json={"name": "TOKEN", "text": "v2", "type": "secret_text"})
    listed = api.get(f"{path}/secrets")
    assert listed.json()["result"] == [{"name": "TOKEN", "type": "secret_text"}]
    assert "v2" not in listed.text and "v2" not in api.get(f"{path}/settings").text
    assert api.get(f"{path}/secrets/TOKEN").json()["result"] == {
        "name": "TOKEN",
        "type": "secret_text",
    }
    kind = "bundles/" + f"{ACCOUNT}/ns/s" if where == "namespaced" else f"workers/{ACCOUNT}/s"
    assert {"type": "secret_text", "name": "TOKEN", "text": "v2"} in bundle(emulator, kind)[
        "bindings"
    ]
    assert api.delete(f"{path}/secrets/TOKEN").status_code == 200
    assert api.get(f"{path}/secrets").json()["result"] == []
    assert api.get(f"{path}/secrets/TOKEN").status_code == 404


def test_secrets_of_a_missing_script_are_404_and_a_var_name_is_taken(api, ns):
    missing = api.put(f"{NS}/ns/scripts/x/secrets", json={"name": "A", "text": "b"})
    assert missing.status_code == 404 and codes(missing) == [10007]
    upload(api, f"{NS}/ns/scripts/s", bindings=[{"type": "plain_text", "name": "A", "text": "1"}])
    taken = api.put(f"{NS}/ns/scripts/s/secrets", json={"name": "A", "text": "b"})
    assert taken.status_code == 400 and codes(taken) == [10053]


def test_secrets_survive_an_upload_only_with_keep_bindings(api, emulator, ns):
    path = f"{NS}/ns/scripts/s"
    upload(api, path)
    api.put(f"{path}/secrets", json={"name": "K", "text": "kept", "type": "secret_text"})
    upload(api, path, keep_bindings=["secret_text"])
    assert api.get(f"{path}/secrets").json()["result"] == [{"name": "K", "type": "secret_text"}]
    upload(api, path)
    assert api.get(f"{path}/secrets").json()["result"] == []
    assert bundle(emulator, f"bundles/{ACCOUNT}/ns/s")["bindings"] == []


def test_content_v2_returns_the_module(api):
    upload(api, f"{WORKERS}/w")
    response = api.get(f"{WORKERS}/w/content/v2")
    assert response.status_code == 200 and response.content == CODE


def test_namespace_put_renames_and_sets_trusted_workers(api, ns):
    upload(api, f"{NS}/ns/scripts/s", tags=["t"])
    response = api.put(f"{NS}/ns", json={"name": "ns2", "trusted_workers": True})
    assert response.status_code == 200, response.text
    assert response.json()["result"]["namespace_name"] == "ns2"
    assert response.json()["result"]["trusted_workers"] is True
    assert api.get(f"{NS}/ns").status_code == 404
    moved = api.get(f"{NS}/ns2/scripts", params={"tags": "t:yes"}).json()["result"]
    assert [s["id"] for s in moved] == ["s"]
    api.post(NS, json={"name": "other"})
    assert api.put(f"{NS}/ns2", json={"name": "other"}).status_code == 409


def test_service_deployments_versions_and_beta_worker_after_an_upload(api):
    upload(api, f"{WORKERS}/w", tags=["x"])
    service = api.get(f"/accounts/{ACCOUNT}/workers/services/w").json()["result"]
    assert service["id"] == "w" and service["default_environment"]["script"]["tags"] == ["x"]
    deployments = api.get(f"{WORKERS}/w/deployments").json()["result"]["deployments"]
    assert deployments[0]["versions"][0]["percentage"] == 100
    assert api.get(f"/accounts/{ACCOUNT}/workers/workers/w").json()["result"]["name"] == "w"
    assert api.get(f"/accounts/{ACCOUNT}/workers/workers/nope").status_code == 404


def test_a_version_goes_live_only_when_deployed(api):
    upload(api, f"{WORKERS}/w")
    form = wrangler_form({"main_module": "index.mjs"}, {"index.mjs": b"export default {} // v2"})
    version = api.post(f"{WORKERS}/w/versions", **form).json()["result"]
    assert api.get(f"{WORKERS}/w/content/v2").content == CODE
    body = {
        "strategy": "percentage",
        "versions": [{"version_id": version["id"], "percentage": 100}],
    }
    assert api.post(f"{WORKERS}/w/deployments", json=body).status_code == 200
    assert api.get(f"{WORKERS}/w/content/v2").content == b"export default {} // v2"
    assert api.post(f"{WORKERS}/w/deployments", json=body).status_code == 404


def test_script_settings_patch_is_json(api):
    upload(api, f"{WORKERS}/w")
    response = api.patch(f"{WORKERS}/w/script-settings", json={"logpush": True, "tags": ["t"]})
    assert response.status_code == 200, response.text
    assert response.json()["result"]["tags"] == ["t"]
    assert api.get(f"{WORKERS}/w/settings").json()["result"]["logpush"] is True


def test_d1_list_pages_and_ends(api):
    for i in range(5):
        assert api.post(D1, json={"name": f"db{i}"}).status_code == 200
    seen, page = [], 1
    while True:
        body = api.get(D1, params={"page": page, "per_page": 2}).json()
        seen += [d["name"] for d in body["result"]]
        assert body["result_info"]["total_count"] == 5
        if page >= body["result_info"]["total_pages"]:
            break
        page += 1
    assert seen == [f"db{i}" for i in range(5)]
    assert api.get(D1, params={"page": 9, "per_page": 2}).json()["result"] == []
    assert [d["name"] for d in api.get(D1, params={"name": "db3"}).json()["result"]] == ["db3"]


def test_d1_by_name_and_meta_served_by(api):
    created = api.post(D1, json={"name": "orders"}).json()["result"]
    found = api.get(f"{D1}/orders", params={"fields": "uuid,name"}).json()["result"]
    assert found == {"uuid": created["uuid"], "name": "orders"}
    meta = api.post(f"{D1}/orders/query", json={"sql": "SELECT 1 AS one"}).json()["result"][0][
        "meta"
    ]
    assert "served_by" not in meta
    assert {"served_by_colo", "served_by_primary", "served_by_region"} <= set(meta)


def test_wrapped_list_mode_serves_the_openapi_item_shape(api, emulator, ns):
    upload(api, f"{NS}/ns/scripts/s", tags=["t"])
    emulator.set_faults(FaultConfig(list_shape="wrapped"))
    item = api.get(f"{NS}/ns/scripts").json()["result"][0]
    assert item["dispatch_namespace"] == "ns"
    assert item["script"]["id"] == "s" and item["script"]["tags"] == ["t"]
    assert "id" not in item
