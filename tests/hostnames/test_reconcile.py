"""Declared hostnames against one list pass of the emulated zone: creates carry our
metadata, only ours change or go, another customer's or an unmanaged hostname is a
conflict, and only deployed-and-ours hostnames route."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.cloudflare.custom_hostnames import CustomHostnameInfo, CustomHostnames
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.hostnames.reconcile import (
    HostnameAction,
    desired_hostnames,
    diff_hostnames,
    metadata_for,
    routed_hostnames,
    ssl_request,
    stuck_pending,
)
from wfp_reconcile.local.emulator import EmulatorServer

from .conftest import ZONE, edit


@pytest.fixture
def api(emulator: EmulatorServer, emulator_client: CloudflareClient) -> CustomHostnames:
    return CustomHostnames(emulator_client, ZONE)


def load(repo: Path) -> PlatformRepo:
    return load_repo_dir(repo, env={})


def create_declared(loaded: PlatformRepo, api: CustomHostnames) -> None:
    settings = loaded.platform.custom_hostnames
    assert settings is not None
    for change in diff_hostnames(loaded, api.list()):
        assert change.action is HostnameAction.CREATE
        wanted = desired_hostnames(loaded)[change.hostname]
        api.create(change.hostname, ssl_request(settings), metadata_for(loaded, wanted))


def test_a_new_hostname_is_a_create_showing_the_records_to_make(
    repo: Path, api: CustomHostnames
) -> None:
    loaded = load(repo)
    (change,) = diff_hostnames(loaded, api.list())
    assert (change.action, change.hostname, change.customer, change.script) == (
        HostnameAction.CREATE,
        "shop.example.com",
        "alpha",
        "alpha-shop",
    )
    assert [(r.type, r.name, r.value) for r in change.records] == [
        ("CNAME", "shop.example.com", "customers.platform.example")
    ]
    create_declared(loaded, api)
    (info,) = api.list()
    assert info.custom_metadata == {
        "wfp_managed": "wfp-managed",
        "wfp_namespace": "test-ns",
        "wfp_customer": "alpha",
        "wfp_script": "alpha-shop",
    }
    assert routed_hostnames(loaded, [info]) == {"shop.example.com": "alpha-shop"}


def test_no_change_costs_one_list_pass(
    repo: Path, api: CustomHostnames, emulator: EmulatorServer
) -> None:
    loaded = load(repo)
    create_declared(loaded, api)
    emulator.reset_requests()
    assert diff_hostnames(loaded, api.list()) == []
    assert emulator.state.log.counts() == {"custom_hostnames_list": 1}


def test_a_pending_hostname_shows_ownership_and_certificate_records(
    repo: Path, api: CustomHostnames
) -> None:
    loaded = load(repo)
    create_declared(loaded, api)
    edit(repo, "customers/alpha/customer.yaml", "shop.example.com: alpha-shop",
         "shop.example.com: alpha-blog")  # fmt: skip
    (change,) = diff_hostnames(load(repo), api.list())
    assert change.action is HostnameAction.UPDATE and change.fields == ("custom_metadata",)
    assert (change.status, change.ssl_status) == ("pending", "pending_validation")
    assert [(r.type, r.purpose) for r in change.records] == [
        ("CNAME", "traffic"),
        ("TXT", "ownership"),
        ("TXT", "certificate"),
    ]


def test_removing_a_hostname_deletes_only_ours(
    repo: Path, api: CustomHostnames, emulator_client: CloudflareClient
) -> None:
    loaded = load(repo)
    create_declared(loaded, api)
    settings = loaded.platform.custom_hostnames
    assert settings is not None
    ssl = ssl_request(settings)
    api.create("by-hand.example.com", ssl, {})
    api.create("other-platform.example.com", ssl, {"wfp_managed": "wfp-managed",
               "wfp_namespace": "staging", "wfp_customer": "alpha"})  # fmt: skip
    edit(repo, "customers/alpha/customer.yaml", "hostnames:\n  shop.example.com: alpha-shop\n", "")
    changes = diff_hostnames(load(repo), api.list())
    assert [(c.action, c.hostname) for c in changes] == [
        (HostnameAction.DELETE, "shop.example.com")
    ]
    # Scoped to another customer, nothing of alpha's is touched.
    assert diff_hostnames(load(repo), api.list(), customers=["beta"]) == []


def test_a_second_customer_claiming_a_hostname_is_refused(repo: Path, api: CustomHostnames) -> None:
    loaded = load(repo)
    create_declared(loaded, api)
    # Alpha gives it up and beta claims it in the same commit: on Cloudflare it is still
    # alpha's, so it is a conflict, not a silent move, and it routes to nobody.
    edit(repo, "customers/alpha/customer.yaml", "hostnames:\n  shop.example.com: alpha-shop\n", "")
    edit(repo, "customers/beta/customer.yaml", "    main_module: shop.mjs\n",
         "    main_module: shop.mjs\nhostnames:\n  shop.example.com: beta-site\n")  # fmt: skip
    moved = load(repo)
    (change,) = diff_hostnames(moved, api.list())
    assert change.action is HostnameAction.CONFLICT
    assert "belongs to customer 'alpha'" in change.reason
    assert "adopt shop.example.com" in change.reason
    assert routed_hostnames(moved, list(api.list())) == {}
    # An admin's explicit adopt moves it.
    (adopted,) = diff_hostnames(moved, api.list(), adopt=["shop.example.com"])
    assert adopted.action is HostnameAction.UPDATE and "custom_metadata" in adopted.fields


def test_a_hostname_without_our_metadata_is_a_conflict(repo: Path, api: CustomHostnames) -> None:
    loaded = load(repo)
    settings = loaded.platform.custom_hostnames
    assert settings is not None
    api.create("shop.example.com", ssl_request(settings), {"owner": "someone"})
    (change,) = diff_hostnames(loaded, api.list())
    assert change.action is HostnameAction.CONFLICT
    assert "without this platform's metadata" in change.reason
    assert routed_hostnames(loaded, list(api.list())) == {}


def test_suspended_customers_hostnames_are_left_alone(repo: Path, api: CustomHostnames) -> None:
    loaded = load(repo)
    create_declared(loaded, api)
    edit(repo, "customers/alpha/customer.yaml", "plan: basic", "plan: basic\nsuspended: true")
    assert diff_hostnames(load(repo), api.list()) == []


def test_hostnames_pending_for_more_than_a_day_are_flagged(
    repo: Path, api: CustomHostnames
) -> None:
    create_declared(load(repo), api)
    (info,) = api.list()
    assert stuck_pending([info]) == []
    later = datetime.now(UTC) + timedelta(days=1, minutes=1)
    assert stuck_pending([info], now=later) == [info]
    active = dataclasses.replace(info, status="active")
    assert stuck_pending([active], now=later) == []
    assert isinstance(info, CustomHostnameInfo)
