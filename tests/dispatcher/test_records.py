"""The routing store's records: the manifest's entries split per script, and the index."""

from __future__ import annotations

import json

from wfp_reconcile.config.model import Dispatcher, RoutingData, RoutingStore
from wfp_reconcile.dispatcher import build_dispatcher_upload, build_manifest
from wfp_reconcile.dispatcher.records import (
    INDEX_KEYS,
    build_records,
    index_key,
    index_shard,
    index_shards,
    index_value,
    parse_index,
)
from wfp_reconcile.dispatcher.upload import MANIFEST_MODULE

from .test_manifest import make_repo

FPS = {"alpha": "fa", "zeta": "fz", "hello": "fh"}


def test_script_records_carry_exactly_the_manifests_entries() -> None:
    repo = make_repo()
    manifest = build_manifest(repo, FPS, None)
    records = build_records(repo, FPS, None)
    for customer, own in records.items():
        values = {k: json.loads(v) for k, v in own.records}
        tokens = manifest["customers"][customer]["tokens"]
        for name, entry in manifest["scripts"].items():
            if entry["customer"] != customer:
                assert f"s:{name}" not in values
                continue
            record = values[f"s:{name}"]
            assert record == {
                "v": 1,
                **entry,
                "outbound": entry.get("outbound"),
                "suspended": False,
                "tokens": tokens,
            }
        for sha in tokens:
            assert values[f"t:{sha}"] == {"v": 1, "customer": customer}
        assert sorted(values[f"c:{customer}"]["keys"]) == sorted(values)


def test_only_routed_scripts_get_records_and_digests_follow_content() -> None:
    repo = make_repo()
    routed = build_records(repo, FPS, ["alpha"])
    assert [k for k, _ in routed["acme"].records if k.startswith("s:")] == ["s:alpha"]
    assert [k for k, _ in routed["basic"].records if k.startswith("s:")] == []
    again = build_records(repo, FPS, ["alpha"])
    assert routed["acme"].digest == again["acme"].digest
    other = build_records(repo, {**FPS, "alpha": "changed"}, ["alpha"])
    assert other["acme"].digest != routed["acme"].digest
    assert other["basic"].digest == routed["basic"].digest


def test_index_shards_round_trip_and_ignore_entries_outside_their_shard() -> None:
    digests = {f"c{i}": f"d{i}" for i in range(300)}
    shards = index_shards(digests)
    assert set(shards) == set(INDEX_KEYS) and len(INDEX_KEYS) == 64
    stored = {k: json.loads(index_value(v)) for k, v in shards.items()}
    assert parse_index(stored) == digests
    assert parse_index(dict.fromkeys(INDEX_KEYS)) is None
    wrong = next(k for k in INDEX_KEYS if k != index_key(index_shard("c1")))
    forged = {**stored, wrong: {"v": 1, "customers": {"c1": "evil"}}}
    assert parse_index(forged)["c1"] == "d1"
    unreadable = {**stored, index_key(index_shard("c1")): {"v": 9}}
    assert "c1" not in (parse_index(unreadable) or {})


def test_store_mode_upload_has_no_per_script_data_and_binds_the_namespace() -> None:
    store = RoutingStore(kv_namespace_id="ab" * 16)
    repo = make_repo(dispatcher=Dispatcher(routing_data=RoutingData.STORE, routing_store=store))
    upload = build_dispatcher_upload(repo, FPS, "c0ffee")
    manifest = json.loads(next(m.content for m in upload.modules if m.name == MANIFEST_MODULE))
    assert "scripts" not in manifest and "customers" not in manifest
    assert manifest["routing_data"]["binding"] == "ROUTES"
    assert {"type": "kv_namespace", "name": "ROUTES", "namespace_id": "ab" * 16} in (
        upload.metadata["bindings"]
    )
    # Constant size: a fleet ten times larger uploads the same bytes.
    bigger = {**FPS, **{f"s{i}": "f" for i in range(100)}}
    assert build_dispatcher_upload(repo, bigger, "c0ffee") == upload


def test_a_store_mode_plan_never_builds_the_full_manifest(monkeypatch) -> None:
    from wfp_reconcile.dispatcher import manifest, upload
    from wfp_reconcile.kinds.dispatcher import DispatcherKind
    from wfp_reconcile.kinds.protocol import DesiredContext
    from wfp_reconcile.kinds.routing import RoutingIndexKind, RoutingKind
    from wfp_reconcile.outcome import Entry, Inventory

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the store mode built the fleet's manifest")

    monkeypatch.setattr(upload, "build_manifest", refuse)
    monkeypatch.setattr(manifest, "build_manifest", refuse)
    store = RoutingStore(kv_namespace_id="ab" * 16)
    repo = make_repo(dispatcher=Dispatcher(routing_data=RoutingData.STORE, routing_store=store))
    owners = {"alpha": "acme", "zeta": "acme", "hello": "basic"}
    inventory = Inventory(
        {"script": {n: Entry("script", n, c, FPS[n], True) for n, c in owners.items()}}
    )
    built: dict[str, tuple[object, ...]] = {}
    for kind in (DispatcherKind(), RoutingIndexKind(), RoutingKind()):
        built[kind.name] = tuple(kind.desired(DesiredContext(repo, built, inventory)))
    assert len(built["dispatcher"]) == 1
    assert {i.name for i in built["routing"]} == {"acme", "basic"}
