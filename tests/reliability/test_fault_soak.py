"""Fault soak, CI size: random changes and removals under ≥30 % faulty requests converge."""

from __future__ import annotations

from pathlib import Path

from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.local.emulator import EmulatorServer, FaultConfig

from .harness import (
    Fleet,
    apply_until_converged,
    faulty_requests,
    seed_unmanaged,
    settings_for,
    snapshot_unmanaged,
    verify,
)

FAULTS = FaultConfig(
    latency_ms=2,
    fail_429=0.12,
    fail_5xx=0.12,
    drop=0.08,
    drop_after=0.06,  # done but unanswered: the retry repeats something that happened
    retry_after_seconds=0.02,
    seed=8,
)


def test_rounds_of_changes_under_faults_converge_without_losing_or_touching_anything(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    fleet = Fleet.create(tmp_path / "repo", scripts=60, customers=6, seed=8)
    settings = settings_for(emulator)
    with CloudflareClient(settings) as client:
        seed_unmanaged(client, 5)
    unmanaged = snapshot_unmanaged(emulator)
    emulator.set_faults(FAULTS)

    log_start = len(emulator.requests())
    for round_no in range(4):
        if round_no:
            fleet.mutate()
        start = len(emulator.requests())
        rounds = apply_until_converged(fleet.root, settings, max_applies=3)
        faulty, total = faulty_requests(emulator, start)
        verdict = verify(emulator, fleet.root, unmanaged=unmanaged, log_start=start)
        assert rounds.ok, f"round {round_no}: {rounds.attempts}"
        assert verdict.ok, f"round {round_no}: {verdict}"
        assert faulty / total >= 0.2, f"round {round_no}: only {faulty}/{total} faulty"
    faulty, total = faulty_requests(emulator, log_start)
    assert faulty / total >= 0.3, f"only {faulty}/{total} requests were faulty"
    assert {r.fault for r in emulator.requests() if r.fault} == {"429", "5xx", "drop", "drop_after"}


def test_verify_reports_a_lost_script_a_stale_one_and_a_touched_unmanaged_one(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    # The soak is only as good as its checks: each kind of damage must be seen.
    fleet = Fleet.create(tmp_path / "repo", scripts=6, customers=2, seed=1)
    settings = settings_for(emulator)
    with CloudflareClient(settings) as client:
        seed_unmanaged(client, 2)
        unmanaged = snapshot_unmanaged(emulator)
        seeded = len(emulator.requests())
        assert apply_until_converged(fleet.root, settings).ok
        assert verify(emulator, fleet.root, unmanaged=unmanaged, log_start=seeded).ok
        start = len(emulator.requests())
        client.delete_script("soak-ns", "s-00000")
        client.delete_script("soak-ns", "foreign-001")
    fleet.customers["cust-001"]["s-00001"] += 1
    fleet.write()

    verdict = verify(emulator, fleet.root, unmanaged=unmanaged, log_start=start)

    assert verdict.missing == ["s-00000"]
    assert "s-00001" in verdict.wrong
    assert "foreign-001" in verdict.touched_unmanaged
    assert verdict.deleted_declared == ["s-00000"]
    assert not verdict.ok
