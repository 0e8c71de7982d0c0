"""The hostname kind end to end through the engine, against the emulator over HTTP: the
plan (and PR comment) shows the records, apply creates with our metadata, the dispatcher
routes only deployed-and-ours hostnames, removing deletes only ours (within the safety
caps), and a second customer claiming one is refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from wfp_reconcile.change import Action
from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.cloudflare.custom_hostnames import CustomHostnames
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.engine import apply_plan, plan_repo
from wfp_reconcile.errors import UnsafePlanError
from wfp_reconcile.hostnames.status import HostnameState, read_hostname_status
from wfp_reconcile.local.emulator import EmulatorServer
from wfp_reconcile.render import render_plan_markdown, render_plan_text

from .conftest import ZONE, edit

A = "customers/alpha/customer.yaml"
B = "customers/beta/customer.yaml"


def plan_apply(repo: Path, client: CloudflareClient, **kw: Any) -> Any:
    loaded = load_repo_dir(repo, env={})
    planned = plan_repo(loaded, client, **kw)
    result = apply_plan(planned.plan, loaded, client, verify_state=False)
    assert result.ok, [r for r in result.results if not r.ok]
    return planned.plan


def manifest(emulator: EmulatorServer, client: CloudflareClient) -> dict[str, Any]:
    record = httpx.get(
        f"{emulator.url}/__emulator/workers/{client.settings.account_id}/wfp-dispatcher",
        headers=emulator.internal_headers,
    ).json()
    (module,) = [m for m in record["modules"] if m["name"] == "wfp-manifest.json"]
    data: dict[str, Any] = json.loads(base64.b64decode(module["content_b64"]))
    return data


@pytest.fixture
def client(emulator_client: CloudflareClient) -> CloudflareClient:
    emulator_client.ensure_namespace("test-ns")
    return emulator_client


def test_plan_shows_the_records_and_apply_creates_ours(
    repo: Path, client: CloudflareClient, emulator: EmulatorServer
) -> None:
    loaded = load_repo_dir(repo, env={})
    plan = plan_repo(loaded, client).plan
    (create,) = [c for c in plan.changes if c.kind == "hostname"]
    assert (create.action, create.name, create.customer) == (
        Action.CREATE,
        "shop.example.com",
        "alpha",
    )
    comment = render_plan_markdown(plan)
    assert "+ hostname shop.example.com" in comment
    assert "DNS CNAME shop.example.com (traffic): customers.platform.example" in comment
    assert "serves: script alpha-shop" in render_plan_text(plan)

    assert apply_plan(plan, loaded, client, verify_state=False).ok
    (info,) = CustomHostnames(client, ZONE).list()
    assert info.custom_metadata == {
        "wfp_managed": "wfp-managed",
        "wfp_namespace": "test-ns",
        "wfp_customer": "alpha",
        "wfp_script": "alpha-shop",
    }
    assert (info.ssl_method, info.min_tls_version) == ("txt", "1.2")
    assert manifest(emulator, client)["hostnames"] == {"shop.example.com": "alpha-shop"}

    # status: pending with the records, then active.
    (pending,) = read_hostname_status(loaded, client) or []
    assert pending.state is HostnameState.PENDING
    assert {r.purpose for r in pending.records} == {"traffic", "ownership", "certificate"}
    httpx.post(
        f"{emulator.url}/__emulator/custom_hostnames/{ZONE}/shop.example.com",
        json={"status": "active"},
        headers=emulator.internal_headers,
    ).raise_for_status()
    (active,) = read_hostname_status(loaded, client) or []
    assert active.state is HostnameState.ACTIVE

    # Nothing to do now costs one list pass of the zone.
    emulator.reset_requests()
    again = plan_repo(loaded, client).plan
    assert again.changes == ()
    assert emulator.count("custom_hostnames_list") == 1


def test_removing_a_hostname_deletes_only_ours_within_the_caps(
    repo: Path, client: CloudflareClient
) -> None:
    plan_apply(repo, client)
    api = CustomHostnames(client, ZONE)
    api.create("by-hand.example.com", {"method": "http"}, {})
    edit(repo, A, "hostnames:\n  shop.example.com: alpha-shop\n", "")
    edit(repo, "platform.yaml", "custom_hostnames:", "safety:\n  max_deletes: 0\ncustom_hostnames:")
    loaded = load_repo_dir(repo, env={})
    plan = plan_repo(loaded, client).plan
    assert [(c.action, c.kind, c.name) for c in plan.changes if c.kind == "hostname"] == [
        (Action.DELETE, "hostname", "shop.example.com")
    ]
    with pytest.raises(UnsafePlanError):
        apply_plan(plan, loaded, client, verify_state=False)
    assert apply_plan(plan, loaded, client, allow_deletes=1, verify_state=False).ok
    assert [h.hostname for h in api.list()] == ["by-hand.example.com"]


def test_a_second_customer_claiming_a_hostname_is_refused(
    repo: Path, client: CloudflareClient, emulator: EmulatorServer
) -> None:
    plan_apply(repo, client)
    # Alpha gives it up and beta claims it in one commit: on Cloudflare it is alpha's.
    edit(repo, A, "hostnames:\n  shop.example.com: alpha-shop\n", "")
    edit(repo, B, "    main_module: shop.mjs\n",
         "    main_module: shop.mjs\nhostnames:\n  shop.example.com: beta-site\n")  # fmt: skip
    loaded = load_repo_dir(repo, env={})
    plan = plan_repo(loaded, client).plan
    (change,) = [c for c in plan.changes if c.kind == "hostname"]
    assert change.action is Action.CONFLICT
    assert "belongs to customer alpha" in change.reason
    result = apply_plan(plan, loaded, client, verify_state=False)
    assert result.ok
    (info,) = CustomHostnames(client, ZONE).list()
    assert info.custom_metadata["wfp_customer"] == "alpha"
    # ...and the dispatcher routes it to nobody rather than to beta's script.
    assert "shop.example.com" not in manifest(emulator, client).get("hostnames", {})

    # An admin's adopt moves it.
    adopted = plan_repo(loaded, client, adopt=["shop.example.com"]).plan
    assert [(c.action, c.name) for c in adopted.changes if c.kind == "hostname"] == [
        (Action.ADOPT, "shop.example.com")
    ]
    assert apply_plan(adopted, loaded, client, verify_state=False).ok
    (moved,) = CustomHostnames(client, ZONE).list()
    assert moved.custom_metadata["wfp_customer"] == "beta"


def test_a_hostname_someone_else_made_is_never_touched(
    repo: Path, client: CloudflareClient
) -> None:
    api = CustomHostnames(client, ZONE)
    api.create("shop.example.com", {"method": "http"}, {"owner": "someone"})
    loaded = load_repo_dir(repo, env={})
    plan = plan_repo(loaded, client).plan
    (change,) = [c for c in plan.changes if c.kind == "hostname"]
    assert change.action is Action.CONFLICT and "without this platform's metadata" in change.reason
    assert apply_plan(plan, loaded, client, verify_state=False).ok
    (info,) = api.list()
    assert info.custom_metadata == {"owner": "someone"}


def test_a_delete_re_reads_the_hostname_first(repo: Path, client: CloudflareClient) -> None:
    plan_apply(repo, client)
    api = CustomHostnames(client, ZONE)
    edit(repo, A, "hostnames:\n  shop.example.com: alpha-shop\n", "")
    loaded = load_repo_dir(repo, env={})
    plan = plan_repo(loaded, client).plan
    # Between plan and apply the hostname passed to another customer (the shared rule
    # kinds.rules.delete_ours re-reads its marker): refused, untouched.
    (info,) = api.list()
    api.edit(info.id, custom_metadata={**info.custom_metadata, "wfp_customer": "beta"})
    result = apply_plan(plan, loaded, client, allow_deletes=1, verify_state=False)
    (failed,) = result.failed
    assert failed.error == (
        "Refusing to delete hostname shop.example.com: it is no longer this customer's (its "
        "custom_metadata changed since the plan). Make a new plan."
    )
    assert [h.hostname for h in api.list()] == ["shop.example.com"]
    # Already gone (a re-run after a kill): the goal is reached.
    api.delete(info.id)
    assert apply_plan(plan, loaded, client, allow_deletes=1, verify_state=False).ok
