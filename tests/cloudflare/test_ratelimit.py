"""Pacing by Cloudflare's ``Ratelimit``/``Ratelimit-Policy`` headers (respx, fake time)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
import respx
from tests.cloudflare.fakes import ACCOUNT, BASE, NS_PATH, FakeTime, envelope

from wfp_reconcile.cloudflare import ClientSettings, CloudflareClient
from wfp_reconcile.cloudflare.pacer import Pacer
from wfp_reconcile.cloudflare.ratelimit import RateBudget, parse_ratelimit


def headers(remaining: int, reset: float, quota: int = 1200, window: int = 300) -> dict[str, str]:
    return {
        "Ratelimit": f'"default";r={remaining};t={reset:g}',
        "Ratelimit-Policy": f'"default";q={quota};w={window}',
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"ratelimit": '"default";r=50;t=30', "ratelimit-policy": '"default";q=100;w=60'},
         RateBudget(50, 30.0, 100, 60.0)),
        ({"ratelimit": '"default";r=5;t=3'}, RateBudget(5, 3.0)),
        ({"ratelimit": '"burst";r=9;t=1, "default";r=2;t=200',
          "ratelimit-policy": '"burst";q=10;w=1, "default";q=1200;w=300'},
         RateBudget(2, 200.0, 1200, 300.0)),
        ({"ratelimit": "default;r=7;t=10"}, RateBudget(7, 10.0)),
        ({"ratelimit": "garbage"}, None),
        ({}, None),
    ],
    ids=["with-policy", "no-policy", "least-remaining-binds", "token-name", "garbage", "absent"],
)  # fmt: skip
def test_parse_ratelimit(raw, expected):
    assert parse_ratelimit(raw) == expected


def make_client(fake: FakeTime, **overrides: Any) -> CloudflareClient:
    values: dict[str, Any] = {
        "account_id": ACCOUNT,
        "api_token": "tok-0123456789abcdef",
        "base_url": BASE,
        "max_concurrency": 1,
    }
    values.update(overrides)
    return CloudflareClient(ClientSettings(**values), sleep=fake.sleep, clock=fake.clock)


@respx.mock
def test_a_full_budget_is_spent_without_waiting():
    fake = FakeTime()
    left = {"r": 1200}

    def answer(request: httpx.Request) -> httpx.Response:
        left["r"] -= 1
        return httpx.Response(200, json=envelope([]), headers=headers(left["r"], 300))

    respx.get(f"{NS_PATH}/tags").mock(side_effect=answer)
    respx.get(url__regex=r".*/scripts/s\d+/tags").mock(side_effect=answer)
    with make_client(fake) as client:
        for i in range(1000):
            client.get_script_tags("ns", f"s{i}")
    # Today's bucket alone would have slept ~(1000-100)/3 ≈ 300 s.
    assert sum(fake.sleeps) == 0
    assert client.rate_budget() == RateBudget(200, 300.0, 1200, 300.0)


@respx.mock
def test_an_exhausted_budget_waits_for_the_reset_then_probes():
    fake = FakeTime()
    state = {"r": 3, "reset_at": fake.now + 40, "calls": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        state["calls"] += 1
        if fake.now >= state["reset_at"]:
            state["r"], state["reset_at"] = 100, fake.now + 300
        assert state["r"] > 0, "the client overran the server's budget"
        state["r"] -= 1
        return httpx.Response(
            200, json=envelope([]), headers=headers(state["r"], state["reset_at"] - fake.now)
        )

    respx.get(url__regex=r".*/tags").mock(side_effect=answer)
    with make_client(fake) as client:
        for i in range(10):
            client.get_script_tags("ns", f"s{i}")
    assert state["calls"] == 10
    assert 40 <= sum(fake.sleeps) < 41  # one wait, for exactly the announced reset


@respx.mock
def test_without_headers_the_old_bucket_paces():
    fake = FakeTime()
    respx.get(url__regex=r".*/tags").respond(json=envelope([]))
    with make_client(fake, requests_per_window=100, window_seconds=100) as client:
        for i in range(30):
            client.get_script_tags("ns", f"s{i}")
        assert client.rate_budget() is None
    # burst of 10, then 90 per 100 s: 20 more requests take about 22 s
    assert 20 < sum(fake.sleeps) < 25


@respx.mock
def test_a_user_limit_is_a_ceiling_even_with_budget_left():
    fake = FakeTime()
    respx.get(url__regex=r".*/tags").respond(json=envelope([]), headers=headers(1199, 300))
    settings = ClientSettings.from_env(
        {"CLOUDFLARE_API_TOKEN": "tok-0123456789abcdef", "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
         "CLOUDFLARE_API_BASE_URL": BASE, "WFP_RATE_LIMIT": "10", "WFP_RATE_WINDOW": "60"}
    )  # fmt: skip
    with CloudflareClient(settings, sleep=fake.sleep, clock=fake.clock) as client:
        for i in range(25):
            client.get_script_tags("ns", f"s{i}")
    assert 120 <= sum(fake.sleeps) < 121  # 10 now, 10 after 60 s, 5 after 120 s


def test_concurrent_threads_never_overrun_the_budget():
    """Eight threads share one budget of 50: the 51st request waits for the reset."""
    fake = FakeTime()
    lock = threading.Lock()
    server = {"left": 50, "reset_at": fake.now + 300.0, "overrun": 0, "served": 0}
    pacer = Pacer(fallback_limit=1000, window=300, user_limit=None,
                  clock=fake.clock, sleep=fake.sleep)  # fmt: skip

    def request() -> None:
        pacer.acquire()
        with lock:
            if fake.now >= server["reset_at"]:
                server["left"], server["reset_at"] = 50, fake.now + 300.0
            if server["left"] <= 0:
                server["overrun"] += 1
            server["left"] -= 1
            server["served"] += 1
            answer = headers(max(server["left"], 0), server["reset_at"] - fake.now)
        pacer.finish(answer)

    def worker() -> None:
        for _ in range(10):
            request()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert server["served"] == 80 and server["overrun"] == 0


def test_the_plan_estimate_uses_the_real_budget():
    from wfp_reconcile.change import Action, Change
    from wfp_reconcile.plan import Estimate

    writes = [Change(action=Action.UPDATE, kind="script", name="s")] * 1500
    fresh = Estimate.of(writes, read_calls=3, requests_per_window=1000, window_seconds=300,
                        budget=RateBudget(1200, 0, 1200, 300))  # fmt: skip
    assert fresh.budget_remaining == 1200 and fresh.seconds == 0  # 300 beyond: reset is now
    low = Estimate.of(writes[:100], read_calls=3, requests_per_window=1000, window_seconds=300,
                      budget=RateBudget(40, 90, 1200, 300))  # fmt: skip
    assert low.seconds == 90  # 60 calls wait for the reset the server announced
    none = Estimate.of(writes[:100], read_calls=3, requests_per_window=1000, window_seconds=300)
    assert none.budget_remaining is None and none.seconds == 0
