"""wrangler (pinned in package.json, run on Node 22) against the emulator: the deploy of a
regular Worker (services 10090, versions, deployments, script-settings), secrets,
``--dispatch-namespace`` deploys (10092), namespace rename, D1 from the command line."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx

from .conftest import ACCOUNT, read_bundle


def _code(text: str) -> str:
    return f'export default {{ fetch() {{ return new Response("{text}") }} }};\n'


def _project(root: Path, name: str, code: str, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.mjs").write_text(code)
    (root / "wrangler.toml").write_text(
        f'name = "{name}"\nmain = "index.mjs"\ncompatibility_date = "2024-09-01"\n{extra}'
    )
    return root


def _main_code(bundle: dict[str, object]) -> str:
    modules = {m["name"]: m for m in bundle["modules"]}  # type: ignore[attr-defined]
    return base64.b64decode(modules[bundle["main_module"]]["content_b64"]).decode()


def test_deploy_a_worker_then_secrets_survive_a_redeploy(emulator, wrangler, tmp_path):
    db = httpx.post(
        f"{emulator.api_base}/accounts/{ACCOUNT}/d1/database",
        json={"name": "app-db"},
        headers={"Authorization": f"Bearer {emulator.api_token}"},
    ).json()["result"]
    extra = (
        '[vars]\nGREETING = "hi"\n[limits]\ncpu_ms = 50\n'
        '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "app-db"\n'
        f'database_id = "{db["uuid"]}"\n'
    )
    project = _project(
        tmp_path / "w",
        "hello-w",
        _code("v1"),
        extra,
    )

    out = wrangler(project, "deploy")
    assert "Uploaded hello-w" in out
    bundle = read_bundle(emulator, None, "hello-w")
    assert 'new Response("v1")' in _main_code(bundle)
    assert bundle["compatibility_date"] == "2024-09-01"
    assert bundle["limits"] == {"cpu_ms": 50}
    kinds = {(b["type"], b["name"]) for b in bundle["bindings"]}
    assert {("plain_text", "GREETING"), ("d1", "DB")} <= kinds
    assert any(b.get("id") == db["uuid"] for b in bundle["bindings"] if b["type"] == "d1")

    wrangler(project, "secret", "put", "API_KEY", stdin="s3cret\n")
    assert "API_KEY" in wrangler(project, "secret", "list")

    # The second deploy goes through versions + deployments; the secret is kept.
    (project / "index.mjs").write_text(_code("v2"))
    out = wrangler(project, "deploy")
    assert "Current Version ID: " in out and "undefined" not in out
    bundle = read_bundle(emulator, None, "hello-w")
    assert 'new Response("v2")' in _main_code(bundle)
    assert {"type": "secret_text", "name": "API_KEY", "text": "s3cret"} in bundle["bindings"]
    kinds = {r.kind for r in emulator.requests()}
    assert {"get_service", "upload_worker", "upload_version", "create_deployment"} <= kinds

    wrangler(project, "secret", "delete", "API_KEY", stdin="y\n")
    assert json.loads(wrangler(project, "secret", "list", "--format", "json").strip()) == []


def test_dispatch_namespace_deploy_and_rename(emulator, wrangler, tmp_path):
    project = _project(tmp_path / "u", "user-w", _code("user"))
    wrangler(project, "dispatch-namespace", "create", "customers")
    wrangler(project, "deploy", "--dispatch-namespace", "customers")  # first: the GET says 10092
    wrangler(project, "deploy", "--dispatch-namespace", "customers")  # then: it exists
    assert 'new Response("user")' in _main_code(read_bundle(emulator, "customers", "user-w"))
    gets = [r for r in emulator.requests("get_script")]
    assert [r.status for r in gets[:2]] == [404, 200]

    wrangler(project, "dispatch-namespace", "rename", "customers", "tenants")
    listed = wrangler(project, "dispatch-namespace", "list")
    assert "tenants" in listed and "customers" not in listed
    assert read_bundle(emulator, "tenants", "user-w")["name"] == "user-w"


def test_d1_execute_remote_writes_rows(emulator, wrangler, tmp_path):
    project = _project(tmp_path / "d", "d1-w", "export default {};\n")
    wrangler(project, "d1", "create", "orders")
    wrangler(
        project, "d1", "execute", "orders", "--remote", "-y", "--command",
        "CREATE TABLE o (id INTEGER PRIMARY KEY, item TEXT); INSERT INTO o (item) VALUES ('tea')",
    )  # fmt: skip
    with httpx.Client(
        base_url=emulator.api_base, headers={"Authorization": f"Bearer {emulator.api_token}"}
    ) as api:
        (db,) = api.get(f"/accounts/{ACCOUNT}/d1/database", params={"name": "orders"}).json()[
            "result"
        ]
        rows = api.post(
            f"/accounts/{ACCOUNT}/d1/database/{db['uuid']}/query",
            json={"sql": "SELECT item FROM o"},
        ).json()["result"][0]["results"]
    assert rows == [{"item": "tea"}]
