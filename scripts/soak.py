#!/usr/bin/env python3
"""Long reliability runs of the reconcile side: fault soak, SIGKILLs, rate limit, fuzzing.

The same harness as the CI-sized tests (``tests/reliability/harness.py``), at full size:

  soak.py faults [--scripts 500 --customers 50 --rounds 5 --unmanaged 20 --seed 1]
      Apply, then random rounds of changes and removals, against an emulator injecting
      429s with Retry-After, 5xx, dropped connections and latency; each round may re-run
      apply at most twice, then the namespace must equal the repository exactly.
  soak.py kills [--scripts 200 --kills 24 --latency-ms 25 --seed 1]
      SIGKILL ``wfp-reconcile apply`` (a subprocess) mid-upload, mid-delete and after a
      random number of requests; each following apply must converge with nothing lost.
  soak.py ratelimit [--scripts 300 --limit 120 --window 30]
      A large apply paced at, below and above the emulator's enforced limit.
  soak.py fuzz [--runs 200000]
      Coverage-guided fuzzing of the config loader with atheris (when installed).

Each prints a results table; the exit code is 1 when any invariant was violated.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reliability.harness import (  # noqa: E402
    Fleet,
    apply_until_converged,
    faulty_requests,
    kill_scenario,
    seed_unmanaged,
    settings_for,
    snapshot_unmanaged,
    verify,
)

from wfp_reconcile.cloudflare import CloudflareClient  # noqa: E402
from wfp_reconcile.local.emulator import FaultConfig, run_emulator  # noqa: E402

TOKEN = "soak-emulator-token-0123456789"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [cells[0], ["-" * w for w in widths], *cells[1:]]
    for row in lines:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def run_faults(args: argparse.Namespace) -> int:
    faults = FaultConfig(
        latency_ms=args.latency_ms,
        fail_429=args.fail_429,
        fail_5xx=args.fail_5xx,
        drop=args.drop,
        drop_after=args.drop_after,
        retry_after_seconds=args.retry_after,
        seed=args.seed,
    )
    rows: list[list[object]] = []
    failures = 0
    with tempfile.TemporaryDirectory(prefix="wfp-soak-") as tmp:
        fleet = Fleet.create(
            Path(tmp) / "repo", scripts=args.scripts, customers=args.customers, seed=args.seed
        )
        with run_emulator(Path(tmp) / "state", api_token=TOKEN) as server:
            # Production-like retry budget, with the backoff scaled down with the faults.
            settings = settings_for(
                server,
                max_concurrency=args.concurrency,
                backoff_base_seconds=0.05,
                backoff_max_seconds=2.0,
                max_retry_seconds=120.0,
            )
            with CloudflareClient(settings) as client:
                seed_unmanaged(client, args.unmanaged)
            unmanaged = snapshot_unmanaged(server)
            server.set_faults(faults)
            for round_no in range(args.rounds + 1):
                what = "initial apply" if round_no == 0 else str(fleet.mutate())
                start = len(server.requests())
                started = time.monotonic()
                rounds = apply_until_converged(fleet.root, settings, max_applies=3)
                seconds = time.monotonic() - started
                faulty, total = faulty_requests(server, start)
                verdict = verify(server, fleet.root, unmanaged=unmanaged, log_start=start)
                ok = rounds.ok and verdict.ok
                failures += not ok
                rows.append(
                    [
                        round_no,
                        what,
                        len(fleet.declared()),
                        len(rounds.attempts),
                        sum(a.failed for a in rounds.attempts),
                        f"{faulty}/{total} ({faulty / max(total, 1):.0%})",
                        len(verdict.missing) + len(verdict.extra) + len(verdict.wrong),
                        len(verdict.deleted_declared),
                        len(verdict.touched_unmanaged),
                        f"{seconds:.1f}",
                        "ok" if ok else f"FAIL: {verdict}",
                    ]
                )
                print(f"round {round_no}: {rows[-1][-1]}", file=sys.stderr)
    print(
        f"\nfault soak: {args.scripts} scripts / {args.customers} customers, "
        f"{args.unmanaged} unmanaged, faults 429={args.fail_429} 5xx={args.fail_5xx} "
        f"drop={args.drop} drop_after={args.drop_after} latency={args.latency_ms} ms, "
        f"seed {args.seed}\n"
    )
    table(
        [
            "round",
            "changes",
            "declared",
            "applies",
            "failed ops",
            "faulty requests",
            "diff after",
            "declared deleted",
            "unmanaged touched",
            "s",
            "result",
        ],
        rows,
    )
    return 1 if failures else 0


def run_kills(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    rows: list[list[object]] = []
    failures = 0
    with tempfile.TemporaryDirectory(prefix="wfp-kills-") as tmp:
        fleet = Fleet.create(
            Path(tmp) / "repo", scripts=args.scripts, customers=args.customers, seed=args.seed
        )
        with run_emulator(Path(tmp) / "state", api_token=TOKEN) as server:
            settings = settings_for(server)
            with CloudflareClient(settings) as client:
                seed_unmanaged(client, args.unmanaged)
            unmanaged = snapshot_unmanaged(server)
            if not apply_until_converged(fleet.root, settings).ok:
                print("the initial apply failed", file=sys.stderr)
                return 1
            server.set_faults(FaultConfig(latency_ms=args.latency_ms))
            phases = ["upload", "delete", "any"]
            for i in range(args.kills):
                phase = phases[i % 3]
                size = rng.randint(args.scripts // 20 + 2, args.scripts // 6 + 3)
                report = kill_scenario(server, fleet, phase=phase, unmanaged=unmanaged, size=size)
                failures += not report.ok
                o = report.outcome
                rows.append(
                    [
                        i + 1,
                        phase,
                        f"{o.at_kill[0]}/{o.uploads}/{report.planned_uploads}",
                        f"{o.at_kill[1]}/{o.deletes}/{report.planned_deletes}",
                        "yes" if o.killed else f"no (exit {o.returncode})",
                        len(report.lost),
                        len(report.after_kill.deleted_declared),
                        len(report.after_kill.touched_unmanaged),
                        report.recovery_returncode,
                        "ok" if report.ok else f"FAIL: {report.recovered}",
                    ]
                )
                print(f"kill {i + 1}: {rows[-1][-1]}", file=sys.stderr)
    print(
        f"\nkills: {args.scripts} scripts, {args.kills} SIGKILLs, latency {args.latency_ms} ms, "
        f"seed {args.seed}\n"
    )
    table(
        [
            "#",
            "kill point",
            "uploads at kill/answered/planned",
            "deletes at kill/answered/planned",
            "killed",
            "lost",
            "declared deleted",
            "unmanaged touched",
            "next apply exit",
            "converged",
        ],
        rows,
    )
    return 1 if failures else 0


def run_ratelimit(args: argparse.Namespace) -> int:
    rows: list[list[object]] = []
    failures = 0
    cases = [("at", args.limit), ("below", args.limit * 3 // 4), ("above", args.limit * 4)]
    with tempfile.TemporaryDirectory(prefix="wfp-rate-") as tmp:
        for label, budget in cases:
            fleet = Fleet.create(
                Path(tmp) / label, scripts=args.scripts, customers=args.scripts // 10, seed=1
            )
            with run_emulator(None, api_token=TOKEN) as server:
                server.set_faults(
                    FaultConfig(rate_limit=args.limit, rate_window_seconds=args.window)
                )
                settings = settings_for(
                    server,
                    requests_per_window=budget,
                    window_seconds=args.window,
                    max_retry_seconds=args.window * 4,
                )
                started = time.monotonic()
                rounds = apply_until_converged(fleet.root, settings)
                seconds = time.monotonic() - started
                refused = sum(1 for r in server.requests() if r.status == 429)
                verdict = verify(server, fleet.root, unmanaged={})
                ok = rounds.ok and verdict.ok and (label == "above" or refused == 0)
                failures += not ok
                rows.append(
                    [
                        f"{label}: {budget}/{args.window:g}s",
                        server.count(),
                        refused,
                        len(rounds.attempts),
                        f"{seconds:.1f}",
                        "ok" if ok else f"FAIL: {verdict} {rounds.attempts[-1]}",
                    ]
                )
    print(
        f"\nrate limit: emulator enforces {args.limit} requests per {args.window:g} s; "
        f"{args.scripts} scripts created\n"
    )
    table(["client budget", "requests", "429s", "applies", "s", "result"], rows)
    return 1 if failures else 0


def run_fuzz(args: argparse.Namespace) -> int:
    try:
        import atheris  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        print("atheris is not installed: pip install atheris", file=sys.stderr)
        return 1
    from tests.reliability.memsource import Link, MemorySource, Other

    from wfp_reconcile.config import load_repo
    from wfp_reconcile.errors import ConfigError

    platform = (
        b"account_id: 0123456789abcdef0123456789abcdef\nnamespace: ns\n"
        b'compatibility_date: "2024-09-23"\nplatform_modules: [platform/p.mjs]\n'
    )

    def one(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        tree: dict[str, bytes | Link | Other] = {
            "platform.yaml": platform if fdp.ConsumeBool() else fdp.ConsumeBytes(200),
            "platform/p.mjs": b"export const p = 1;\n",
        }
        for _ in range(fdp.ConsumeIntInRange(0, 3)):
            cid = fdp.ConsumeUnicodeNoSurrogates(8) or "c"
            base = f"customers/{cid.replace('/', '_')}"
            tree[f"{base}/customer.yaml"] = fdp.ConsumeBytes(400)
            kind = fdp.ConsumeIntInRange(0, 2)
            module = f"{base}/{fdp.ConsumeUnicodeNoSurrogates(6).replace('/', '_') or 'm'}"
            if kind == 0:
                tree[module] = fdp.ConsumeBytes(40)
            elif kind == 1:
                tree[module] = Link(fdp.ConsumeUnicodeNoSurrogates(12))
            else:
                tree[module] = Other()
        try:
            load_repo(MemorySource(tree), env={})
        except ConfigError:
            pass

    # The loader is already imported (by the harness): instrument what is loaded.
    atheris.instrument_all()
    atheris.Setup([sys.argv[0], f"-runs={args.runs}"], one)
    atheris.Fuzz()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    faults = sub.add_parser("faults", help="fault soak")
    faults.add_argument("--scripts", type=int, default=500)
    faults.add_argument("--customers", type=int, default=50)
    faults.add_argument("--rounds", type=int, default=5)
    faults.add_argument("--unmanaged", type=int, default=20)
    faults.add_argument("--fail-429", type=float, default=0.12)
    faults.add_argument("--fail-5xx", type=float, default=0.12)
    faults.add_argument("--drop", type=float, default=0.06)
    faults.add_argument(
        "--drop-after", type=float, default=0.04, help="carried out, then the answer is lost"
    )
    faults.add_argument("--latency-ms", type=float, default=5.0)
    faults.add_argument("--retry-after", type=float, default=0.2, help="seconds per 429")
    faults.add_argument("--concurrency", type=int, default=8)
    faults.add_argument("--seed", type=int, default=1)
    kills = sub.add_parser("kills", help="SIGKILL apply at random points")
    kills.add_argument("--scripts", type=int, default=200)
    kills.add_argument("--customers", type=int, default=20)
    kills.add_argument("--kills", type=int, default=24)
    kills.add_argument("--unmanaged", type=int, default=10)
    kills.add_argument("--latency-ms", type=float, default=25.0)
    kills.add_argument("--seed", type=int, default=1)
    rate = sub.add_parser("ratelimit", help="an enforced rate limit")
    rate.add_argument("--scripts", type=int, default=200)
    rate.add_argument("--limit", type=int, default=120)
    rate.add_argument("--window", type=float, default=30.0)
    fuzz = sub.add_parser("fuzz", help="atheris fuzzing of the config loader")
    fuzz.add_argument("--runs", type=int, default=200_000)
    args = parser.parse_args()
    handlers = {
        "faults": run_faults,
        "kills": run_kills,
        "ratelimit": run_ratelimit,
        "fuzz": run_fuzz,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
