"""The dispatcher's manifest and upload, built from a platform repository."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from wfp_reconcile.config.model import (
    Access,
    Customer,
    Dispatcher,
    Limits,
    OutboundRef,
    OutboundWorker,
    Platform,
    PlatformRepo,
    Routing,
    Script,
    Token,
)
from wfp_reconcile.dispatcher import (
    MAIN_MODULE,
    MANIFEST_MODULE,
    build_dispatcher_upload,
    build_dispatcher_uploads,
    build_manifest,
    manifest_bytes,
)
from wfp_reconcile.dispatcher.manifest import binding_for_outbound, outbound_binding_names


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_repo(**platform_overrides: Any) -> PlatformRepo:
    fields: dict[str, Any] = {
        "account_id": "acc",
        "namespace": "ns",
        "compatibility_date": "2026-01-01",
        "default_limits": Limits(cpu_ms=50, subrequests=10),
        "outbound_workers": {
            "egress": OutboundWorker(main_module="platform/egress.mjs", parameters=("tier",)),
            "audit": OutboundWorker(main_module="platform/audit.mjs"),
        },
    }
    platform = Platform(**(fields | platform_overrides))
    acme = Customer(
        id="acme",
        name="Acme",
        plan="pro",
        tokens=(Token(name="ci", sha256=_sha("t1")), Token(name="dev", sha256=_sha("t0"))),
        limits=Limits(cpu_ms=100),
        outbound=OutboundRef(worker="egress", params={"tier": "gold", "undeclared": "x"}),
        scripts={
            "zeta": Script(main_module="zeta.mjs", limits=Limits(subrequests=3)),
            "alpha": Script(main_module="alpha.mjs", access=Access.TOKEN),
        },
    )
    basic = Customer(
        id="basic", name="Basic", plan="free", scripts={"hello": Script(main_module="h.js")}
    )
    return PlatformRepo(platform=platform, customers=(basic, acme), files={})


def test_limits_layer_script_over_customer_over_platform() -> None:
    manifest = build_manifest(make_repo(), {}, None)
    assert manifest["scripts"]["zeta"]["limits"] == {"cpuMs": 100, "subRequests": 3}
    assert manifest["scripts"]["alpha"]["limits"] == {"cpuMs": 100, "subRequests": 10}
    assert manifest["scripts"]["hello"]["limits"] == {"cpuMs": 50, "subRequests": 10}


def test_outbound_params_keep_only_declared_names_and_add_customer_id() -> None:
    manifest = build_manifest(make_repo(), {}, None)
    zeta = manifest["scripts"]["zeta"]
    assert zeta["outbound"] == {"customer_id": "acme", "tier": "gold"}
    assert zeta["binding"] == "DISPATCHER_EGRESS"
    assert "outbound" not in manifest["scripts"]["hello"]
    assert manifest["scripts"]["hello"]["binding"] == "DISPATCHER"


def test_manifest_carries_customers_token_hashes_access_fingerprints_and_commit() -> None:
    manifest = build_manifest(make_repo(), {"zeta": "fp-z"}, "c0ffee")
    assert manifest["commit"] == "c0ffee"
    assert manifest["customers"]["acme"]["tokens"] == sorted([_sha("t1"), _sha("t0")])
    assert manifest["scripts"]["zeta"]["fingerprint"] == "fp-z"
    assert manifest["scripts"]["alpha"]["fingerprint"] is None
    assert manifest["scripts"]["alpha"]["access"] == "token"
    assert manifest["customers"]["basic"]["plan"] == "free"


def test_no_plaintext_token_or_name_leaks_into_manifest() -> None:
    upload = build_dispatcher_upload(make_repo(), {}, None)
    text = b"".join(m.content for m in upload.modules)
    assert b'"t1"' not in text and b"undeclared" not in text


def test_upload_is_byte_identical_for_equal_inputs() -> None:
    a = build_dispatcher_upload(make_repo(), {"zeta": "1", "hello": "2"}, "c")
    b = build_dispatcher_upload(make_repo(), {"hello": "2", "zeta": "1"}, "c")
    assert a == b
    c = build_dispatcher_upload(make_repo(), {"hello": "3", "zeta": "1"}, "c")
    assert c.modules != a.modules


def test_uploads_for_several_commits_differ_only_in_the_manifests_commit() -> None:
    """The kind fingerprints the unstamped upload and uploads the stamped one, both from
    one routing data build: each manifest is the one built for its own commit."""
    repo, fps = make_repo(), {"zeta": "1", "hello": "2"}
    unstamped, stamped, again = build_dispatcher_uploads(repo, fps, (None, "c0ffee", None))
    for upload, commit in ((unstamped, None), (stamped, "c0ffee")):
        manifest = {m.name: m.content for m in upload.modules}[MANIFEST_MODULE]
        assert manifest == manifest_bytes(build_manifest(repo, fps, commit))
    assert again is unstamped and unstamped.metadata == stamped.metadata
    assert unstamped.modules[:-1] == stamped.modules[:-1]


def test_upload_has_template_manifest_and_one_binding_per_outbound_worker() -> None:
    upload = build_dispatcher_upload(make_repo(), {}, "c")
    names = [m.name for m in upload.modules]
    assert names[0] == MAIN_MODULE == upload.metadata["main_module"]
    assert MANIFEST_MODULE in names
    manifest_module = next(m for m in upload.modules if m.name == MANIFEST_MODULE)
    assert manifest_module.content_type == "text/plain"
    assert json.loads(manifest_module.content)["namespace"] == "ns"
    assert "tags" not in upload.metadata
    assert upload.metadata["compatibility_date"] == "2026-01-01"
    bindings = {b["name"]: b for b in upload.metadata["bindings"]}
    assert set(bindings) == {"DISPATCHER", "DISPATCHER_EGRESS", "DISPATCHER_AUDIT"}
    assert "outbound" not in bindings["DISPATCHER"]
    egress = bindings["DISPATCHER_EGRESS"]
    assert egress["namespace"] == "ns"
    assert egress["outbound"] == {
        "worker": {"service": "egress"},
        "params": [{"name": "customer_id"}, {"name": "tier"}],
    }


def test_every_relative_import_of_the_template_is_bundled() -> None:
    upload = build_dispatcher_upload(make_repo(), {}, None)
    bundled = {m.name for m in upload.modules}
    checked = 0
    for module in upload.modules:
        if module.name.endswith(".mjs"):
            for target in re.findall(r'from "\./([^"]+)"', module.content.decode()):
                assert target in bundled, (module.name, target)
            checked += 1
    assert checked >= 2
    assert f'"./{MANIFEST_MODULE}"' in upload.modules[0].content.decode()


def test_d1_binding_and_host_routing_are_configured_from_platform() -> None:
    from wfp_reconcile.config.model import D1Database

    repo = make_repo(
        d1=D1Database(name="platform", database_id="db-1", binding="PLATFORM_DB"),
        dispatcher=Dispatcher(routing=Routing.HOST, domain="apps.example.com"),
    )
    upload = build_dispatcher_upload(repo, {}, None)
    assert {"type": "d1", "name": "PLATFORM_DB", "id": "db-1"} in upload.metadata["bindings"]
    manifest = build_manifest(repo, {}, None)
    assert manifest["routing"] == {"mode": "host", "domain": "apps.example.com"}


def test_outbound_names_that_sanitize_alike_get_distinct_bindings() -> None:
    repo = make_repo(
        outbound_workers={
            "a-b": OutboundWorker(main_module="x.mjs"),
            "a_b": OutboundWorker(main_module="y.mjs"),
        }
    )
    names = [b["name"] for b in build_dispatcher_upload(repo, {}, None).metadata["bindings"]]
    assert len(names) == len(set(names)) == 3


def test_outbound_binding_names_never_collide_with_a_positional_lookalike() -> None:
    # "a-b" and "a_b" once became DISPATCHER_A_B_0/_1, and "a-b-0" is DISPATCHER_A_B_0 too.
    workers = ("a-b", "a_b", "a-b-0", "a-b-1", "a_b_0", "egress")
    names = outbound_binding_names(workers)
    assert sorted(names) == sorted(workers)
    assert len(set(names.values())) == len(workers)
    assert names["egress"] == "DISPATCHER_EGRESS"
    assert all(re.fullmatch(r"DISPATCHER_[A-Z0-9_]+", n) for n in names.values())


def test_outbound_binding_names_survive_a_worker_named_after_another_ones_hash() -> None:
    first = outbound_binding_names(("a-b", "a_b"))
    # A third Worker whose sanitized name is exactly the hashed binding of "a-b".
    lookalike = "a-b-" + first["a-b"].removeprefix("DISPATCHER_A_B_").lower()
    names = outbound_binding_names(("a-b", "a_b", lookalike))
    assert len(set(names.values())) == 3
    assert names[lookalike] == first["a-b"]


def test_outbound_binding_names_depend_only_on_the_set_of_workers() -> None:
    workers = ("a-b", "a_b", "zeta")
    names = outbound_binding_names(workers)
    assert outbound_binding_names(tuple(reversed(workers))) == names
    assert all(binding_for_outbound(workers, w) == names[w] for w in workers)
    repo = make_repo(outbound_workers={w: OutboundWorker(main_module="x.mjs") for w in workers})
    uploaded = {b["name"] for b in build_dispatcher_upload(repo, {}, None).metadata["bindings"]}
    assert uploaded == {"DISPATCHER", *names.values()}


def test_manifest_carries_the_admin_hash_and_what_the_status_page_shows() -> None:
    admin = _sha("admin")
    repo = make_repo(dispatcher=Dispatcher(admin_token_sha256=admin))
    manifest = build_manifest(repo, {}, None)
    assert manifest["admin_token_sha256"] == admin
    acme = manifest["customers"]["acme"]
    assert (acme["outbound_worker"], acme["tail"], acme["logpush"]) == ("egress", [], False)
    assert manifest["customers"]["basic"]["outbound_worker"] is None
    assert build_manifest(make_repo(), {}, None)["admin_token_sha256"] is None


def test_dispatcher_upload_ships_the_status_page_and_explicit_logpush_and_tails() -> None:
    upload = build_dispatcher_upload(make_repo(), {}, None)
    assert "status-page.mjs" in {m.name for m in upload.modules}
    assert upload.metadata["logpush"] is False
    assert upload.metadata["tail_consumers"] == []
