#!/usr/bin/env python3
"""Benchmark of pre-flight: ``validate --preflight`` with 10 and 1,000 changed scripts.

Each size writes a platform repository with that many customer scripts (10 per customer,
each importing the platform module and a shared customer module) and measures, in one run:

- baseline: ``validate`` without pre-flight (load + desired state), the cost every PR
  already pays;
- pre-flight total: load, desired state, workerd start-up and loading every changed
  script (plus the outbound Worker and the dispatcher), as ``validate --preflight`` does;
- of which the workerd start-up, and the per-script load time.

Target (issue 17): 10 changed scripts in <= 3 s including start-up.

``--apply`` measures instead what pre-flight adds to ``apply`` of N changed scripts,
against the local API emulator (its own upload check off, so only apply's pre-flight is
timed): the same plan applied with and without pre-flight, alternating, each run
changing every script again.

Usage: .venv/bin/python scripts/bench_preflight.py [--sizes 10,1000] [--runs 3] [--json]
       .venv/bin/python scripts/bench_preflight.py --apply [--sizes 10] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from wfp_reconcile.config import load_repo_dir  # noqa: E402
from wfp_reconcile.desired import build_desired  # noqa: E402
from wfp_reconcile.local.runtime import ensure_installed  # noqa: E402
from wfp_reconcile.preflight import PreflightSession, run_preflight, select_changed  # noqa: E402

TARGET_10_SECONDS = 3.0


def write_repo(root: Path, scripts: int) -> None:
    (root / "platform" / "outbound").mkdir(parents=True)
    (root / "platform" / "platform_module.mjs").write_text(
        'export const platformThing = "This module is provided by the platform";\n'
    )
    (root / "platform" / "outbound" / "egress.mjs").write_text(
        "export default { fetch(request) { return fetch(request); } };\n"
    )
    doc = {
        "account_id": "0123456789abcdef0123456789abcdef",
        "namespace": "bench",
        "compatibility_date": "2024-09-23",
        "platform_modules": ["platform/platform_module.mjs"],
        "outbound_workers": {"egress": {"main_module": "platform/outbound/egress.mjs"}},
        "dispatcher": {"name": "bench-dispatcher"},
    }
    (root / "platform.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    per_customer = 10
    for c in range((scripts + per_customer - 1) // per_customer):
        cid = f"c{c:04d}"
        directory = root / "customers" / cid
        (directory / "lib").mkdir(parents=True)
        (directory / "lib" / "util.mjs").write_text(
            "export function greet(name) { return `Hello, ${name}!`; }\n"
        )
        declared = {}
        for s in range(per_customer):
            index = c * per_customer + s
            if index >= scripts:
                break
            name = f"{cid}-s{s}"
            (directory / f"{name}.mjs").write_text(
                'import { platformThing } from "./platform_module.mjs";\n'
                'import { greet } from "./lib/util.mjs";\n'
                f"const table = Array.from({{ length: 100 }}, (_, i) => i * {index});\n"
                "export default {\n"
                "  fetch(request) {\n"
                f'    return new Response(greet("{name}") + platformThing + table.length);\n'
                "  },\n"
                "};\n"
            )
            declared[name] = {"main_module": f"{name}.mjs", "modules": ["lib/util.mjs"]}
        body = {"id": cid, "name": cid, "plan": "basic", "scripts": declared}
        (directory / "customer.yaml").write_text(yaml.safe_dump(body, sort_keys=False))


def measure(root: Path) -> dict[str, float]:
    started = time.perf_counter()
    repo = load_repo_dir(root, env={})
    desired = build_desired(repo)
    workers, _ = select_changed(desired, None)
    baseline = time.perf_counter() - started
    with PreflightSession() as session:
        up = time.perf_counter()
        report = run_preflight(repo, workers, session=session)
        loads = time.perf_counter() - up
    total = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"the benchmark's scripts failed pre-flight: {report.findings[:3]}")
    return {
        "workers": len(report.checked),
        "baseline_s": baseline,
        "startup_s": up - started - baseline,
        "loads_s": loads,
        "total_s": total,
        "per_worker_ms": 1000 * loads / len(report.checked),
    }


def _change_every_script(root: Path, version: int) -> None:
    for path in sorted((root / "customers").glob("*/c*-s*.mjs")):
        text = path.read_text().split("// version", 1)[0]
        path.write_text(f"{text}// version {version}\n")


def measure_apply(root: Path, size: int, runs: int) -> dict[str, Any]:
    """Median apply time of ``size`` changed scripts with and without pre-flight."""
    import secrets

    from wfp_reconcile.cloudflare import ClientSettings, CloudflareClient
    from wfp_reconcile.engine import apply_plan, plan_repo
    from wfp_reconcile.local.emulator import run_emulator

    os.environ["WFP_EMULATOR_PREFLIGHT"] = "0"  # time apply's pre-flight, not the emulator's
    token = secrets.token_urlsafe(24)
    timings: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="wfp-bench-apply-") as state:
        with run_emulator(Path(state), api_token=token) as server:
            settings = ClientSettings(
                account_id="0123456789abcdef0123456789abcdef",
                api_token=token,
                base_url=server.api_base,
                requests_per_window=1_000_000,
            )
            with CloudflareClient(settings) as client:
                client.ensure_namespace("bench")
                repo = load_repo_dir(root, env={})
                apply_plan(plan_repo(repo, client).plan, repo, client, verify_state=False)
                for run in range(2 * runs):
                    preflight = run % 2 == 0
                    _change_every_script(root, run)
                    repo = load_repo_dir(root, env={})
                    planned = plan_repo(repo, client, describe=False)
                    started = time.perf_counter()
                    result = apply_plan(
                        planned.plan, repo, client, verify_state=False, preflight=preflight
                    )
                    timings[preflight].append(time.perf_counter() - started)
                    if not result.ok or (preflight and result.preflight is None):
                        raise SystemExit(f"the benchmark's apply did not succeed: {result}")
    with_s = statistics.median(timings[True])
    without_s = statistics.median(timings[False])
    return {
        "scripts": size,
        "runs": runs,
        "apply_without_s": without_s,
        "apply_with_s": with_s,
        "added_s": with_s - without_s,
    }


def main_apply(sizes: list[int], runs: int, as_json: bool) -> int:
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="wfp-bench-preflight-") as tmp:
            root = Path(tmp)
            write_repo(root, size)
            rows.append(measure_apply(root, size, runs))
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"# apply pre-flight ({platform.machine()}, {os.cpu_count()} CPUs, median of runs)")
    print()
    print("| changed scripts | apply --no-preflight | apply | added by pre-flight |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['scripts']} | {r['apply_without_s']:.2f} s | {r['apply_with_s']:.2f} s "
            f"| {r['added_s']:.2f} s |"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=None)
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--apply", action="store_true", help="time apply with and without it")
    args = parser.parse_args()
    ensure_installed()
    if args.apply:
        sizes = [int(s) for s in (args.sizes or "10").split(",")]
        return main_apply(sizes, args.runs or 5, args.json)
    args.sizes = args.sizes or "10,1000"
    args.runs = args.runs or 3
    rows: list[dict[str, Any]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="wfp-bench-preflight-") as tmp:
            root = Path(tmp)
            write_repo(root, size)
            runs = [measure(root) for _ in range(args.runs)]
        median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        rows.append({"scripts": size, "runs": args.runs, **median})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"# pre-flight benchmark ({platform.machine()}, {os.cpu_count()} CPUs, median of runs)")
    print()
    print(
        "| changed scripts | Workers loaded | baseline: validate | pre-flight total "
        "| of which workerd start-up | loading | per Worker |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['scripts']} | {r['workers']:.0f} | {r['baseline_s']:.2f} s "
            f"| {r['total_s']:.2f} s | {r['startup_s']:.2f} s | {r['loads_s']:.2f} s "
            f"| {r['per_worker_ms']:.1f} ms |"
        )
    ten = next((r for r in rows if r["scripts"] == 10), None)
    if ten is not None:
        verdict = "meets" if ten["total_s"] <= TARGET_10_SECONDS else "MISSES"
        print()
        target = f"{TARGET_10_SECONDS:.0f} s"
        print(f"10 changed scripts: {ten['total_s']:.2f} s, {verdict} the {target} target.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
