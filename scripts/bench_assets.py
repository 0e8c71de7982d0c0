#!/usr/bin/env python3
"""Benchmark static-asset uploads against the local Cloudflare API emulator.

One customer script with a site of F files (S MiB in total), applied with the emulator
adding a fixed latency to every request. Measured in one run, each a separate
``wfp-reconcile`` process:

1. first apply: every file is uploaded (the upload session asks for all of them);
2. one changed file: exactly one bucket with one file;
3. a code-only change: ``keep_assets``, zero asset requests;
4. a no-change plan: no asset requests at all;

and, as the baseline in the same run, the first apply's work again into a second, empty
namespace (what every deploy would cost a tool that re-sent the whole site).

Usage: scripts/bench_assets.py [--files 1000] [--mib 10] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_reconcile import (  # noqa: E402  (a sibling script, not a package)
    ACCOUNT,
    emulator,
    request_counts,
    reset_requests,
    run_cli,
    set_faults,
)

ASSET_KINDS = ("assets_upload_session", "assets_upload")


def write_repo(root: Path, files: int, total_bytes: int) -> None:
    (root / "customers" / "site").mkdir(parents=True)
    (root / "platform.yaml").write_text(
        f"account_id: {ACCOUNT}\n"
        "namespace: ${BENCH_NS:-assets-a}\n"
        'compatibility_date: "2025-04-01"\n'
        "dispatcher: {name: bench-dispatcher}\n"
    )
    (root / "customers/site/customer.yaml").write_text(
        "id: site\nname: Site\nplan: basic\nscripts:\n  site:\n    main_module: worker.mjs\n"
        "    assets:\n      directory: public\n      binding: ASSETS\n"
    )
    (root / "customers/site/worker.mjs").write_text(
        "export default { fetch(r, env) { return env.ASSETS.fetch(r); } };\n"
    )
    size = total_bytes // files
    public = root / "customers/site/public"
    for i in range(files):
        path = public / f"d{i % 20:02d}" / f"page-{i:04d}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        # Distinct content per file (a site's pages are not copies of each other).
        path.write_bytes((f"<!-- {i} -->" + "x" * size)[:size].encode())


def measure(
    url: str, repo: Path, command: str, ns: str = "assets-a"
) -> tuple[float, dict[str, int]]:
    reset_requests(url)
    os.environ["BENCH_NS"] = ns
    args = ["--repo", str(repo)] + (["--auto-approve"] if command == "apply" else [])
    run = run_cli(url, command, *args)
    return run.wall, request_counts(url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--mib", type=float, default=10)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        write_repo(repo, args.files, int(args.mib * 1024 * 1024))
        with emulator(Path(tmp) / "state") as url:
            set_faults(url, latency_ms=args.latency_ms)

            def row(label: str, wall: float, counts: dict[str, int]) -> None:
                total = sum(counts.values())
                assets = ", ".join(f"{k} {counts.get(k, 0)}" for k in ASSET_KINDS)
                uploads = counts.get("upload_script", 0) + counts.get("upload_worker", 0)
                rows.append((label, str(total), f"{assets}; uploads {uploads}", f"{wall:.2f}"))

            wall, counts = measure(url, repo, "apply")
            row(f"first apply ({args.files} files, {args.mib:g} MiB)", wall, counts)
            page = next((repo / "customers/site/public/d00").iterdir())
            page.write_bytes(page.read_bytes() + b"<!-- edited -->")
            wall, counts = measure(url, repo, "apply")
            assert counts.get("assets_upload") == 1, counts
            row("one changed file", wall, counts)
            worker = repo / "customers/site/worker.mjs"
            worker.write_text(worker.read_text() + "// v2\n")
            wall, counts = measure(url, repo, "apply")
            assert not any(counts.get(k) for k in ASSET_KINDS), counts
            row("code-only change (keep_assets)", wall, counts)
            wall, counts = measure(url, repo, "plan")
            assert not any(counts.get(k) for k in ASSET_KINDS), counts
            row("no-change plan", wall, counts)
            wall, counts = measure(url, repo, "apply", ns="assets-b")
            row("baseline: whole site again (empty namespace)", wall, counts)
    print(f"\nfiles={args.files} size={args.mib:g} MiB latency={args.latency_ms} ms\n")
    widths = [
        max(len(r[i]) for r in [("measurement", "calls", "of which", "wall s"), *rows])
        for i in range(4)
    ]
    header = ("measurement", "calls", "of which", "wall s")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
