#!/usr/bin/env python3
"""Full-size run of the dispatcher under load (127.0.0.1 only).

Applies a generated fleet to the local API emulator, serves it with the local Workers
runtime, then sends eyeball requests with a fixed number in flight while the engine applies
several rounds of updates, additions and removals. Every request is judged against the
repository before and after the apply it overlapped (see tests/load/harness.py); the table
shows counts by status, latency and anything answered that must not have been.

Usage: .venv/bin/python scripts/load_dispatcher.py [--requests 20000] [--concurrency 1000]
       [--rounds 4] [--scripts 200] [--api-latency-ms 40] [--json]
Exits 1 when any request got an answer it must not have.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.load.harness import Fleet, judge, run_load, start_stack, summary  # noqa: E402

from wfp_reconcile.local.runtime import ensure_installed  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="at least this many")
    parser.add_argument("--concurrency", type=int, default=1000, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=4, help="applies during the load")
    parser.add_argument("--scripts", type=int, default=200)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--api-latency-ms", type=float, default=40.0)
    parser.add_argument("--time-limit", type=float, default=600.0, help="hard bound, seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()

    ensure_installed()
    fleets = [Fleet.create(scripts=args.scripts, customers=args.customers, seed=args.seed)]
    change = max(1, args.scripts // 10)
    for _ in range(args.rounds):
        fleets.append(fleets[-1].mutate(update=2 * change, remove=change, add=change))
    started = time.monotonic()
    with start_stack(fleets[0], api_latency_ms=args.api_latency_ms) as stack:
        setup = time.monotonic() - started
        result = run_load(
            stack,
            fleets,
            requests=args.requests,
            concurrency=args.concurrency,
            time_limit=args.time_limit,
            seed=args.seed,
        )
    violations = judge(result, fleets[0])
    figures = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "node": subprocess.run(
                ["node", "--version"], capture_output=True, text=True, check=False
            ).stdout.strip(),
        },
        "setup_seconds": round(setup, 1),
        "scripts": args.scripts,
        "concurrency": args.concurrency,
        "timed_out": result.timed_out,
        "apply_rounds": [
            {
                "ok": times.ok,
                "changes": times.changes,
                "seconds": round(times.ended - times.started, 2),
            }
            for _, _, times in result.rounds
        ],
        **summary(result, violations),
        "examples": [str(v) for v in violations[:10]],
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"machine: {figures['machine']}")
        print(
            f"{args.scripts} scripts, {args.concurrency} in flight, "
            f"{len(result.rounds)} applies ({figures['apply_changes']} changes, "
            f"{figures['apply_seconds']} s) during the load"
        )
        print("| requests | " + " | ".join(str(s) for s in figures["by_status"]) + " |")
        print("|---" * (len(figures["by_status"]) + 1) + "|")
        counts = " | ".join(str(n) for n in figures["by_status"].values())
        print(f"| {figures['requests']} | {counts} |")
        print(
            f"designed 502s (the throwing script): {figures['designed_502']}; "
            f"other 5xx: {figures['other_5xx']}; violations: {figures['violations']}"
        )
        print(
            f"during an apply: {figures['during_apply']} requests; latency p50 "
            f"{figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms; "
            f"{figures['rps']} req/s over {figures['seconds']} s"
        )
        for example in figures["examples"]:
            print(f"  violation: {example}")
    failed = bool(violations) or result.timed_out or not all(t.ok for _, _, t in result.rounds)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
