"""The asset upload protocol against the emulator over HTTP: sessions, buckets, JWTs."""

from __future__ import annotations

import base64

import httpx
import pytest

from wfp_reconcile.assets import build_manifest, customer_salt
from wfp_reconcile.assets.sync import sync_assets
from wfp_reconcile.bundle import Module, ScriptUpload
from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.cloudflare.assets import BucketFile, create_upload_session, upload_bucket
from wfp_reconcile.errors import ApiError, redact
from wfp_reconcile.local.emulator import EmulatorServer

EMULATOR_ACCOUNT = "0123456789abcdef0123456789abcdef"  # tests/conftest.py

NS = "assets-ns"
WORKER = b"export default { fetch(r, env) { return env.ASSETS.fetch(r); } };"


def _site(customer: str, extra: dict[str, bytes] | None = None) -> tuple[object, dict[str, bytes]]:
    pages = {"/index.html": b"<h1>home</h1>", "/style.css": b"h1{color:red}", **(extra or {})}
    files = {f"customers/{customer}/public{p}": c for p, c in pages.items()}
    manifest = build_manifest(
        [(p, f"customers/{customer}/public{p}", c) for p, c in pages.items()],
        customer_salt(customer),
    )
    return manifest, files


def _upload(
    client: CloudflareClient, name: str, assets: dict[str, object] | None = None, keep: bool = False
) -> None:
    metadata: dict[str, object] = {"main_module": "w.mjs", "compatibility_date": "2025-04-01"}
    if assets is not None:
        metadata["assets"] = assets
    if keep:
        metadata["keep_assets"] = True
    metadata["bindings"] = [{"type": "assets", "name": "ASSETS"}]
    client.upload_script(
        NS,
        name,
        ScriptUpload(metadata, (Module("w.mjs", WORKER, "application/javascript+module"),)),
    )


def _has_assets(emulator: EmulatorServer, name: str) -> bool:
    path = f"/accounts/{EMULATOR_ACCOUNT}/workers/dispatch/namespaces/{NS}/scripts/{name}"
    url = emulator.api_base + path
    answer = httpx.get(url, headers={"Authorization": f"Bearer {emulator.api_token}"}).json()
    return bool(answer["result"]["script"]["has_assets"])


@pytest.fixture
def client(emulator_client: CloudflareClient) -> CloudflareClient:
    emulator_client.ensure_namespace(NS)
    return emulator_client


def test_first_upload_sends_every_file_then_nothing(
    client: CloudflareClient, emulator: EmulatorServer
) -> None:
    manifest, files = _site("shop")
    result = sync_assets(client, NS, "shop-site", manifest, files)  # type: ignore[arg-type]
    assert (result.buckets, result.files) == (1, 2)
    _upload(
        client, "shop-site", {"jwt": result.jwt, "config": {"html_handling": "auto-trailing-slash"}}
    )
    assert _has_assets(emulator, "shop-site") is True
    emulator.reset_requests()
    again = sync_assets(client, NS, "shop-site", manifest, files)  # type: ignore[arg-type]
    assert (again.buckets, again.files) == (0, 0)
    assert emulator.count("assets_upload_session") == 1 and emulator.count("assets_upload") == 0


def test_one_changed_file_is_one_bucket_of_one_file(
    client: CloudflareClient, emulator: EmulatorServer
) -> None:
    manifest, files = _site("shop")
    sync_assets(client, NS, "shop-site", manifest, files)  # type: ignore[arg-type]
    changed, changed_files = _site("shop", {"/style.css": b"h1{color:blue}"})
    emulator.reset_requests()
    result = sync_assets(client, NS, "shop-site", changed, changed_files)  # type: ignore[arg-type]
    assert (result.buckets, result.files) == (1, 1)
    (record,) = emulator.requests("assets_upload")
    assert record.query == "base64=true"


def test_dedupe_is_per_customer_because_of_the_salt(client: CloudflareClient) -> None:
    shop, shop_files = _site("shop")
    other, other_files = _site("other")  # the very same bytes
    sync_assets(client, NS, "shop-site", shop, shop_files)  # type: ignore[arg-type]
    # Without the salt the namespace would answer "already uploaded" for the other
    # tenant's identical files; with it, the other customer uploads its own copy.
    result = sync_assets(client, NS, "other-site", other, other_files)  # type: ignore[arg-type]
    assert result.files == 2


def test_upload_needs_the_session_jwt_not_the_api_token(
    client: CloudflareClient, emulator: EmulatorServer
) -> None:
    manifest, _ = _site("shop")
    session = create_upload_session(client, NS, "shop-site", manifest.to_api())  # type: ignore[attr-defined]
    file = manifest.files[0]  # type: ignore[attr-defined]
    with pytest.raises(ApiError) as info:
        upload_bucket(
            client, emulator.api_token, [BucketFile(file.hash, b"x" * file.size, "text/html")]
        )
    assert info.value.status == 401
    # A hash outside the session's manifest is refused too.
    with pytest.raises(ApiError) as info:
        upload_bucket(client, session.jwt, [BucketFile("0" * 32, b"x", "text/plain")])
    assert info.value.status == 400
    assert session.jwt not in redact(str(info.value))


def test_expired_tokens_are_refused(client: CloudflareClient, emulator: EmulatorServer) -> None:
    emulator.state.assets.ttl_seconds = -1
    manifest, files = _site("shop")
    with pytest.raises(Exception, match="took longer than its token lasts"):
        sync_assets(client, NS, "shop-site", manifest, files)  # type: ignore[arg-type]


def test_script_upload_checks_the_completion_token(client: CloudflareClient) -> None:
    manifest, files = _site("shop")
    session = create_upload_session(client, NS, "shop-site", manifest.to_api())  # type: ignore[attr-defined]
    with pytest.raises(ApiError) as info:  # an upload token is not a completion token
        _upload(client, "shop-site", {"jwt": session.jwt})
    assert info.value.status == 401
    done = sync_assets(client, NS, "shop-site", manifest, files)  # type: ignore[arg-type]
    with pytest.raises(ApiError, match="another script"):
        _upload(client, "other-site", {"jwt": done.jwt})


def test_keep_assets_keeps_and_leaving_it_out_drops(
    client: CloudflareClient, emulator: EmulatorServer
) -> None:
    manifest, files = _site("shop")
    done = sync_assets(client, NS, "shop-site", manifest, files)  # type: ignore[arg-type]
    _upload(client, "shop-site", {"jwt": done.jwt, "config": {"not_found_handling": "404-page"}})
    emulator.reset_requests()
    _upload(client, "shop-site", keep=True)
    assert emulator.count("assets_upload_session") == 0
    bundle = httpx.get(
        f"{emulator.url}/__emulator/bundles/{EMULATOR_ACCOUNT}/{NS}/shop-site",
        headers=emulator.internal_headers,
    ).json()
    assert bundle["assets"]["config"] == {"not_found_handling": "404-page"}
    digest = bundle["assets"]["manifest"]["/style.css"]["hash"]
    blob = httpx.get(
        f"{emulator.url}/__emulator/assets/{EMULATOR_ACCOUNT}/{NS}/{digest}",
        headers=emulator.internal_headers,
    )
    assert blob.content == b"h1{color:red}" and blob.headers["content-type"].startswith("text/css")
    _upload(client, "shop-site")
    assert _has_assets(emulator, "shop-site") is False


def test_bucket_parts_are_base64_named_by_hash(
    client: CloudflareClient, emulator: EmulatorServer
) -> None:
    manifest, _ = _site("shop")
    session = create_upload_session(client, NS, "shop-site", manifest.to_api())  # type: ignore[attr-defined]
    (bucket,) = session.buckets
    by_hash = manifest.by_hash()  # type: ignore[attr-defined]
    contents = {"/index.html": b"<h1>home</h1>", "/style.css": b"h1{color:red}"}
    files = [BucketFile(h, contents[by_hash[h].path], by_hash[h].content_type) for h in bucket]
    assert upload_bucket(client, session.jwt, files)
    stored = emulator.state.assets.blob(EMULATOR_ACCOUNT, NS, files[0].hash)
    assert stored is not None and stored[1] == contents[by_hash[files[0].hash].path]
    assert base64.b64encode(stored[1])  # stored decoded, not as the base64 text
