#!/usr/bin/env python3
"""Benchmark the reconcile engine against the local Cloudflare API emulator.

Runs, in one process tree and one run, side by side:

1. a no-change plan over N scripts / N/10 customers (API calls, wall time, peak RSS),
   against a naive reconciler that reads every script's tags (the example
   project's approach: one call per script);
2. one changed script among N: exactly one script upload (plus the dispatcher);
3. C creates at concurrency 8: wall time against the ideal (calls x latency /
   concurrency) and against the rate-limit bound.

The emulator runs as its own process (``wfp-reconcile local-api``) with added
latency per request; every measured plan/apply runs as a separate
``wfp-reconcile`` process so its peak RSS is its own.

Usage: scripts/bench_reconcile.py [--scripts 10000] [--creates 1000] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
TOKEN = "bench-token-0123456789"
ACCOUNT = "0123456789abcdef0123456789abcdef"
TEMPLATE = (
    'import { platformThing } from "./platform_module.mjs";\n'
    "export default {\n"
    "  async fetch(request, env, ctx) {\n"
    '    return new Response("Hello! " + platformThing + " from %s");\n'
    "  }\n"
    "};\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_repo(root: Path, scripts: int, per_customer: int = 10) -> None:
    """A platform repository with ``scripts`` scripts, ``per_customer`` each."""
    (root / "platform").mkdir(parents=True)
    shutil.copy(ROOT / "platform" / "platform_module.mjs", root / "platform")
    (root / "platform.yaml").write_text(
        f"account_id: {ACCOUNT}\n"
        "namespace: bench\n"
        'compatibility_date: "2024-09-23"\n'
        "platform_modules: [platform/platform_module.mjs]\n"
        "dispatcher: {name: bench-dispatcher}\n"
        "safety: {max_deletes: 100000, max_delete_fraction: 1.0}\n"
    )
    for c in range(-(-scripts // per_customer)):
        cid = f"cust-{c:05d}"
        directory = root / "customers" / cid
        directory.mkdir(parents=True)
        names = [f"s-{c:05d}-{i}" for i in range(per_customer) if c * per_customer + i < scripts]
        lines = [f"id: {cid}", f"name: Customer {c}", "plan: basic", "scripts:"]
        for name in names:
            (directory / f"{name}.mjs").write_text(TEMPLATE % name)
            lines.append(f"  {name}:\n    main_module: {name}.mjs")
        (directory / "customer.yaml").write_text("\n".join(lines) + "\n")


@contextlib.contextmanager
def emulator(state: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "wfp_reconcile",
            "local-api",
            "--port",
            str(port),
            "--state",
            str(state),
            "--api-token",
            TOKEN,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/__emulator/state", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("the emulator did not start")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def set_faults(url: str, **faults: object) -> None:
    httpx.post(f"{url}/__emulator/faults", json=faults, timeout=10).raise_for_status()


def reset_requests(url: str) -> None:
    httpx.post(f"{url}/__emulator/requests/reset", timeout=10).raise_for_status()


def request_counts(url: str) -> dict[str, int]:
    data = httpx.get(f"{url}/__emulator/requests", timeout=30).json()
    return {str(k): int(v) for k, v in data["counts"].items()}


def run_cli(url: str, *args: str, rate: int = 1000, concurrency: int = 8) -> tuple[float, int, str]:
    """Run one ``wfp-reconcile`` command; returns wall seconds, peak RSS in MB, stdout."""
    env = {
        **os.environ,
        "CLOUDFLARE_API_TOKEN": TOKEN,
        "CLOUDFLARE_API_BASE_URL": f"{url}/client/v4",
        "WFP_RATE_LIMIT": str(rate),
        "WFP_CONCURRENCY": str(concurrency),
    }
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([PY, "-m", "wfp_reconcile", *args], env=env, stdout=out, stderr=err)
        # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would mix in others).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode not in (0, 2):
        raise SystemExit(f"wfp-reconcile {' '.join(args)} failed:\n{stderr[-2000:]}")
    return wall, usage.ru_maxrss // 1024, stdout


def naive_plan(url: str, concurrency: int) -> tuple[float, int]:
    """The example project's approach: list, then one tags call per script."""
    from concurrent.futures import ThreadPoolExecutor

    base = f"{url}/client/v4/accounts/{ACCOUNT}/workers/dispatch/namespaces/bench/scripts"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    started = time.perf_counter()
    calls = 0
    names: list[str] = []
    with httpx.Client(headers=headers, timeout=60) as http:
        cursor = None
        while True:
            params = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
            body = http.get(base, params=params).json()
            calls += 1
            names += [item["id"] for item in body["result"]]
            cursor = (body.get("result_info") or {}).get("cursor")
            if not cursor:
                break

        def tags(name: str) -> list[str]:
            return list(http.get(f"{base}/{name}/tags").json()["result"])

        with ThreadPoolExecutor(concurrency) as pool:
            for _ in pool.map(tags, names):
                calls += 1
    return time.perf_counter() - started, calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", type=int, default=10_000)
    parser.add_argument("--creates", type=int, default=1_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    rows: list[tuple[str, str, str, str]] = []

    with tempfile.TemporaryDirectory(prefix="wfp-bench-") as tmp_name:
        tmp = Path(tmp_name)
        repo = tmp / "repo"
        write_repo(repo, args.scripts)
        with emulator(tmp / "state") as url:
            print(f"seeding {args.scripts} scripts (no added latency)...", file=sys.stderr)
            run_cli(url, "apply", "--repo", str(repo), "--auto-approve", rate=10**9, concurrency=16)

            set_faults(url, latency_ms=args.latency_ms)
            reset_requests(url)
            wall, rss, _ = run_cli(url, "plan", "--repo", str(repo), "--detailed-exitcode")
            calls = sum(request_counts(url).values())
            reset_requests(url)
            naive_wall, naive_calls = naive_plan(url, args.concurrency)
            rows.append(("no-change plan, wfp-reconcile", str(calls), f"{wall:.2f}", f"{rss}"))
            rows.append(
                (
                    "no-change plan, naive (1 call/script)",
                    str(naive_calls),
                    f"{naive_wall:.2f}",
                    "-",
                )
            )
            rows.append(
                (
                    "ratio naive / wfp-reconcile",
                    f"{naive_calls / calls:.0f}x",
                    f"{naive_wall / wall:.1f}x",
                    "",
                )
            )

            victim = repo / "customers" / "cust-00000" / "s-00000-0.mjs"
            victim.write_text(victim.read_text().replace("from", "FROM"))
            reset_requests(url)
            wall, rss, _ = run_cli(url, "apply", "--repo", str(repo), "--auto-approve")
            counts = request_counts(url)
            rows.append(
                (
                    "one changed script: apply",
                    f"{sum(counts.values())} ({counts.get('upload_script', 0)} script upload, "
                    f"{counts.get('upload_worker', 0)} dispatcher)",
                    f"{wall:.2f}",
                    f"{rss}",
                )
            )

        creates = tmp / "creates"
        write_repo(creates, args.creates)
        with emulator(tmp / "state2") as url:
            set_faults(url, latency_ms=0)
            run_cli(url, "plan", "--repo", str(creates))  # warm imports, namespace check
            set_faults(url, latency_ms=args.latency_ms)
            reset_requests(url)
            wall, rss, _ = run_cli(
                url,
                "apply",
                "--repo",
                str(creates),
                "--auto-approve",
                rate=10**9,
                concurrency=args.concurrency,
            )
            counts = request_counts(url)
            calls = sum(counts.values())
            ideal = calls * latency / args.concurrency
            full_bucket = max(0, calls - 1200) / 1200 * 300
            empty_bucket = calls / 1200 * 300
            rows.append(
                (
                    f"{args.creates} creates at concurrency {args.concurrency}",
                    str(calls),
                    f"{wall:.2f}",
                    f"{rss}",
                )
            )
            rows.append(("  ideal: calls x latency / concurrency", "", f"{ideal:.2f}", ""))
            rows.append(
                ("  Cloudflare's 1,200 req / 5 min, full bucket", "", f"{full_bucket:.0f}", "")
            )
            rows.append(
                ("  Cloudflare's 1,200 req / 5 min, empty bucket", "", f"{empty_bucket:.0f}", "")
            )

    print(f"\nscripts={args.scripts} latency={args.latency_ms} ms concurrency={args.concurrency}\n")
    header = ("measurement", "API calls", "wall s", "peak RSS MB")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
