"""The hostname kind's diff against one list pass of the emulated zone (through the
engine): the records to make, only ours change or go, another customer's or an unmanaged
hostname is a conflict, and only deployed-and-ours hostnames route. The end-to-end applies
are in test_kind.py."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from wfp_reconcile.change import Action, Change
from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.cloudflare.custom_hostnames import CustomHostnameInfo, CustomHostnames
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.engine import apply_plan, plan_repo
from wfp_reconcile.hostnames.metadata import ssl_request, stuck_pending
from wfp_reconcile.local.emulator import EmulatorServer

from .conftest import ZONE, edit

A = "customers/alpha/customer.yaml"


@pytest.fixture
def client(emulator_client: CloudflareClient) -> CloudflareClient:
    emulator_client.ensure_namespace("test-ns")
    return emulator_client


@pytest.fixture
def api(client: CloudflareClient) -> CustomHostnames:
    return CustomHostnames(client, ZONE)


def load(repo: Path) -> PlatformRepo:
    return load_repo_dir(repo, env={})


def hostname_changes(repo: Path, client: CloudflareClient, **kw: Any) -> list[Change]:
    plan = plan_repo(load(repo), client, **kw).plan
    return [c for c in plan.changes if c.kind == "hostname"]


def apply_all(repo: Path, client: CloudflareClient) -> None:
    loaded = load(repo)
    plan = plan_repo(loaded, client).plan
    assert apply_plan(plan, loaded, client, allow_deletes=len(plan.deletes), verify_state=False).ok


def test_a_pending_hostname_shows_ownership_and_certificate_records(
    repo: Path, client: CloudflareClient
) -> None:
    apply_all(repo, client)
    edit(repo, A, "shop.example.com: alpha-shop", "shop.example.com: alpha-blog")
    (change,) = hostname_changes(repo, client)
    assert change.action is Action.UPDATE
    fields = {f.field: (f.before, f.after) for f in change.fields}
    assert fields["serves"] == ("alpha-shop", "alpha-blog")
    assert fields["status"] == ("pending (certificate pending_validation)", None)
    assert [f.field.split(" (")[-1] for f in change.fields if f.field.startswith("DNS ")] == [
        "traffic)",
        "ownership)",
        "certificate)",
    ]


def test_removing_a_hostname_deletes_only_ours_within_the_scope(
    repo: Path, client: CloudflareClient, api: CustomHostnames
) -> None:
    apply_all(repo, client)
    settings = load(repo).platform.custom_hostnames
    assert settings is not None
    ssl = ssl_request(settings)
    api.create("by-hand.example.com", ssl, {})
    api.create("other-platform.example.com", ssl, {"wfp_managed": "wfp-managed",
               "wfp_namespace": "staging", "wfp_customer": "alpha"})  # fmt: skip
    edit(repo, A, "hostnames:\n  shop.example.com: alpha-shop\n", "")
    assert [(c.action, c.name) for c in hostname_changes(repo, client)] == [
        (Action.DELETE, "shop.example.com")
    ]
    # Scoped to another customer, nothing of alpha's is touched.
    assert hostname_changes(repo, client, customers=["beta"]) == []


def test_a_suspended_customers_hostnames_are_left_alone(
    repo: Path, client: CloudflareClient
) -> None:
    apply_all(repo, client)
    edit(repo, A, "plan: basic", "plan: basic\nsuspended: true")
    assert hostname_changes(repo, client) == []
    edit(repo, A, "hostnames:\n  shop.example.com: alpha-shop\n", "")
    assert [(c.action, c.name) for c in hostname_changes(repo, client)] == [
        (Action.SKIPPED, "shop.example.com")
    ]


def test_no_change_costs_one_list_pass(
    repo: Path, client: CloudflareClient, emulator: EmulatorServer
) -> None:
    apply_all(repo, client)
    emulator.reset_requests()
    assert hostname_changes(repo, client) == []
    assert emulator.count("custom_hostnames_list") == 1


def test_hostnames_pending_for_more_than_a_day_are_flagged(
    repo: Path, client: CloudflareClient, api: CustomHostnames
) -> None:
    apply_all(repo, client)
    (info,) = api.list()
    assert stuck_pending([info]) == []
    later = datetime.now(UTC) + timedelta(days=1, minutes=1)
    assert stuck_pending([info], now=later) == [info]
    active = dataclasses.replace(info, status="active")
    assert stuck_pending([active], now=later) == []
    assert isinstance(info, CustomHostnameInfo)
