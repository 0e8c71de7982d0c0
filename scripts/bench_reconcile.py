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

With ``--growth`` it prints instead a growth table: the no-change plan (with flat and
with wrapped list items), one edited script applied and ``status`` at 1k and 10k scripts
(``--with-100k`` adds 100,000 scripts in 10,000 customers; that run takes a while and is
never part of the test suite), each measured for this checkout and, with
``--baseline DIR`` (a checkout of the baseline commit, e.g. made with
``git worktree add --detach DIR main``), for the baseline against the very same emulator
state in the same run. Columns give wall and CPU seconds (user + system of the measured
process: on a busy machine CPU seconds are the steadier figure), CPU microseconds per
script (flat when the work is linear: a super-linear step shows as a jump) and the CPU
growth factor from the previous size, which is 10x for linear work. A measured command
that fails or runs past ``--timeout`` is shown as such instead of ending the run.
The flat no-change plan runs ``--repeat`` times (default 3) per size and version: the
table shows the median run and every run's wall time (a first run often reads the
repository from disk: this machine's page cache does not keep it between sizes).

Measured processes run as an installed tool does: with cached bytecode (each checkout's
``src`` is compiled in place before measuring, and ``PYTHONDONTWRITEBYTECODE`` is dropped
from their environment; the standard library and site-packages have theirs already).
The emulator's workerd pre-flight of uploads is off (``WFP_EMULATOR_PREFLIGHT=0``): it
stands in for Cloudflare's own validation, whose cost the added latency models. ``apply``
runs as users run it: since main's 38d600a that includes apply's own pre-flight of the
Workers it uploads (a checkout from before it has none).

Usage: scripts/bench_reconcile.py [--scripts 10000] [--creates 1000] [--latency-ms 50]
       scripts/bench_reconcile.py --growth [--with-100k] [--baseline DIR] [--latency-ms 50]
                                  [--timeout 900] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
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


# /__emulator needs the API token (or the per-run secret) since issue 11 item 8.
AUTH = {"Authorization": f"Bearer {TOKEN}"}


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
        env={**os.environ, "WFP_EMULATOR_PREFLIGHT": "0"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/__emulator/state", headers=AUTH, timeout=1)
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
    httpx.post(f"{url}/__emulator/faults", headers=AUTH, json=faults, timeout=10).raise_for_status()


def reset_requests(url: str) -> None:
    httpx.post(f"{url}/__emulator/requests/reset", headers=AUTH, timeout=10).raise_for_status()


def request_counts(url: str) -> dict[str, int]:
    data = httpx.get(f"{url}/__emulator/requests", headers=AUTH, timeout=30).json()
    return {str(k): int(v) for k, v in data["counts"].items()}


@dataclasses.dataclass(frozen=True)
class Run:
    """One measured ``wfp-reconcile`` process."""

    wall: float
    cpu: float
    """User + system seconds of the process itself."""
    rss_mb: int
    code: int
    """Its exit code; -1 when it was stopped at the timeout."""
    stdout: str
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.code in (0, 2)

    def why(self) -> str:
        """What a failed run shows in a table cell."""
        if self.code == -1:
            return f"> {self.wall:.0f} s (stopped)"
        last = next((line for line in reversed(self.stderr.splitlines()) if line.strip()), "")
        return f"failed (exit {self.code}: {last[:80]})"


def cli_env(url: str, *, rate: int, concurrency: int, src: Path | None) -> dict[str, str]:
    env = {
        **os.environ,
        "CLOUDFLARE_API_TOKEN": TOKEN,
        "CLOUDFLARE_API_BASE_URL": f"{url}/client/v4",
        "WFP_RATE_LIMIT": str(rate),
        "WFP_CONCURRENCY": str(concurrency),
    }
    # Not PYTHONPYCACHEPREFIX: the interpreter would then look for the bytecode of the
    # standard library and site-packages there too, and the first measured run would
    # compile all of it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if src is not None:
        # PYTHONPATH comes before the editable install, so the baseline's modules win.
        env["PYTHONPATH"] = str(src)
    return env


def warm_bytecode(src: Path | None) -> None:
    """Compile a checkout's modules once, as installing it would, before anything is timed
    (into its ``__pycache__`` directories; a read-only checkout is then measured compiling)."""
    env = cli_env("http://127.0.0.1:9", rate=1000, concurrency=8, src=src)
    subprocess.run(
        [PY, "-m", "compileall", "-q", str(src or ROOT / "src")],
        env=env, check=False, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def run_cli(
    url: str,
    *args: str,
    rate: int = 1000,
    concurrency: int = 8,
    src: Path | None = None,
    timeout: float | None = None,
    check: bool = True,
) -> Run:
    """Run one ``wfp-reconcile`` command (of the checkout at ``src``, default this one).

    With ``check`` a failure ends the benchmark; without, it is returned (``Run.ok``).
    """
    env = cli_env(url, rate=rate, concurrency=concurrency, src=src)
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([PY, "-m", "wfp_reconcile", *args], env=env, stdout=out, stderr=err)
        stopped = threading.Event()

        def stop() -> None:
            stopped.set()
            os.kill(proc.pid, signal.SIGKILL)  # not proc.kill(): it would reap the child

        timer = threading.Timer(timeout, stop) if timeout is not None else None
        if timer is not None:
            timer.start()
        # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would mix in others).
        _, status, usage = os.wait4(proc.pid, 0)
        if timer is not None:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    cpu = usage.ru_utime + usage.ru_stime
    code = -1 if stopped.is_set() else proc.returncode
    run = Run(wall, cpu, usage.ru_maxrss // 1024, code, stdout, stderr)
    if check and not run.ok:
        raise SystemExit(f"wfp-reconcile {' '.join(args)} failed:\n{stderr[-2000:]}")
    return run


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


def seed(state: Path, repo_dir: Path) -> None:
    """Put what ``apply`` would upload straight into the emulator's store (it is not running).

    At 100,000 scripts seeding through the API would take longer than everything measured;
    a no-change plan afterwards (exit code 0) proves the state is exactly what apply makes.
    """
    from wfp_reconcile.config import load_repo_dir
    from wfp_reconcile.desired import build_desired
    from wfp_reconcile.local.emulator.store import REGULAR, ModuleRow, Store

    repo = load_repo_dir(repo_dir)
    desired = build_desired(repo)
    store = Store(state)
    try:
        if store.get_namespace(ACCOUNT, desired.namespace) is None:
            store.create_namespace(ACCOUNT, desired.namespace)
        for worker in desired.all():
            upload = worker.upload_with_tags()
            modules = [ModuleRow(m.name, m.content_type, m.content) for m in upload.modules]
            metadata = {k: v for k, v in upload.metadata.items() if k != "tags"}
            namespace = desired.namespace if worker.customer else REGULAR
            store.put_script(ACCOUNT, namespace, worker.name, metadata, modules, worker.tags)
    finally:
        store.close()


def edit(repo: Path, marker: str) -> None:
    victim = repo / "customers" / "cust-00000" / "s-00000-0.mjs"
    victim.write_text(TEMPLATE % f"s-00000-0 {marker}")


@dataclasses.dataclass(frozen=True)
class GrowthRow:
    scripts: int
    version: str
    plan: Run
    """The median of the repeated no-change plans (by wall time)."""
    plan_walls: tuple[float, ...]
    """Every repeated plan's wall time, in the order they ran."""
    plan_calls: int
    wrapped: Run
    """The same no-change plan with the list items wrapped (``list_shape: wrapped``)."""
    wrapped_calls: int
    apply: Run
    apply_calls: int
    uploads: str
    status: Run


def median_run(runs: Sequence[Run]) -> Run:
    """The failed run if one failed, else the run of median wall time."""
    failed = [run for run in runs if not run.ok]
    if failed:
        return failed[0]
    return sorted(runs, key=lambda run: run.wall)[len(runs) // 2]


def _summary(label: str, row: GrowthRow) -> str:
    def part(name: str, run: Run, calls: str) -> str:
        if not run.ok:
            return f"{name} {run.why()}"
        return f"{name} {calls} {run.wall:.2f} s wall {run.cpu:.2f} s CPU {run.rss_mb} MB"

    return (
        f"  {label}: {part('plan', row.plan, f'{row.plan_calls} calls')} "
        f"(runs: {_walls(row)}); "
        f"{part('wrapped', row.wrapped, f'{row.wrapped_calls} calls')}; "
        f"{part('apply', row.apply, f'{row.apply_calls} calls ({row.uploads})')}; "
        f"{part('status', row.status, '')}"
    )


def measure_size(
    tmp: Path,
    scripts: int,
    latency_ms: int,
    versions: list[tuple[str, Path | None]],
    timeout: float,
    repeat: int,
) -> list[GrowthRow]:
    repo = tmp / f"repo-{scripts}"
    started = time.perf_counter()
    write_repo(repo, scripts)
    generated = time.perf_counter() - started
    seed(tmp / f"state-{scripts}", repo)
    print(
        f"{scripts} scripts generated in {generated:.0f} s, seeded in "
        f"{time.perf_counter() - started - generated:.0f} s",
        file=sys.stderr,
    )
    rows: list[GrowthRow] = []
    with emulator(tmp / f"state-{scripts}") as url:
        check = run_cli(url, "plan", "--repo", str(repo), "--detailed-exitcode")
        if check.code != 0:
            raise SystemExit(
                f"the seeded namespace is not a no-change plan:\n{check.stdout[-2000:]}"
            )
        for label, src in versions:
            measured = functools.partial(run_cli, url, src=src, timeout=timeout, check=False)
            set_faults(url, latency_ms=latency_ms)
            # The same plan ``repeat`` times, the median shown: the first run after other
            # work often finds the repository's files evicted from the page cache.
            plans: list[Run] = []
            for _ in range(repeat):
                reset_requests(url)
                plans.append(measured("plan", "--repo", str(repo), "--detailed-exitcode"))
                plan_calls = sum(request_counts(url).values())
                if not plans[-1].ok:
                    break
            plan = median_run(plans)
            set_faults(url, latency_ms=latency_ms, list_shape="wrapped")
            reset_requests(url)
            wrapped = measured("plan", "--repo", str(repo), "--detailed-exitcode")
            wrapped_calls = sum(request_counts(url).values())
            set_faults(url, latency_ms=latency_ms)
            edit(repo, label)
            reset_requests(url)
            applied = measured("apply", "--repo", str(repo), "--auto-approve")
            counts = request_counts(url)
            uploads = f"{counts.get('upload_script', 0)}+{counts.get('upload_worker', 0)}"
            reset_requests(url)
            status = measured("status", "--repo", str(repo), "--format", "json")
            row = GrowthRow(
                scripts, label, plan, tuple(run.wall for run in plans), plan_calls, wrapped,
                wrapped_calls, applied, sum(counts.values()), uploads, status,
            )  # fmt: skip
            rows.append(row)
            # Each row as soon as it is measured: a 100k run takes long enough to want them.
            print(_summary(label, row), file=sys.stderr, flush=True)
    shutil.rmtree(repo)
    shutil.rmtree(tmp / f"state-{scripts}")
    return rows


def print_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |")


def _walls(row: GrowthRow) -> str:
    return " / ".join(f"{wall:.2f}" for wall in row.plan_walls)


def _per_script(run: Run, scripts: int) -> str:
    """CPU microseconds per script: constant for linear work, a jump where it is not."""
    return f"{run.cpu / scripts * 1e6:,.0f}" if run.ok else "-"


def growth_table(rows: list[GrowthRow]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    header = (
        "scripts", "version", "plan calls (wrapped)", "plan wall s", "plan wall s, each run",
        "plan CPU s",
        "plan CPU µs/script", "CPU growth", "plan RSS MB", "apply calls (uploads)",
        "apply wall s", "apply RSS MB", "status wall s", "status CPU µs/script",
    )  # fmt: skip
    table: list[tuple[str, ...]] = []
    previous: dict[str, GrowthRow] = {}
    for row in rows:
        before = previous.get(row.version)
        factor = (
            f"{row.plan.cpu / before.plan.cpu:.1f}x for {row.scripts // before.scripts}x"
            if before is not None and before.plan.ok and row.plan.ok else ""
        )  # fmt: skip
        plan_ok, apply_ok, status_ok = row.plan.ok, row.apply.ok, row.status.ok
        table.append(
            (
                f"{row.scripts:,}", row.version,
                f"{row.plan_calls} ({row.wrapped_calls})" if row.wrapped.ok
                else f"{row.plan_calls} (wrapped: {row.wrapped.why()})",
                f"{row.plan.wall:.2f}" if plan_ok else row.plan.why(),
                _walls(row),
                f"{row.plan.cpu:.2f}" if plan_ok else "-",
                _per_script(row.plan, row.scripts), factor,
                str(row.plan.rss_mb) if plan_ok else "-",
                f"{row.apply_calls} ({row.uploads})",
                f"{row.apply.wall:.2f}" if apply_ok else row.apply.why(),
                str(row.apply.rss_mb),
                f"{row.status.wall:.2f}" if status_ok else row.status.why(),
                _per_script(row.status, row.scripts),
            )
        )  # fmt: skip
        previous[row.version] = row
    return header, table


def growth(args: argparse.Namespace) -> int:
    sizes = [1_000, 10_000] + ([100_000] if args.with_100k else [])
    versions: list[tuple[str, Path | None]] = []
    if args.baseline:
        base = Path(args.baseline).resolve()
        commit = subprocess.run(
            ["git", "-C", str(base), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        versions.append((f"baseline {commit}", base / "src"))
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    versions.append((f"this {head or 'checkout'}", None))
    for _, src in versions:
        warm_bytecode(src)
    rows: list[GrowthRow] = []
    with tempfile.TemporaryDirectory(prefix="wfp-growth-") as tmp_name:
        for size in sizes:
            rows += measure_size(
                Path(tmp_name), size, args.latency_ms, versions, args.timeout, args.repeat
            )
    print(
        "\nno-change plan (flat and wrapped list items), one edited script applied, status; "
        f"latency={args.latency_ms} ms, 10 scripts a customer\n"
    )
    print_table(*growth_table(rows))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", type=int, default=10_000)
    parser.add_argument("--creates", type=int, default=1_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--growth", action="store_true", help="print the 1k/10k(/100k) table")
    parser.add_argument("--with-100k", action="store_true", help="add 100,000 scripts (slow)")
    parser.add_argument("--baseline", help="a checkout of the baseline commit to measure too")
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="stop a measured command after this long"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="no-change plans per size and version (median shown)"
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.growth:
        return growth(args)
    latency = args.latency_ms / 1000
    rows: list[tuple[str, str, str, str, str]] = []
    warm_bytecode(None)

    with tempfile.TemporaryDirectory(prefix="wfp-bench-") as tmp_name:
        tmp = Path(tmp_name)
        repo = tmp / "repo"
        write_repo(repo, args.scripts)
        seed(tmp / "state", repo)
        with emulator(tmp / "state") as url:
            set_faults(url, latency_ms=args.latency_ms)
            reset_requests(url)
            plan = run_cli(url, "plan", "--repo", str(repo), "--detailed-exitcode")
            calls = sum(request_counts(url).values())
            reset_requests(url)
            naive_wall, naive_calls = naive_plan(url, args.concurrency)
            rows.append(
                (
                    "no-change plan, wfp-reconcile", str(calls), f"{plan.wall:.2f}",
                    f"{plan.cpu:.2f}", f"{plan.rss_mb}",
                )
            )  # fmt: skip
            rows.append(
                (
                    "no-change plan, naive (1 call/script)",
                    str(naive_calls),
                    f"{naive_wall:.2f}",
                    "-",
                    "-",
                )
            )
            rows.append(
                (
                    "ratio naive / wfp-reconcile",
                    f"{naive_calls / calls:.0f}x",
                    f"{naive_wall / plan.wall:.1f}x",
                    "",
                    "",
                )
            )
            # Cloudflare's OpenAPI wraps each list item ({created_on, ..., script: {id, tags}}):
            # the same plan, with the same calls, must come out of that shape too.
            set_faults(url, latency_ms=args.latency_ms, list_shape="wrapped")
            reset_requests(url)
            wrapped = run_cli(url, "plan", "--repo", str(repo), "--detailed-exitcode")
            wrapped_calls = sum(request_counts(url).values())
            set_faults(url, latency_ms=args.latency_ms)
            if (plan.code, wrapped.code) != (0, 0) or wrapped_calls != calls:
                raise SystemExit(
                    f"wrapped list items: exit {wrapped.code} with {wrapped_calls} calls, flat: "
                    f"exit {plan.code} with {calls} calls; both must be a no-change plan"
                )
            rows.append(
                (
                    "no-change plan, wrapped list items", str(wrapped_calls),
                    f"{wrapped.wall:.2f}", f"{wrapped.cpu:.2f}", f"{wrapped.rss_mb}",
                )
            )  # fmt: skip

            edit(repo, "edited")
            reset_requests(url)
            applied = run_cli(url, "apply", "--repo", str(repo), "--auto-approve")
            counts = request_counts(url)
            rows.append(
                (
                    "one changed script: apply",
                    f"{sum(counts.values())} ({counts.get('upload_script', 0)} script upload, "
                    f"{counts.get('upload_worker', 0)} dispatcher)",
                    f"{applied.wall:.2f}",
                    f"{applied.cpu:.2f}",
                    f"{applied.rss_mb}",
                )
            )

        creates = tmp / "creates"
        write_repo(creates, args.creates)
        with emulator(tmp / "state2") as url:
            set_faults(url, latency_ms=0)
            run_cli(url, "plan", "--repo", str(creates))  # warm imports, namespace check
            set_faults(url, latency_ms=args.latency_ms)
            reset_requests(url)
            created = run_cli(
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
                    f"{created.wall:.2f}",
                    f"{created.cpu:.2f}",
                    f"{created.rss_mb}",
                )
            )
            rows.append(("  ideal: calls x latency / concurrency", "", f"{ideal:.2f}", "", ""))
            rows.append(
                ("  Cloudflare's 1,200 req / 5 min, full bucket", "", f"{full_bucket:.0f}", "", "")
            )
            rows.append(
                (
                    "  Cloudflare's 1,200 req / 5 min, empty bucket",
                    "",
                    f"{empty_bucket:.0f}",
                    "",
                    "",
                )
            )

    print(f"\nscripts={args.scripts} latency={args.latency_ms} ms concurrency={args.concurrency}\n")
    print_table(("measurement", "API calls", "wall s", "CPU s", "peak RSS MB"), rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
