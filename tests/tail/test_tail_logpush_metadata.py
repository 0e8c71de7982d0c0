"""Tail Workers and Logpush: what the engine uploads, in which order, and what Cloudflare
(the local API emulator) then reports in each script's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml

from wfp_reconcile.apply import Phase, phases
from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.desired import WorkerKind, build_desired
from wfp_reconcile.engine import apply_plan, plan_repo
from wfp_reconcile.local.emulator import EmulatorServer

ACCOUNT = "0123456789abcdef0123456789abcdef"
NS = "tail-ns"
HELLO = 'export default { fetch() { return new Response("hi"); } };\n'
TAIL = "export default { tail(events) { console.log(events.length); } };\n"


def write_repo(
    root: Path,
    *,
    platform_extra: dict[str, Any] | None = None,
    customers: dict[str, dict[str, Any]] | None = None,
) -> Path:
    platform: dict[str, Any] = {
        "account_id": ACCOUNT,
        "namespace": NS,
        "compatibility_date": "2024-09-01",
        "dispatcher": {"name": "disp"},
        "tail_workers": {
            "trace": {"main_module": "platform/trace.mjs"},
            "audit": {"main_module": "platform/audit.mjs", "all_scripts": False},
        },
        **(platform_extra or {}),
    }
    (root / "platform").mkdir(parents=True, exist_ok=True)
    (root / "platform" / "trace.mjs").write_text(TAIL)
    (root / "platform" / "audit.mjs").write_text(TAIL)
    (root / "platform.yaml").write_text(yaml.safe_dump(platform, sort_keys=False))
    customers = customers or {
        "plain": {},
        "picky": {"tail": ["audit"], "logpush": True},
        "dark": {"tail": False},
    }
    for cid, extra in customers.items():
        directory = root / "customers" / cid
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "hello.mjs").write_text(HELLO)
        doc = {
            "id": cid,
            "name": cid.title(),
            "plan": "basic",
            **extra,
            "scripts": {f"{cid}-hello": {"main_module": "hello.mjs"}},
        }
        (directory / "customer.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


def load(root: Path) -> PlatformRepo:
    return load_repo_dir(root, env={})


def test_customer_scripts_name_their_tail_workers_and_logpush_as_declared(tmp_path: Path) -> None:
    desired = build_desired(load(write_repo(tmp_path)))
    meta = {w.name: w.upload.metadata for w in desired.scripts}
    assert meta["plain-hello"]["tail_consumers"] == [{"service": "trace"}]
    assert meta["picky-hello"]["tail_consumers"] == [{"service": "audit"}]
    assert meta["dark-hello"]["tail_consumers"] == []
    assert meta["plain-hello"]["logpush"] is False
    assert meta["picky-hello"]["logpush"] is True


def test_dispatcher_gets_the_tail_workers_marked_for_it_and_the_platform_logpush(
    tmp_path: Path,
) -> None:
    root = write_repo(
        tmp_path,
        platform_extra={
            "logpush": True,
            "tail_workers": {
                "trace": {"main_module": "platform/trace.mjs", "dispatcher": False},
                "audit": {"main_module": "platform/audit.mjs"},
            },
        },
    )
    desired = build_desired(load(root))
    assert desired.dispatcher is not None
    meta = desired.dispatcher.upload.metadata
    assert meta["tail_consumers"] == [{"service": "audit"}]
    assert meta["logpush"] is True
    plain = next(w for w in desired.scripts if w.name == "plain-hello")
    assert plain.upload.metadata["logpush"] is True  # the platform default reaches scripts


def test_dispatcher_logpush_can_differ_from_the_platform_default(tmp_path: Path) -> None:
    root = write_repo(tmp_path, platform_extra={"dispatcher": {"name": "disp", "logpush": True}})
    desired = build_desired(load(root))
    assert desired.dispatcher is not None
    assert desired.dispatcher.upload.metadata["logpush"] is True
    logpush = {w.name: w.upload.metadata["logpush"] for w in desired.scripts}
    assert logpush == {"plain-hello": False, "dark-hello": False, "picky-hello": True}


def test_tail_workers_are_tagged_regular_workers_told_how_to_read_tags(tmp_path: Path) -> None:
    desired = build_desired(load(write_repo(tmp_path)))
    tails = {w.name: w for w in desired.tail}
    assert set(tails) == {"audit", "trace"}
    trace = tails["trace"]
    assert trace.kind is WorkerKind.TAIL and trace.customer is None
    assert trace.tags[:2] == ("wfp-managed", "tail")
    env = {b["name"]: b["text"] for b in trace.upload.metadata["bindings"]}
    assert env == {
        "WFP_DISPATCHER": "disp",
        "WFP_MANAGEMENT_TAG": "wfp-managed",
        "WFP_NAMESPACE": NS,
    }
    assert [m.name for m in trace.upload.modules] == ["trace.mjs"]


def test_changing_logpush_or_tails_changes_only_the_config_fingerprint(tmp_path: Path) -> None:
    before = build_desired(load(write_repo(tmp_path / "a")))
    after = build_desired(
        load(
            write_repo(
                tmp_path / "b",
                customers={"plain": {"logpush": True}, "picky": {"tail": ["audit"]}, "dark": {}},
            )
        )
    )
    for name in ("plain-hello", "dark-hello"):
        old, new = before.script(name), after.script(name)
        assert old is not None and new is not None
        assert old.fingerprint.code == new.fingerprint.code
        assert old.fingerprint.config != new.fingerprint.config
    unchanged_old, unchanged_new = before.script("picky-hello"), after.script("picky-hello")
    assert unchanged_old is not None and unchanged_new is not None
    # picky lost only its logpush override: still a config change
    assert unchanged_old.fingerprint.config != unchanged_new.fingerprint.config


def _settings(client: httpx.Client, path: str) -> dict[str, Any]:
    res = client.get(path)
    assert res.status_code == 200, res.text
    result: dict[str, Any] = res.json()["result"]
    return result


def test_apply_deploys_tail_workers_first_and_cloudflare_reports_the_settings(
    tmp_path: Path, emulator: EmulatorServer, emulator_client: CloudflareClient
) -> None:
    repo = load(write_repo(tmp_path))
    emulator_client.ensure_namespace(NS)
    planned = plan_repo(repo, emulator_client)
    order = [phase for phase, _ in phases(planned.plan.changes)]
    assert order[0] is Phase.TAIL
    assert {c.name for c in dict(phases(planned.plan.changes))[Phase.TAIL]} == {"trace", "audit"}

    result = apply_plan(planned.plan, repo, emulator_client, verify_state=False)
    assert result.ok, result.failed

    headers = {"Authorization": f"Bearer {emulator.api_token}"}
    base = f"{emulator.api_base}/accounts/{ACCOUNT}/workers"
    with httpx.Client(headers=headers, timeout=10) as http:
        plain = _settings(http, f"{base}/dispatch/namespaces/{NS}/scripts/plain-hello/settings")
        picky = _settings(http, f"{base}/dispatch/namespaces/{NS}/scripts/picky-hello/settings")
        dark = _settings(http, f"{base}/dispatch/namespaces/{NS}/scripts/dark-hello/settings")
        disp = _settings(http, f"{base}/scripts/disp/settings")
        trace = _settings(http, f"{base}/scripts/trace/settings")
    assert (plain["tail_consumers"], plain["logpush"]) == ([{"service": "trace"}], False)
    assert (picky["tail_consumers"], picky["logpush"]) == ([{"service": "audit"}], True)
    assert dark["tail_consumers"] == []
    assert disp["tail_consumers"] == [{"service": "audit"}, {"service": "trace"}]
    assert "tail" in trace["tags"]

    again = plan_repo(repo, emulator_client)
    assert not again.plan.has_changes


def test_removing_a_tail_worker_deletes_it_after_the_scripts_stop_naming_it(
    tmp_path: Path, emulator_client: CloudflareClient
) -> None:
    root = write_repo(tmp_path)
    repo = load(root)
    emulator_client.ensure_namespace(NS)
    first = plan_repo(repo, emulator_client)
    assert apply_plan(first.plan, repo, emulator_client, verify_state=False).ok

    platform = yaml.safe_load((root / "platform.yaml").read_text())
    del platform["tail_workers"]["audit"]
    (root / "platform.yaml").write_text(yaml.safe_dump(platform, sort_keys=False))
    picky = root / "customers" / "picky" / "customer.yaml"
    doc = yaml.safe_load(picky.read_text())
    doc["tail"] = ["trace"]
    picky.write_text(yaml.safe_dump(doc, sort_keys=False))

    repo = load(root)
    second = plan_repo(repo, emulator_client)
    grouped = dict(phases(second.plan.changes))
    assert [(c.name, c.kind) for c in grouped[Phase.DELETES]] == [("audit", WorkerKind.TAIL)]
    assert "picky-hello" in {c.name for c in grouped[Phase.SCRIPTS]}
    assert apply_plan(second.plan, repo, emulator_client, allow_deletes=1, verify_state=False).ok
    names = {w.id for w in emulator_client.list_workers()}
    assert "audit" not in names and "trace" in names
