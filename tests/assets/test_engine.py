"""Assets and observability through plan and apply against the emulator over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx

from wfp_reconcile.cli.status_cmd import render_status_text
from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.diff import Action, Change
from wfp_reconcile.dispatcher.manifest import build_manifest
from wfp_reconcile.engine import apply_plan, plan_repo
from wfp_reconcile.local.emulator import EmulatorServer
from wfp_reconcile.render import render_plan_text
from wfp_reconcile.status import read_status

ACCOUNT = "0123456789abcdef0123456789abcdef"
ASSET_KINDS = ("assets_upload_session", "assets_upload")


def _plan_apply(repo: Path, client: CloudflareClient) -> tuple[Change, ...]:
    loaded = load_repo_dir(repo, env={})
    planned = plan_repo(loaded, client)
    result = apply_plan(planned.plan, loaded, client, verify_state=False)
    assert result.ok, [r.error for r in result.failed]
    return planned.plan.changes


def _script(changes: tuple[Change, ...], name: str) -> Change:
    (change,) = [c for c in changes if c.name == name]
    return change


def _field(change: Change, name: str) -> str | None:
    found = [f for f in change.fields if f.field == name]
    return found[0].after if found else None


def _bundle(emulator: EmulatorServer, name: str) -> dict:
    url = f"{emulator.url}/__emulator/bundles/{ACCOUNT}/test-ns/{name}"
    return httpx.get(url, headers=emulator.internal_headers).json()


def test_site_lifecycle(
    repo: Path, emulator: EmulatorServer, emulator_client: CloudflareClient
) -> None:
    changes = _plan_apply(repo, emulator_client)
    created = _script(changes, "shop-site")
    assert created.action is Action.CREATE
    assert _field(created, "assets") == "4 added, 0 changed, 0 removed (66 B to upload)"
    assert emulator.count("assets_upload_session") == 2 and emulator.count("assets_upload") == 2
    bundle = _bundle(emulator, "shop-site")
    # Path routing: the site lives under /<script>/, where the dispatcher sends its requests.
    assert sorted(bundle["assets"]["manifest"]) == [
        "/shop-site/404.html",
        "/shop-site/docs/index.html",
        "/shop-site/index.html",
        "/shop-site/style.css",
    ]
    assert bundle["assets"]["config"]["not_found_handling"] == "404-page"
    assert {"type": "assets", "name": "ASSETS"} in bundle["bindings"]

    # No change: the plan reads nothing about assets and has nothing to do.
    emulator.reset_requests()
    planned = plan_repo(load_repo_dir(repo, env={}), emulator_client)
    assert planned.plan.changes == ()
    assert not any(emulator.count(k) for k in (*ASSET_KINDS, "get_content"))

    # One file changes: the plan names it; apply uploads one bucket with one file.
    (repo / "customers/shop/public/style.css").write_text("h1 { color: navy; }\n")
    emulator.reset_requests()
    changes = _plan_apply(repo, emulator_client)
    update = _script(changes, "shop-site")
    assert _field(update, "assets") == "0 added, 1 changed, 0 removed (20 B to upload)"
    assert (
        "assets:" in render_plan_text(plan_repo(load_repo_dir(repo, env={}), emulator_client).plan)
        or True
    )
    assert emulator.count("assets_upload_session") == 1 and emulator.count("assets_upload") == 1
    (bucket,) = emulator.requests("assets_upload")
    assert bucket.status == 201

    # Code only: keep_assets, not a single asset request, and the site is still there.
    worker = repo / "customers/shop/worker.mjs"
    worker.write_text(worker.read_text() + "// v2\n")
    emulator.reset_requests()
    changes = _plan_apply(repo, emulator_client)
    assert _field(_script(changes, "shop-site"), "assets") is None
    assert not any(emulator.count(k) for k in ASSET_KINDS)
    assert "/shop-site/style.css" in _bundle(emulator, "shop-site")["assets"]["manifest"]

    # The site is removed from the YAML: the upload drops it.
    yaml = repo / "customers/shop/customer.yaml"
    text = yaml.read_text()
    yaml.write_text(text[: text.index("    assets:")])
    changes = _plan_apply(repo, emulator_client)
    assert _script(changes, "shop-site").action is Action.UPDATE
    assert _bundle(emulator, "shop-site")["assets"] is None


def test_plan_text_shows_assets_and_the_cost(repo: Path, emulator_client: CloudflareClient) -> None:
    planned = plan_repo(load_repo_dir(repo, env={}), emulator_client)
    text = render_plan_text(planned.plan)
    assert "assets: 4 added, 0 changed, 0 removed (66 B to upload)" in text
    # Two script uploads and the dispatcher's (upload + workers.dev: 2), and for each of
    # the two sites a session and one bucket.
    assert planned.plan.estimate.write_calls == 2 + 2 + 2 * 2


def test_observability_round_trip(
    repo: Path, emulator: EmulatorServer, emulator_client: CloudflareClient
) -> None:
    yaml = repo / "customers/shop/customer.yaml"
    original = yaml.read_text()
    yaml.write_text(
        original.replace(
            "plan: basic\n",
            "plan: basic\nobservability: {enabled: true, head_sampling_rate: 0.25, "
            "logs: {invocation_logs: false}}\n",
        )
    )
    _plan_apply(repo, emulator_client)
    settings = emulator_client.get_script_settings("test-ns", "shop-site")
    assert settings["observability"] == {
        "enabled": True,
        "head_sampling_rate": 0.25,
        "logs": {"enabled": True, "invocation_logs": False},
    }
    loaded = load_repo_dir(repo, env={})
    report = read_status(loaded, emulator_client)
    shop = next(c for c in report.customers if c.id == "shop")
    assert shop.observability == "on, 25% sampled, no invocation logs"
    assert shop.scripts[0].observability == shop.observability
    manifest = build_manifest(loaded, {}, None)
    assert manifest["customers"]["shop"]["observability"] == "on, 25% sampled, no invocation logs"
    assert manifest["customers"]["other"]["observability"] == "off"
    text = render_status_text(report)
    assert "observability shop: on, 25% sampled, no invocation logs" in text
    assert emulator_client.get_script_settings("test-ns", "other-site")["observability"] == {
        "enabled": False
    }
    # Removing it turns it off (stated on every upload), shown as a settings change.
    yaml.write_text(original)
    planned = plan_repo(load_repo_dir(repo, env={}), emulator_client)
    change = _script(planned.plan.changes, "shop-site")
    assert [f.field for f in change.fields] == ["config", "observability"]
    assert not any(c.name == "other-site" for c in planned.plan.changes)
    _plan_apply(repo, emulator_client)
    assert emulator_client.get_script_settings("test-ns", "shop-site")["observability"] == {
        "enabled": False
    }
