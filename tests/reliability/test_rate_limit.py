"""Rate limit, CI size: the emulator enforces N requests per window (scaled down from
Cloudflare's 1,200 per 5 minutes); a client paced at or below it is never refused, and one
paced above it is refused, waits as told and still converges."""

from __future__ import annotations

from pathlib import Path

import pytest

from wfp_reconcile.local.emulator import EmulatorServer, FaultConfig

from .harness import Fleet, apply_until_converged, settings_for, verify

LIMIT = 30
WINDOW = 3.0
SCRIPTS = 40


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    return Fleet.create(tmp_path / "repo", scripts=SCRIPTS, customers=4, seed=3)


def _limited(emulator: EmulatorServer, *, headers: bool = True) -> None:
    # Reconfiguring also empties the emulator's window: each case starts from rest.
    emulator.set_faults(
        FaultConfig(rate_limit=LIMIT, rate_window_seconds=WINDOW, rate_headers=headers)
    )


@pytest.mark.parametrize("budget", [LIMIT, LIMIT * 3 // 4], ids=["at-limit", "below-limit"])
def test_apply_paced_at_or_below_the_server_limit_gets_no_429(
    emulator: EmulatorServer, fleet: Fleet, budget: int
) -> None:
    _limited(emulator)
    settings = settings_for(emulator, requests_per_window=budget, window_seconds=WINDOW)

    rounds = apply_until_converged(fleet.root, settings, max_applies=1)

    refused = [r for r in emulator.requests() if r.status == 429]
    assert rounds.ok, rounds.attempts
    assert emulator.count() > LIMIT * 1.3  # the apply really needed more than one window
    assert refused == []
    assert verify(emulator, fleet.root, unmanaged={}).ok


def test_apply_paced_above_the_server_limit_waits_on_429s_and_converges(
    emulator: EmulatorServer, fleet: Fleet
) -> None:
    # Without Ratelimit headers: a client that follows them never goes above the limit.
    _limited(emulator, headers=False)
    settings = settings_for(
        emulator, requests_per_window=LIMIT * 10, window_seconds=WINDOW, max_retry_seconds=60
    )

    rounds = apply_until_converged(fleet.root, settings, max_applies=3)

    refused = [r for r in emulator.requests() if r.status == 429]
    assert rounds.ok, rounds.attempts
    assert refused, "the client never exceeded the server's limit: the test shows nothing"
    assert {r.fault for r in refused} == {"rate_limit"}
    assert verify(emulator, fleet.root, unmanaged={}).ok
