"""routing_data: store with pre-flight skips: a customer's broken uploads must not change
what the other customers' scripts route to, a skipped script gets no record (new) or keeps
its deployed fingerprint (update), and the index vouches for exactly the stored records.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from typing import Any

import pytest
from tests.engine.conftest import ACCOUNT
from tests.engine.test_routing_store import KV_ID, store_repo  # noqa: F401 (a fixture)

from wfp_reconcile.dispatcher.records import INDEX_KEYS

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="pre-flight needs the runtime"),
    pytest.mark.workerd,
]


def _record(cf: Any, key: str) -> Any:
    found = cf.state.store.kv_get(ACCOUNT, KV_ID, key)
    return None if found is None else json.loads(found[1])


def _stored_digest(cf: Any, customer: str) -> str:
    """The digest of the records stored for ``customer`` (as build_records computes it)."""
    own = _record(cf, f"c:{customer}")
    digest = hashlib.sha256()
    for key in sorted(own["keys"]):
        raw = cf.state.store.kv_get(ACCOUNT, KV_ID, key)
        assert raw is not None, f"{key} is listed by c:{customer} but not stored"
        digest.update(key.encode() + b"\0" + raw[1] + b"\n")
    return digest.hexdigest()[:32]


def _index(cf: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in INDEX_KEYS:
        shard = _record(cf, key)
        if shard is not None:
            out.update(shard["customers"])
    return out


def test_skipped_uploads_route_as_deployed_and_the_index_matches_the_records(
    store_repo,  # noqa: F811
    cf,
    run,
) -> None:
    code, out, err = run("apply", "--repo", str(store_repo.root), "--auto-approve")
    assert code == 0, out + err
    web_before = _record(cf, "s:acme-web")
    beta_before = _record(cf, "s:beta-hello")

    acme = store_repo.root / "customers" / "acme"
    (acme / "acme-web.mjs").write_text("throw new Error('broken update');\n")
    (acme / "acme-new.mjs").write_text("export const nothing = 1;\n")  # no default export
    store_repo.customer(
        "acme",
        {
            "acme-web": {},
            "acme-api": {"access": "token", "limits": {"cpu_ms": 10}},
            "acme-new": {},
        },
        tokens=[{"name": "ci", "sha256": hashlib.sha256(b"acme-token").hexdigest()}],
        outbound={"worker": "egress", "params": {"allow_hosts": ["api.example.com"]}},
    )
    (store_repo.root / "customers" / "beta" / "beta-hello.mjs").write_text(
        "export default { fetch() { return new Response('beta v2'); } };\n"
    )
    code, out, err = run("apply", "--repo", str(store_repo.root), "--auto-approve")
    assert code == 1, out + err  # skipped uploads: not everything was done
    assert "skipped" in out

    assert _record(cf, "s:acme-new") is None, "a skipped new script is never routed"
    assert _record(cf, "s:acme-web") == web_before, "a skipped update keeps its entry"
    beta = _record(cf, "s:beta-hello")
    assert beta["fingerprint"] != beta_before["fingerprint"], "the others still go ahead"
    index = _index(cf)
    for customer in ("acme", "beta"):
        assert index[customer] == _stored_digest(cf, customer), customer


def test_another_customers_failed_upload_does_not_hold_back_a_suspension(
    store_repo,  # noqa: F811
    cf,
    run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A customer whose upload fails on Cloudflare (pre-flight does not model every
    # limit) held back the dispatcher's phase for everyone: no other customer's routing
    # records were written, so a suspension or a revoked token never took effect while
    # that customer's upload kept failing. In store mode a customer's records depend on
    # its own uploads and the platform's only.
    from wfp_reconcile.errors import ApiServerError
    from wfp_reconcile.kinds.script import ScriptKind

    code, out, err = run("apply", "--repo", str(store_repo.root), "--auto-approve")
    assert code == 0, out + err
    beta_before = _record(cf, "s:beta-hello")
    real = ScriptKind._send

    def failing(self: Any, target: Any, worker: Any, change: Any) -> None:
        if worker.name == "beta-hello":
            raise ApiServerError("Cloudflare API PUT .../beta-hello: 500 (injected)")
        real(self, target, worker, change)

    monkeypatch.setattr(ScriptKind, "_send", failing)
    store_repo.edit_customer("acme", suspended=True)
    (store_repo.root / "customers" / "beta" / "beta-hello.mjs").write_text(
        "export default { fetch() { return new Response('beta v2'); } };\n"
    )
    code, out, err = run("apply", "--repo", str(store_repo.root), "--auto-approve")
    assert code == 1, out + err
    assert _record(cf, "s:acme-web")["suspended"] is True, out
    assert _record(cf, "c:acme")["suspended"] is True
    # beta's own records wait for beta's upload; the index waits for everything.
    assert _record(cf, "s:beta-hello") == beta_before
    index = _index(cf)
    assert index["acme"] != _stored_digest(cf, "acme")

    monkeypatch.setattr(ScriptKind, "_send", real)
    code, out, err = run("apply", "--repo", str(store_repo.root), "--auto-approve")
    assert code == 0, out + err
    for customer in ("acme", "beta"):
        assert _index(cf)[customer] == _stored_digest(cf, customer), customer


def test_records_still_wait_when_the_dispatch_worker_of_their_phase_waits(
    store_repo,  # noqa: F811
    cf,
    run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A new outbound Worker gives the dispatch Worker a new binding, and the records of
    # the customer that uses it name that binding: written while the Worker waits for
    # another customer's failure, they would answer 503 until the next apply.
    from wfp_reconcile.errors import ApiServerError
    from wfp_reconcile.kinds.script import ScriptKind

    code, out, err = run("apply", "--repo", str(store_repo.root), "--auto-approve")
    assert code == 0, out + err
    acme_before = _record(cf, "s:acme-web")
    real = ScriptKind._send

    def failing(self: Any, target: Any, worker: Any, change: Any) -> None:
        if worker.name == "beta-hello":
            raise ApiServerError("Cloudflare API PUT .../beta-hello: 500 (injected)")
        real(self, target, worker, change)

    monkeypatch.setattr(ScriptKind, "_send", failing)
    store_repo.platform["dispatcher"]["workers_dev"] = False  # a dispatch Worker change
    store_repo.write_platform()
    store_repo.edit_customer("acme", suspended=True)
    (store_repo.root / "customers" / "beta" / "beta-hello.mjs").write_text(
        "export default { fetch() { return new Response('beta v2'); } };\n"
    )
    code, out, err = run("apply", "--repo", str(store_repo.root), "--auto-approve")
    assert code == 1, out + err
    if "~ dispatcher" not in out and "dispatcher test-dispatcher" not in out:
        pytest.skip("the platform change did not change the dispatch Worker")
    assert _record(cf, "s:acme-web") == acme_before, out


def test_another_customers_failed_upload_does_not_hold_back_a_delete(
    store_repo,  # noqa: F811
    cf,
    run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The documented way to stop a customer's script at once is to delete it; another
    # customer's upload that keeps failing held every delete back (they wait for the
    # routing to be live, which in store mode is per customer).
    from wfp_reconcile.errors import ApiServerError
    from wfp_reconcile.kinds.script import ScriptKind

    code, out, err = run("apply", "--repo", str(store_repo.root), "--auto-approve")
    assert code == 0, out + err
    real = ScriptKind._send

    def failing(self: Any, target: Any, worker: Any, change: Any) -> None:
        if worker.name == "beta-hello":
            raise ApiServerError("Cloudflare API PUT .../beta-hello: 500 (injected)")
        real(self, target, worker, change)

    monkeypatch.setattr(ScriptKind, "_send", failing)
    store_repo.customer(
        "acme",
        {"acme-api": {"access": "token", "limits": {"cpu_ms": 10}}},
        tokens=[{"name": "ci", "sha256": hashlib.sha256(b"acme-token").hexdigest()}],
        outbound={"worker": "egress", "params": {"allow_hosts": ["api.example.com"]}},
    )
    (store_repo.root / "customers" / "beta" / "beta-hello.mjs").write_text(
        "export default { fetch() { return new Response('beta v2'); } };\n"
    )
    code, out, err = run(
        "apply", "--repo", str(store_repo.root), "--auto-approve", "--allow-deletes", "1"
    )
    assert code == 1, out + err
    assert _record(cf, "s:acme-web") is None, out
    assert cf.state.store.get_script(ACCOUNT, "test-ns", "acme-web") is None, out


def test_in_manifest_mode_a_delete_still_waits_for_the_dispatch_worker(
    platform_repo,
    cf,
    run,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The one manifest routes every customer: while it waits, deleting a script it still
    # routes would answer 404 instead of the last good version.
    from wfp_reconcile.errors import ApiServerError
    from wfp_reconcile.kinds.script import ScriptKind

    platform_repo.customer("acme", ["acme-web", "acme-api"])
    platform_repo.customer("beta", ["beta-hello"])
    code, out, err = run("apply", "--repo", str(platform_repo.root), "--auto-approve")
    assert code == 0, out + err
    real = ScriptKind._send

    def failing(self: Any, target: Any, worker: Any, change: Any) -> None:
        if worker.name == "beta-hello":
            raise ApiServerError("Cloudflare API PUT .../beta-hello: 500 (injected)")
        real(self, target, worker, change)

    monkeypatch.setattr(ScriptKind, "_send", failing)
    platform_repo.customer("acme", ["acme-api"])
    (platform_repo.root / "customers" / "beta" / "beta-hello.mjs").write_text(
        "export default { fetch() { return new Response('beta v2'); } };\n"
    )
    code, out, err = run(
        "apply", "--repo", str(platform_repo.root), "--auto-approve", "--allow-deletes", "1"
    )
    assert code == 1, out + err
    assert cf.state.store.get_script(ACCOUNT, "test-ns", "acme-web") is not None, out
