"""`status` shows each hostname's verification state: pending with the records to create,
then active; a failed validation; drift for hostnames pending for more than a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.cloudflare.custom_hostnames import CustomHostnames
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.hostnames.metadata import desired_hostnames, metadata_for, ssl_request
from wfp_reconcile.hostnames.status import (
    HostnameState,
    build_hostname_status,
    read_hostname_status,
    render_hostname_lines,
)
from wfp_reconcile.local.emulator import EmulatorServer

from .conftest import ZONE, edit


def steer(emulator: EmulatorServer, hostname: str, status: str) -> None:
    url = f"{emulator.url}/__emulator/custom_hostnames/{ZONE}/{hostname}"
    httpx.post(url, json={"status": status}, headers=emulator.internal_headers).raise_for_status()


def test_status_pending_then_active(
    repo: Path, emulator: EmulatorServer, emulator_client: CloudflareClient
) -> None:
    loaded = load_repo_dir(repo, env={})
    (missing,) = read_hostname_status(loaded, emulator_client) or []
    assert missing.state is HostnameState.MISSING
    settings = loaded.platform.custom_hostnames
    assert settings is not None
    wanted = desired_hostnames(loaded)["shop.example.com"]
    api = CustomHostnames(emulator_client, ZONE)
    api.create(wanted.hostname, ssl_request(settings), metadata_for(loaded, wanted))

    (pending,) = read_hostname_status(loaded, emulator_client) or []
    assert (pending.state, pending.status, pending.ssl_status) == (
        HostnameState.PENDING,
        "pending",
        "pending_validation",
    )
    assert [r.purpose for r in pending.records] == ["traffic", "ownership", "certificate"]
    text = "\n".join(render_hostname_lines([pending]))
    assert "shop.example.com -> alpha-shop [alpha]: pending" in text
    assert "CNAME shop.example.com customers.platform.example (traffic)" in text

    steer(emulator, "shop.example.com", "active")
    (active,) = read_hostname_status(loaded, emulator_client) or []
    assert (active.state, active.records) == (HostnameState.ACTIVE, ())

    # A day later nothing is stuck: it is active.
    later = datetime.now(UTC) + timedelta(days=2)
    (still,) = build_hostname_status(loaded, api.list(), now=later)
    assert not still.stuck


def test_failed_validation_and_pending_for_more_than_a_day(
    repo: Path, emulator: EmulatorServer, emulator_client: CloudflareClient
) -> None:
    edit(repo, "customers/alpha/customer.yaml", "  shop.example.com: alpha-shop",
         "  shop.example.com: alpha-shop\n  blog.example.com: alpha-blog")  # fmt: skip
    loaded = load_repo_dir(repo, env={})
    settings = loaded.platform.custom_hostnames
    assert settings is not None
    api = CustomHostnames(emulator_client, ZONE)
    for wanted in desired_hostnames(loaded).values():
        api.create(wanted.hostname, ssl_request(settings), metadata_for(loaded, wanted))
    steer(emulator, "blog.example.com", "validation_failed")
    later = datetime.now(UTC) + timedelta(days=1, hours=1)
    statuses = {s.hostname: s for s in build_hostname_status(loaded, api.list(), now=later)}
    assert statuses["blog.example.com"].state is HostnameState.FAILED
    assert statuses["blog.example.com"].errors
    assert statuses["shop.example.com"].state is HostnameState.PENDING
    assert statuses["shop.example.com"].stuck
    summary = render_hostname_lines(statuses.values())[-1]
    assert summary == "2 hostnames: 1 failed, 1 pending; 2 pending > 1 day."
    assert build_hostname_status(loaded, api.list(), customers=["beta"]) == []
