"""The emulator's rate limit speaks Cloudflare's headers, locks out like Cloudflare, and
the client paced by those headers never trips it."""

from __future__ import annotations

import time

import httpx

from wfp_reconcile.cloudflare.ratelimit import parse_ratelimit
from wfp_reconcile.local.emulator import FaultConfig

ACCOUNT = "0123456789abcdef0123456789abcdef"


def test_every_answer_carries_the_budget(emulator):
    emulator.set_faults(FaultConfig(rate_limit=5, rate_window_seconds=60))
    headers = {"Authorization": f"Bearer {emulator.api_token}"}
    url = f"{emulator.api_base}/accounts/{ACCOUNT}/workers/dispatch/namespaces"
    budgets = [parse_ratelimit(httpx.get(url, headers=headers).headers) for _ in range(3)]
    assert [b.remaining for b in budgets if b] == [4, 3, 2]
    assert budgets[0] is not None and budgets[0].quota == 5 and budgets[0].window_seconds == 60
    assert 0 < budgets[0].reset_seconds <= 60
    no_limit = FaultConfig()
    emulator.set_faults(no_limit)
    assert "ratelimit" not in httpx.get(url, headers=headers).headers


def test_realistic_mode_locks_every_call_out_after_the_limit(emulator):
    emulator.set_faults(FaultConfig(rate_limit=2, rate_window_seconds=3, rate_lockout_seconds=30))
    headers = {"Authorization": f"Bearer {emulator.api_token}"}
    url = f"{emulator.api_base}/accounts/{ACCOUNT}/workers/dispatch/namespaces"
    assert [httpx.get(url, headers=headers).status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(3.1)  # the window has passed, the lockout has not
    refused = httpx.get(url, headers=headers)
    assert refused.status_code == 429 and 20 <= int(refused.headers["retry-after"]) <= 27
    budget = parse_ratelimit(refused.headers)
    assert budget is not None and budget.remaining == 0 and budget.reset_seconds >= 20


def test_the_client_spends_the_budget_then_waits_without_a_429(emulator, make_client):
    # A scaled Cloudflare: 20 per 2 s with a lockout that would make any 429 obvious.
    emulator.set_faults(FaultConfig(rate_limit=20, rate_window_seconds=2, rate_lockout_seconds=60))
    client = make_client(max_concurrency=4)
    client.create_namespace("ns")
    started = time.monotonic()
    results = client.map_concurrent(lambda i: client.list_namespaces(), range(49))
    elapsed = time.monotonic() - started
    assert not [r for r in results if isinstance(r, Exception)]
    assert client.stats.rate_limited == 0
    assert {r.fault for r in emulator.requests()} == {None}
    assert 2 <= elapsed < 15  # 50 requests at 20 per 2 s: two waits for the window
