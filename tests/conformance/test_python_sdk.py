"""The official Python SDK (``cloudflare``, pinned in package.json) against the emulator."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from . import clients
from .conftest import ACCOUNT, INSTALL_HINT, read_bundle

JS = "application/javascript+module"
MAIN = b"import { x } from './lib/x.mjs'; export default { fetch() { return new Response(x) } }"
LIB = b"export const x = 'from lib';"
# A Worker with no imports: Cloudflare (and the emulator) refuse an import of a module not
# uploaded with it.
SOLO = b"export default { fetch() { return new Response('solo') } }"

pytestmark = pytest.mark.skipif(
    bool(clients.python_missing()), reason=f"the Python SDK is not installed: {INSTALL_HINT}"
)


@pytest.fixture
def cf(emulator):
    import cloudflare

    with cloudflare.Cloudflare(
        api_token=emulator.api_token, base_url=emulator.api_base, max_retries=0
    ) as client:
        yield client


def modules(contents: dict[str, bytes]) -> dict[str, bytes]:
    return {m["name"]: base64.b64decode(m["content_b64"]) for m in contents["modules"]}


def test_namespaced_script_lifecycle(cf, emulator):
    ns = cf.workers_for_platforms.dispatch.namespaces.create(account_id=ACCOUNT, name="tenants")
    assert ns.namespace_name == "tenants" and ns.namespace_id
    scripts = cf.workers_for_platforms.dispatch.namespaces.scripts
    uploaded = scripts.update(
        "hello",
        account_id=ACCOUNT,
        dispatch_namespace="tenants",
        metadata={
            "main_module": "index.mjs",
            "compatibility_date": "2024-09-01",
            "tags": ["acme", "plan-basic"],
            "limits": {"cpu_ms": 50},
            "bindings": [
                {"type": "plain_text", "name": "GREETING", "text": "hi"},
                {"type": "secret_text", "name": "API_KEY", "text": "s3cret"},
            ],
        },
        files=[("index.mjs", MAIN, JS), ("lib/x.mjs", LIB, JS)],
    )
    assert uploaded.id == "hello" and uploaded.etag
    stored = read_bundle(emulator, "tenants", "hello")
    assert modules(stored) == {"index.mjs": MAIN, "lib/x.mjs": LIB}
    assert stored["main_module"] == "index.mjs" and stored["limits"] == {"cpu_ms": 50}
    assert sorted(stored["tags"]) == ["acme", "plan-basic"]

    got = scripts.get("hello", account_id=ACCOUNT, dispatch_namespace="tenants")
    assert got.script.id == "hello" and got.dispatch_namespace == "tenants"

    tags = scripts.tags.update(
        "hello", account_id=ACCOUNT, dispatch_namespace="tenants", body=["acme", "plan-pro"]
    )
    assert sorted(tags.result) == ["acme", "plan-pro"]
    listed = scripts.tags.list("hello", account_id=ACCOUNT, dispatch_namespace="tenants")
    assert sorted(listed.result) == ["acme", "plan-pro"]

    settings = scripts.settings.get("hello", account_id=ACCOUNT, dispatch_namespace="tenants")
    names = {(b.name, b.type) for b in settings.bindings or []}
    assert names == {("GREETING", "plain_text"), ("API_KEY", "secret_text")}
    assert "s3cret" not in settings.model_dump_json()

    edited = scripts.settings.edit(
        "hello", account_id=ACCOUNT, dispatch_namespace="tenants",
        settings={"logpush": True, "limits": {"cpu_ms": 100}},
    )  # fmt: skip
    assert edited.logpush is True
    assert read_bundle(emulator, "tenants", "hello")["limits"] == {"cpu_ms": 100}

    secrets = scripts.secrets
    secrets.update("hello", account_id=ACCOUNT, dispatch_namespace="tenants",
                   name="DB_PASSWORD", text="pw", type="secret_text")  # fmt: skip
    listed_secrets = secrets.list("hello", account_id=ACCOUNT, dispatch_namespace="tenants")
    assert {s.name for s in listed_secrets} == {"API_KEY", "DB_PASSWORD"}
    one = secrets.get("DB_PASSWORD", account_id=ACCOUNT, dispatch_namespace="tenants",
                      script_name="hello")  # fmt: skip
    assert one.name == "DB_PASSWORD" and "pw" not in one.model_dump_json()
    bindings = read_bundle(emulator, "tenants", "hello")["bindings"]
    assert {"type": "secret_text", "name": "DB_PASSWORD", "text": "pw"} in bindings
    secrets.delete("DB_PASSWORD", account_id=ACCOUNT, dispatch_namespace="tenants",
                   script_name="hello")  # fmt: skip
    assert {s.name for s in secrets.list("hello", account_id=ACCOUNT,
                                         dispatch_namespace="tenants")} == {"API_KEY"}  # fmt: skip

    content = scripts.content.get("hello", account_id=ACCOUNT, dispatch_namespace="tenants")
    assert MAIN in content.read()

    scripts.delete("hello", account_id=ACCOUNT, dispatch_namespace="tenants")
    import cloudflare

    with pytest.raises(cloudflare.NotFoundError):
        scripts.get("hello", account_id=ACCOUNT, dispatch_namespace="tenants")


def test_regular_worker_settings_secrets_and_content(cf, emulator):
    workers = cf.workers.scripts
    workers.update(
        "dispatcher",
        account_id=ACCOUNT,
        metadata={"main_module": "index.mjs", "compatibility_date": "2024-09-01",
                  "bindings": [{"type": "dispatch_namespace", "name": "NS", "namespace": "t"}]},
        files=[("index.mjs", SOLO, JS)],
    )  # fmt: skip
    assert modules(read_bundle(emulator, None, "dispatcher")) == {"index.mjs": SOLO}
    workers.script_and_version_settings.edit(
        "dispatcher", account_id=ACCOUNT, settings={"logpush": True, "tags": ["platform"]}
    )
    got = workers.script_and_version_settings.get("dispatcher", account_id=ACCOUNT)
    assert got.logpush is True and got.tags == ["platform"]
    script_settings = workers.settings.edit("dispatcher", account_id=ACCOUNT, logpush=False)
    assert script_settings.logpush is False
    workers.secrets.update("dispatcher", account_id=ACCOUNT, name="TOKEN", text="t0k",
                           type="secret_text")  # fmt: skip
    assert [s.name for s in workers.secrets.list("dispatcher", account_id=ACCOUNT)] == ["TOKEN"]
    assert workers.content.get("dispatcher", account_id=ACCOUNT).read() == SOLO
    # An upload that does not keep secret_text drops the secret, as on Cloudflare.
    workers.update("dispatcher", account_id=ACCOUNT,
                   metadata={"main_module": "index.mjs", "keep_bindings": ["secret_text"]},
                   files=[("index.mjs", SOLO, JS)])  # fmt: skip
    assert [s.name for s in workers.secrets.list("dispatcher", account_id=ACCOUNT)] == ["TOKEN"]
    workers.update("dispatcher", account_id=ACCOUNT, metadata={"main_module": "index.mjs"},
                   files=[("index.mjs", SOLO, JS)])  # fmt: skip
    assert list(workers.secrets.list("dispatcher", account_id=ACCOUNT)) == []


def test_d1_auto_pagination_ends_and_rows_come_back(cf):
    created = [cf.d1.database.create(account_id=ACCOUNT, name=f"db-{i:02d}") for i in range(7)]
    names = [db.name for db in cf.d1.database.list(account_id=ACCOUNT, per_page=3)]
    assert names == [f"db-{i:02d}" for i in range(7)]  # every page once, then it stops
    db = created[0].uuid
    cf.d1.database.query(db, account_id=ACCOUNT, sql="CREATE TABLE t (k TEXT, v INTEGER)")
    cf.d1.database.query(db, account_id=ACCOUNT, sql="INSERT INTO t VALUES (?, ?)",
                         params=["a", "1"])  # fmt: skip
    pages = cf.d1.database.query(db, account_id=ACCOUNT, sql="SELECT k, v FROM t")
    (result,) = list(pages)
    assert result.results == [{"k": "a", "v": 1}]
    assert result.meta is not None and result.meta.served_by_primary is True
    raw = list(cf.d1.database.raw(db, account_id=ACCOUNT, sql="SELECT k, v FROM t"))
    assert raw[0].results.columns == ["k", "v"] and raw[0].results.rows == [["a", 1]]


def test_namespace_rename_and_trusted_workers_over_http(cf, emulator):
    cf.workers_for_platforms.dispatch.namespaces.create(account_id=ACCOUNT, name="old")
    # Neither SDK has the namespace PUT (wrangler's `dispatch-namespace rename` and the
    # trusted-mode docs use it): send it through the SDK's generic request method.
    renamed: Any = cf.put(
        f"/accounts/{ACCOUNT}/workers/dispatch/namespaces/old",
        body={"name": "new", "trusted_workers": True},
        cast_to=object,
    )
    assert renamed["result"]["namespace_name"] == "new"
    got = cf.workers_for_platforms.dispatch.namespaces.get("new", account_id=ACCOUNT)
    assert got.trusted_workers is True
