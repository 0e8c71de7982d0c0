"""Kill test, CI size: SIGKILL ``wfp-reconcile apply`` mid-upload and mid-delete, then converge."""

from __future__ import annotations

from pathlib import Path

from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.local.emulator import EmulatorServer, FaultConfig

from .harness import (
    Fleet,
    apply_until_converged,
    kill_scenario,
    seed_unmanaged,
    settings_for,
    snapshot_unmanaged,
)

PHASES = ("upload", "delete", "upload", "delete", "any", "upload")


def test_apply_killed_mid_phase_loses_nothing_and_the_next_apply_converges(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    fleet = Fleet.create(tmp_path / "repo", scripts=48, customers=4, seed=20)
    settings = settings_for(emulator)
    with CloudflareClient(settings) as client:
        seed_unmanaged(client, 3)
    unmanaged = snapshot_unmanaged(emulator)
    assert apply_until_converged(fleet.root, settings).ok
    # Latency stretches each phase so the kill lands inside it, not after it.
    emulator.set_faults(FaultConfig(latency_ms=40))

    reports = [
        kill_scenario(emulator, fleet, phase=phase, unmanaged=unmanaged, size=8) for phase in PHASES
    ]
    for phase, report in zip(PHASES, reports, strict=True):
        assert report.outcome.killed, f"{phase}: the apply finished before the kill: {report}"
        assert not report.lost, f"{phase}: lost {report.lost}"
        assert report.after_kill.safe, f"{phase}: {report.after_kill}"
        assert report.recovery_returncode == 0, phase
        assert report.recovered.ok, f"{phase}: {report.recovered}"
    mid_upload = [r for r in reports if r.outcome.phase == "upload"]
    mid_delete = [r for r in reports if r.outcome.phase == "delete"]
    # The kill landed inside the phase: after some of its writes, before the process was
    # done (with 4 requests in flight, the last few may be answered within one poll).
    assert all(0 < r.outcome.at_kill[0] <= r.planned_uploads for r in mid_upload)
    assert all(0 < r.outcome.at_kill[1] <= r.planned_deletes for r in mid_delete)
    assert sum(r.outcome.at_kill[0] < r.planned_uploads for r in mid_upload) >= 2
