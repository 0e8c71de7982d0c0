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
    fail_429=0.10,
    fail_5xx=0.12,
    drop=0.10,
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

    for round_no in range(4):
        if round_no:
            fleet.mutate()
        start = len(emulator.requests())
        rounds = apply_until_converged(fleet.root, settings, max_applies=3)
        faulty, total = faulty_requests(emulator, start)
        verdict = verify(emulator, fleet.root, unmanaged=unmanaged, log_start=start)
        assert rounds.ok, f"round {round_no}: {rounds.attempts}"
        assert verdict.ok, f"round {round_no}: {verdict}"
        assert faulty / total >= 0.25, f"round {round_no}: only {faulty}/{total} faulty"
    assert len(emulator.requests(None)) > 0
    assert {r.fault for r in emulator.requests() if r.fault} == {"429", "5xx", "drop"}
