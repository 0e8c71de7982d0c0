#!/usr/bin/env python3
"""Benchmarks of the dispatch Worker and the local stack (127.0.0.1 only).

1. Latency and throughput of N sequential keep-alive requests through the generated
   dispatcher to a customer script, against the same script called directly (without the
   dispatcher) in the same workerd process, measured in one run.
2. Start-up time of ``wfp-reconcile dev`` (process start until it serves and watches)
   with the example repository and with 200 generated scripts.
3. Size of the dispatcher bundle with a 10,000-script manifest, and the time Node needs
   to parse that manifest (what the Worker does once per isolate).

4. With ``--fleet``: the dispatcher at fleet scale (10,000 scripts; ``--with-100k`` adds
   100,000 in 10,000 customers): what one change uploads, and in workerd the time to start
   the Worker (which parses its routing data) and the p50/p99 of dispatched requests,
   against a 10-script platform measured in the same run
   (``scripts/bench_dispatcher_fleet.mjs`` does the workerd part).

Usage: .venv/bin/python scripts/bench_dispatcher.py [--requests 2000] [--json]
       .venv/bin/python scripts/bench_dispatcher.py --fleet [--with-100k]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from wfp_reconcile.bundle import ScriptUpload  # noqa: E402
from wfp_reconcile.config import load_repo_dir  # noqa: E402
from wfp_reconcile.config.model import (  # noqa: E402
    Customer,
    Dispatcher,
    Limits,
    OutboundRef,
    OutboundWorker,
    Platform,
    PlatformRepo,
    RoutingData,
    RoutingStore,
    Script,
    Token,
)
from wfp_reconcile.dispatcher import MANIFEST_MODULE, build_dispatcher_upload  # noqa: E402
from wfp_reconcile.dispatcher.records import (  # noqa: E402
    build_records,
    index_key,
    index_shard,
    index_shards,
    index_value,
)
from wfp_reconcile.kinds.dispatcher import DispatcherKind  # noqa: E402
from wfp_reconcile.kinds.protocol import DesiredContext  # noqa: E402
from wfp_reconcile.kinds.routing import RoutingIndexKind, RoutingKind  # noqa: E402
from wfp_reconcile.local.runtime import RuntimeSettings, ensure_installed, run_runtime  # noqa: E402
from wfp_reconcile.local.runtime.devstack import (  # noqa: E402
    DevEvent,
    DevSettings,
    DevStack,
    apply_with_engine,
)
from wfp_reconcile.outcome import Entry, Inventory  # noqa: E402


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def _measure(port: int, path: str, n: int) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(min(100, n)):  # warm the isolates and the connection
        conn.request("GET", path)
        conn.getresponse().read()
    latencies: list[float] = []
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        conn.request("GET", path)
        res = conn.getresponse()
        res.read()
        latencies.append((time.perf_counter() - t) * 1000)
        if res.status != 200:
            raise SystemExit(f"{path} answered {res.status}")
    total = time.perf_counter() - start
    conn.close()
    latencies.sort()
    return {
        "n": n,
        "mean_ms": round(statistics.mean(latencies), 3),
        "p50_ms": round(_percentile(latencies, 0.50), 3),
        "p90_ms": round(_percentile(latencies, 0.90), 3),
        "p99_ms": round(_percentile(latencies, 0.99), 3),
        "max_ms": round(latencies[-1], 3),
        "rps": round(n / total),
    }


def bench_latency(n: int) -> dict[str, Any]:
    repo = load_repo_dir(ROOT)
    events: list[DevEvent] = []
    with tempfile.TemporaryDirectory() as state:
        stack = DevStack(
            DevSettings(repo_dir=ROOT, port=0, state_dir=Path(state)),
            on_event=events.append,
            apply=apply_with_engine,
        )
        with stack:
            assert stack.emulator is not None and stack.runtime is not None
            # A second runtime on the same emulator, with the direct route switched on.
            settings = RuntimeSettings(
                emulator_url=stack.emulator.url,
                emulator_secret=stack.emulator.internal_secret,
                account_id=repo.platform.account_id,
                dispatcher_name=repo.platform.dispatcher.name,
                port=0,
                direct_route=True,
            )
            with run_runtime(settings) as runtime:
                script = "basic-hello"
                via = _measure(runtime.port, f"/{script}/", n)
                direct = _measure(
                    runtime.port, f"/__wfp_direct/{repo.platform.namespace}/{script}/", n
                )
                via_again = _measure(runtime.port, f"/{script}/", n)
    return {"script": script, "dispatcher": via, "direct": direct, "dispatcher_again": via_again}


def _generated_repo(target: Path, scripts: int) -> None:
    shutil.copy(ROOT / "platform.yaml", target)
    shutil.copytree(ROOT / "platform", target / "platform")
    shutil.copytree(ROOT / "customers", target / "customers")
    per_customer = 10
    for c in range(scripts // per_customer):
        cid = f"gen-{c:03d}"
        directory = target / "customers" / cid
        directory.mkdir()
        lines = [f"id: {cid}", f"name: Generated {c}", "plan: basic", "scripts:"]
        for s in range(per_customer):
            name = f"{cid}-s{s}"
            (directory / f"{name}.mjs").write_text(
                f'export default {{ fetch() {{ return new Response("{name}"); }} }};\n'
            )
            lines += [f"  {name}:", f"    main_module: {name}.mjs"]
        (directory / "customer.yaml").write_text("\n".join(lines) + "\n")


def _dev_startup(repo: Path, probe: str) -> float:
    with tempfile.TemporaryDirectory() as state:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "wfp_reconcile", "dev", "--repo", str(repo), "--port", "0"]
            + ["--state", state],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        assert proc.stdout is not None
        url = None
        try:
            for line in proc.stdout:
                match = re.search(r"Dispatcher on (http://127\.0\.0\.1:(\d+))", line)
                if match:
                    url = match.group(2)
                if "Watching for changes" in line:
                    break
            if url is None:
                raise SystemExit("dev did not start")
            conn = http.client.HTTPConnection("127.0.0.1", int(url), timeout=30)
            conn.request("GET", probe)
            res = conn.getresponse()
            res.read()
            elapsed = time.perf_counter() - start
            if res.status != 200:
                raise SystemExit(f"{probe} answered {res.status}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            proc.stdout.close()
    return elapsed


def bench_startup(runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "repo200"
        big.mkdir()
        _generated_repo(big, 200)
        for label, repo, probe in (
            ("example", ROOT, "/basic-hello/"),
            ("example+200", big, "/gen-019-s9/"),
        ):
            times = sorted(_dev_startup(repo, probe) for _ in range(runs))
            out[label] = {"median_s": round(statistics.median(times), 2), "runs": times}
    return out


def _big_repo(scripts: int, *, store: bool = False) -> PlatformRepo:
    dispatcher = (
        Dispatcher(
            routing_data=RoutingData.STORE,
            routing_store=RoutingStore(kv_namespace_id="b" * 32),
        )
        if store
        else Dispatcher()
    )
    platform = Platform(
        account_id="0" * 32,
        namespace="bench",
        compatibility_date="2026-01-01",
        outbound_workers={"egress": OutboundWorker(main_module="e.mjs", parameters=("tier",))},
        default_limits=Limits(cpu_ms=50, subrequests=50),
        dispatcher=dispatcher,
    )
    customers = []
    per_customer = 10
    for c in range(scripts // per_customer):
        cid = f"customer-{c:05d}"
        customers.append(
            Customer(
                id=cid,
                name=f"Customer {c}",
                plan="basic" if c % 3 else "advanced",
                tokens=(Token(name="main", sha256=hashlib.sha256(cid.encode()).hexdigest()),),
                outbound=OutboundRef(worker="egress", params={"tier": "gold"}) if c % 2 else None,
                scripts={
                    f"{cid}-script-{s}": Script(main_module="index.mjs")
                    for s in range(per_customer)
                },
            )
        )
    return PlatformRepo(platform=platform, customers=tuple(customers), files={}, commit="a" * 40)


def bench_bundle(scripts: int) -> dict[str, Any]:
    repo = _big_repo(scripts)
    fingerprints = {
        name: hashlib.sha256(name.encode()).hexdigest()[:32]
        for c in repo.customers
        for name in c.scripts
    }
    start = time.perf_counter()
    upload: ScriptUpload = build_dispatcher_upload(repo, fingerprints, repo.commit)
    build_s = time.perf_counter() - start
    total = sum(len(m.content) for m in upload.modules)
    manifest = next(m.content for m in upload.modules if m.name == MANIFEST_MODULE)
    gz = len(gzip.compress(b"".join(m.content for m in upload.modules), 9))
    parse_ms = None
    node = shutil.which("node")
    if node:
        with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as f:
            f.write(manifest)
        script = (
            "const fs=require('fs');const t=fs.readFileSync(process.argv[1],'utf8');"
            "let best=1e9;for(let i=0;i<5;i++){const s=process.hrtime.bigint();JSON.parse(t);"
            "best=Math.min(best,Number(process.hrtime.bigint()-s)/1e6)}console.log(best)"
        )
        result = subprocess.run(
            [node, "-e", script, f.name], capture_output=True, text=True, check=True
        )
        parse_ms = round(float(result.stdout), 2)
        Path(f.name).unlink()
    return {
        "scripts": scripts,
        "customers": len(repo.customers),
        "bundle_bytes": total,
        "manifest_bytes": len(manifest),
        "bundle_gzip_bytes": gz,
        "build_seconds": round(build_s, 3),
        "node_json_parse_ms": parse_ms,
    }


def _derive_seconds(repo: PlatformRepo, fingerprints: dict[str, str]) -> float:
    """What a plan spends deriving the routing data (the dispatcher and, in the store mode,
    the records) from an inventory of every script: the plan-side cost of each design."""
    inventory = Inventory(
        {
            "script": {
                name: Entry("script", name, c.id, fingerprints[name], True)
                for c in repo.customers
                for name in c.scripts
            }
        }
    )
    built: dict[str, tuple[Any, ...]] = {}
    started = time.perf_counter()
    for kind in (DispatcherKind(), RoutingIndexKind(), RoutingKind()):
        built[kind.name] = tuple(kind.desired(DesiredContext(repo, built, inventory)))
    return round(time.perf_counter() - started, 3)


def _write_upload(directory: Path, upload: ScriptUpload) -> None:
    directory.mkdir(parents=True)
    for module in upload.modules:
        (directory / module.name).write_bytes(module.content)


def bench_fleet(sizes: list[int], requests: int, runs: int) -> list[dict[str, Any]]:
    """Upload size per change, Worker start in workerd and dispatched latency per size."""
    install = ensure_installed()
    rows: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="wfp-fleet-") as tmp:
        for scripts in sizes:
            repo = _big_repo(scripts)
            fingerprints = {
                name: hashlib.sha256(name.encode()).hexdigest()[:32]
                for c in repo.customers
                for name in c.scripts
            }
            started = time.perf_counter()
            upload = build_dispatcher_upload(repo, fingerprints, repo.commit)
            build_s = time.perf_counter() - started
            everything = b"".join(m.content for m in upload.modules)
            manifest = next(m.content for m in upload.modules if m.name == MANIFEST_MODULE)
            directory = Path(tmp) / f"d{scripts}"
            _write_upload(directory, upload)
            rows.append(
                {
                    "scripts": scripts,
                    "design": "manifest",
                    "customers": len(repo.customers),
                    # Every change to any script changes the manifest: the whole bundle goes up.
                    "upload_per_change_bytes": len(everything),
                    "upload_per_change_gzip_bytes": len(gzip.compress(everything, 6)),
                    "manifest_bytes": len(manifest),
                    "build_seconds": round(build_s, 3),
                    "derive_seconds": _derive_seconds(repo, fingerprints),
                }
            )
            probe = f"{repo.customers[0].id}-script-0"
            data = json.loads(manifest)
            names = sorted(data["scripts"])
            step = max(1, len(names) // 200)
            cold = [n for n in names[1::step] if n != probe][:200]
            cases.append(
                {"label": str(scripts), "dir": str(directory), "probe": probe, "cold": cold}
            )
            # The store design (routing_data: store), as apply builds it: a Worker without
            # per-script data, and one KV record per script, token and customer.
            store_repo = _big_repo(scripts, store=True)
            started = time.perf_counter()
            store_upload = build_dispatcher_upload(store_repo, fingerprints, repo.commit)
            store_build_s = time.perf_counter() - started
            started = time.perf_counter()
            records = build_records(store_repo, fingerprints, None)
            records_s = time.perf_counter() - started
            digests = {c: r.digest for c, r in records.items()}
            shards = index_shards(digests)
            changed = repo.customers[0].id
            shard = index_key(index_shard(changed))
            # One customer's change: its records (one bulk write) plus its index record.
            one_customer = records[changed].size + len(shard) + len(index_value(shards[shard]))
            worker = b"".join(m.content for m in store_upload.modules)
            kv_dir = Path(tmp) / f"kv{scripts}"
            _write_upload(kv_dir, store_upload)
            values = {k: v for r in records.values() for k, v in r.records}
            seeded = [f"s:{n}" for n in (probe, *cold)]
            (kv_dir / "records.jsonl").write_text(
                "".join(json.dumps({"key": k, "value": values[k]}) + "\n" for k in seeded)
            )
            rows.append(
                {
                    "scripts": scripts,
                    "design": "store",
                    "customers": len(repo.customers),
                    "upload_per_change_bytes": one_customer,
                    "upload_per_change_gzip_bytes": None,
                    "worker_bytes": len(worker),
                    "worker_gzip_bytes": len(gzip.compress(worker, 6)),
                    "manifest_bytes": len(
                        next(m.content for m in store_upload.modules if m.name == MANIFEST_MODULE)
                    ),
                    "records": len(values),
                    "records_bytes": sum(r.size for r in records.values()),
                    "index_shard_bytes": len(index_value(shards[shard])),
                    "build_seconds": round(store_build_s, 4),
                    "records_build_seconds": round(records_s, 3),
                    "derive_seconds": _derive_seconds(store_repo, fingerprints),
                }
            )
            cases.append(
                {
                    "label": f"kv{scripts}",
                    "kind": "kv",
                    "dir": str(kv_dir),
                    "probe": probe,
                    "cold": cold,
                }
            )
        harness = ROOT / "scripts" / "bench_dispatcher_fleet.mjs"
        config = {
            "installDir": str(install),
            "compatibilityDate": "2025-01-01",
            "requests": requests,
            "runs": runs,
            "parses": 15,
            "cases": cases,
        }
        result = subprocess.run(
            ["node", str(harness)],
            env={**os.environ, "WFP_BENCH_CONFIG": json.dumps(config)},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"the workerd harness failed:\n{result.stderr[-3000:]}")
        measured = {r["label"]: r for r in json.loads(result.stdout.strip().splitlines()[-1])}
    for row in rows:
        label = str(row["scripts"]) if row["design"] == "manifest" else f"kv{row['scripts']}"
        row.update({k: v for k, v in measured[label].items() if k != "label"})
    return rows


def print_fleet(rows: list[dict[str, Any]]) -> None:
    print(
        "| design | scripts | customers | upload per change | Worker size | Worker start in "
        "workerd | routing data parse | first request | p50 | p99 | first request to another "
        "script |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (r["design"], r["scripts"])):
        gz = r["upload_per_change_gzip_bytes"]
        upload = f"{r['upload_per_change_bytes']:,} B" + (f" ({gz:,} gzip)" if gz else "")
        cold = r.get("cold_lookup_p50_ms")
        size = r.get("worker_bytes") or r["upload_per_change_bytes"]
        print(
            f"| {r['design']} | {r['scripts']:,} | {r['customers']:,} | {upload} | {size:,} B "
            f"| {r['start_ms']} ms | {r['parse_ms']} ms | {r['first_request_ms']} ms "
            f"| {r['p50_ms']} ms | {r['p99_ms']} ms | {cold if cold is not None else '-'} ms |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--startup-runs", type=int, default=3)
    parser.add_argument("--manifest-scripts", type=int, default=10_000)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    parser.add_argument("--fleet", action="store_true", help="the dispatcher at fleet scale")
    parser.add_argument("--with-100k", action="store_true", help="--fleet: add 100,000 scripts")
    parser.add_argument("--fleet-runs", type=int, default=3, help="--fleet: Worker starts")
    args = parser.parse_args()
    if args.fleet:
        sizes = [10, 10_000] + ([100_000] if args.with_100k else [])
        rows = bench_fleet(sizes, args.requests, args.fleet_runs)
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            print_fleet(rows)
        return
    ensure_installed()
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "node": subprocess.run(
                ["node", "--version"], capture_output=True, text=True, check=False
            ).stdout.strip(),
        },
        "latency": bench_latency(args.requests),
        "startup": bench_startup(args.startup_runs),
        "bundle": bench_bundle(args.manifest_scripts),
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    lat = results["latency"]
    print(f"machine: {results['machine']}")
    print("| path | n | mean ms | p50 ms | p90 ms | p99 ms | max ms | req/s |")
    print("|---|---|---|---|---|---|---|---|")
    for label in ("dispatcher", "direct", "dispatcher_again"):
        r = lat[label]
        print(
            f"| {label} | {r['n']} | {r['mean_ms']} | {r['p50_ms']} | {r['p90_ms']} | "
            f"{r['p99_ms']} | {r['max_ms']} | {r['rps']} |"
        )
    for label, r in results["startup"].items():
        print(f"dev start-up ({label}): median {r['median_s']} s, runs {r['runs']}")
    print(f"bundle: {json.dumps(results['bundle'])}")


if __name__ == "__main__":
    main()
