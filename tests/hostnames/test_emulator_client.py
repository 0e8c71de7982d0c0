"""The custom hostnames API: the client against the emulator over HTTP (shapes of
Cloudflare's SDK types), the emulated lifecycle, zone scoping and auth."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.cloudflare.custom_hostnames import CustomHostnames
from wfp_reconcile.errors import ApiError, NotFoundError, WfpError
from wfp_reconcile.local.emulator import EmulatorServer

from .conftest import ZONE

META = {"wfp_managed": "wfp-managed", "wfp_namespace": "ns", "wfp_customer": "alpha"}
SSL = {"method": "txt", "type": "dv", "settings": {"min_tls_version": "1.2"}}


def steer(emulator: EmulatorServer, hostname: str, status: str) -> httpx.Response:
    return httpx.post(
        f"{emulator.url}/__emulator/custom_hostnames/{ZONE}/{hostname}",
        json={"status": status},
        headers=emulator.internal_headers,
    )


@pytest.fixture
def api(emulator: EmulatorServer, emulator_client: CloudflareClient) -> CustomHostnames:
    return CustomHostnames(emulator_client, ZONE)


def test_create_returns_pending_with_ownership_and_validation_records(
    api: CustomHostnames,
) -> None:
    made = api.create("shop.example.com", SSL, META)
    assert made.hostname == "shop.example.com" and made.id
    assert (made.status, made.ssl_status) == ("pending", "pending_validation")
    assert made.custom_metadata == META
    assert made.ssl_method == "txt" and made.min_tls_version == "1.2"
    assert made.ownership is not None
    assert (made.ownership.type, made.ownership.name) == (
        "TXT",
        "_cf-custom-hostname.shop.example.com",
    )
    assert [(r.type, r.name) for r in made.validation] == [
        ("TXT", "_acme-challenge.shop.example.com")
    ]
    assert [h.hostname for h in api.list()] == ["shop.example.com"]


def test_pending_then_active_by_an_explicit_call(
    api: CustomHostnames, emulator: EmulatorServer
) -> None:
    api.create("shop.example.com", SSL, META)
    assert steer(emulator, "shop.example.com", "active").status_code == 200
    (info,) = api.list()
    assert (info.status, info.ssl_status, info.validation) == ("active", "active", ())


def test_pending_then_active_after_the_configured_delay(
    api: CustomHostnames, emulator: EmulatorServer
) -> None:
    store = emulator.state.hostnames
    now = [time.time()]
    store.clock = lambda: now[0]
    url = f"{emulator.url}/__emulator/custom_hostnames/settings"
    h = emulator.internal_headers
    httpx.post(url, json={"activation_delay_seconds": 30}, headers=h).raise_for_status()
    api.create("shop.example.com", SSL, META)
    now[0] += 29
    assert next(api.list()).status == "pending"
    now[0] += 2
    assert next(api.list()).status == "active"
    assert httpx.get(url, headers=h).json() == {"activation_delay_seconds": 30.0}


def test_validation_failed_fault_stays_pending_with_errors(
    api: CustomHostnames, emulator: EmulatorServer
) -> None:
    api.create("shop.example.com", SSL, META)
    assert steer(emulator, "shop.example.com", "validation_failed").status_code == 200
    (info,) = api.list()
    assert (info.status, info.ssl_status) == ("pending", "validation_timed_out")
    assert info.errors and "CNAME" in info.errors[0]
    assert steer(emulator, "nope.example.com", "active").status_code == 404


def test_list_pages_through_every_hostname(api: CustomHostnames, emulator: EmulatorServer) -> None:
    names = [f"h{i:02d}.example.com" for i in range(12)]
    for name in names:
        api.create(name, SSL, META)
    emulator.reset_requests()
    assert [h.hostname for h in api.list(page_size=5)] == names
    lists = emulator.requests("custom_hostnames_list")
    assert [r.query for r in lists] == [f"page={p}&per_page=5" for p in (1, 2, 3)]


def test_patch_changes_metadata_and_delete_removes(api: CustomHostnames) -> None:
    made = api.create("shop.example.com", SSL, META)
    changed = api.edit(made.id, custom_metadata={**META, "wfp_customer": "beta"})
    assert changed.custom_metadata["wfp_customer"] == "beta"
    again = api.edit(made.id, ssl=SSL)  # the same ssl: Cloudflare re-checks validation
    assert again.ssl_method == "txt"
    api.delete(made.id)
    assert list(api.list()) == []
    with pytest.raises(NotFoundError):
        api.delete(made.id)


def test_a_hostname_exists_once_and_metadata_is_strings(api: CustomHostnames) -> None:
    api.create("shop.example.com", SSL, META)
    with pytest.raises(ApiError) as dup:
        api.create("shop.example.com", SSL, META)
    assert "1406" in str(dup.value) or "Duplicate" in str(dup.value)
    with pytest.raises(WfpError):
        api.create("other.example.com", SSL, {"wfp_customer": 3})  # type: ignore[dict-item]


def test_zones_are_scoped_and_the_token_is_checked(
    api: CustomHostnames,
    emulator: EmulatorServer,
    emulator_client: CloudflareClient,
    make_client: Callable[..., CloudflareClient],
) -> None:
    api.create("shop.example.com", SSL, META)
    with pytest.raises(NotFoundError):
        list(CustomHostnames(emulator_client, "not-a-zone").list())
    # Another zone of the account holds its own hostnames.
    assert list(CustomHostnames(emulator_client, "0" * 32).list()) == []
    bad = make_client(api_token="wrong-token-0123456789")
    with pytest.raises(WfpError) as denied:
        list(CustomHostnames(bad, ZONE).list())
    assert "wrong-token" not in str(denied.value)
