"""The reliability harness: a generated fleet, applies under faults and kills, and the checks.

Shared by the CI-sized tests in this directory and by ``scripts/soak.py`` (the long runs),
so a figure in ``docs/reliability.md`` and a test assertion come from the same code.

The emulator runs in a thread of the calling process (``run_emulator``); applies run either
in-process through the engine (fault soak, rate limit: exact client settings) or as
``wfp-reconcile apply`` subprocesses (kills: SIGKILL needs a process of its own). The
checks read the emulator's SQLite store directly, so they see the truth even while faults
are being injected into the API.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import yaml

from wfp_reconcile.bundle import Module, ScriptUpload
from wfp_reconcile.cloudflare import ClientSettings, CloudflareClient
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.desired import build_desired
from wfp_reconcile.engine import apply_plan, plan_repo
from wfp_reconcile.errors import WfpError
from wfp_reconcile.local.emulator import EmulatorServer
from wfp_reconcile.local.emulator.store import REGULAR

__all__ = [
    "ACCOUNT",
    "NAMESPACE",
    "TOKEN",
    "ApplyRounds",
    "Fleet",
    "KillOutcome",
    "Verdict",
    "apply_in_process",
    "apply_until_converged",
    "cli_env",
    "faulty_requests",
    "kill_apply",
    "run_cli",
    "seed_unmanaged",
    "settings_for",
    "snapshot_unmanaged",
    "verify",
    "writes_since",
]

ACCOUNT = "0123456789abcdef0123456789abcdef"
NAMESPACE = "soak-ns"
MANAGEMENT_TAG = "wfp-managed"
TOKEN = "soak-api-token-5f3c9a0e7d214b8a"
UNMANAGED_PREFIX = "foreign-"

_SCRIPT = (
    'import { platformThing } from "./platform_module.mjs";\n'
    "export default {\n"
    "  async fetch(request, env, ctx) {\n"
    '    return new Response("%s v%d " + platformThing);\n'
    "  }\n"
    "};\n"
)


# -- the fleet -------------------------------------------------------------------------------


@dataclasses.dataclass
class RoundChanges:
    """What one random round did to the repository."""

    changed: int = 0
    added: int = 0
    removed: int = 0
    retagged: int = 0
    customers_removed: int = 0

    def __str__(self) -> str:
        return (
            f"{self.changed} changed, {self.added} added, {self.removed} removed, "
            f"{self.retagged} retagged, {self.customers_removed} customers removed"
        )


@dataclasses.dataclass
class Fleet:
    """A generated platform repository of many customers and scripts, mutated at random.

    ``customers`` maps customer id -> script name -> code version; the files on disk are
    rewritten from it by ``write``.
    """

    root: Path
    rng: random.Random
    customers: dict[str, dict[str, int]]
    plans: dict[str, str]
    next_script: int = 0
    next_customer: int = 0

    @classmethod
    def create(cls, root: Path, *, scripts: int, customers: int, seed: int) -> Fleet:
        fleet = cls(root=root, rng=random.Random(seed), customers={}, plans={})
        for _ in range(customers):
            fleet._new_customer()
        cids = sorted(fleet.customers)
        for i in range(scripts):
            fleet._new_script(cids[i % len(cids)])
        fleet.write()
        return fleet

    def _new_customer(self) -> str:
        cid = f"cust-{self.next_customer:03d}"
        self.next_customer += 1
        self.customers[cid] = {}
        self.plans[cid] = "basic"
        return cid

    def _new_script(self, cid: str) -> str:
        name = f"s-{self.next_script:05d}"
        self.next_script += 1
        self.customers[cid][name] = 1
        return name

    def declared(self) -> set[str]:
        return {name for scripts in self.customers.values() for name in scripts}

    def write(self) -> None:
        """Write platform.yaml and every customer directory from the model."""
        platform = self.root / "platform"
        platform.mkdir(parents=True, exist_ok=True)
        (platform / "platform_module.mjs").write_text(
            'const platformThing = "from the platform"; export { platformThing };\n'
        )
        (self.root / "platform.yaml").write_text(
            yaml.safe_dump(
                {
                    "account_id": ACCOUNT,
                    "namespace": NAMESPACE,
                    "compatibility_date": "2024-09-23",
                    "platform_modules": ["platform/platform_module.mjs"],
                    "dispatcher": {"name": "soak-dispatcher"},
                    "safety": {"max_deletes": 100_000, "max_delete_fraction": 1.0},
                },
                sort_keys=False,
            )
        )
        customers_dir = self.root / "customers"
        if customers_dir.exists():
            shutil.rmtree(customers_dir)
        for cid, scripts in self.customers.items():
            directory = customers_dir / cid
            directory.mkdir(parents=True)
            declared: dict[str, dict[str, str]] = {}
            for name, version in scripts.items():
                (directory / f"{name}.mjs").write_text(_SCRIPT % (name, version))
                declared[name] = {"main_module": f"{name}.mjs"}
            doc = {"id": cid, "name": cid.title(), "plan": self.plans[cid], "scripts": declared}
            (directory / "customer.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))

    def mutate(
        self,
        *,
        change: float = 0.15,
        remove: float = 0.08,
        add: float = 0.05,
        retag_customers: float = 0.05,
        drop_customer: bool = True,
    ) -> RoundChanges:
        """One random round of code changes, removals, additions and plan changes."""
        rng = self.rng
        out = RoundChanges()
        if drop_customer and len(self.customers) > 2 and rng.random() < 0.5:
            victim = rng.choice(sorted(self.customers))
            out.removed += len(self.customers.pop(victim))
            self.plans.pop(victim)
            out.customers_removed += 1
        for cid in sorted(self.customers):
            scripts = self.customers[cid]
            for name in sorted(scripts):
                roll = rng.random()
                if roll < remove and len(scripts) > 1:
                    del scripts[name]
                    out.removed += 1
                elif roll < remove + change:
                    scripts[name] += 1
                    out.changed += 1
            if rng.random() < retag_customers:
                self.plans[cid] = "advanced" if self.plans[cid] == "basic" else "basic"
                out.retagged += len(scripts)
        total = sum(len(s) for s in self.customers.values())
        for _ in range(max(1, round(total * add))):
            cid = rng.choice(sorted(self.customers))
            self._new_script(cid)
            out.added += 1
        self.write()
        return out

    def remove_scripts(self, count: int) -> int:
        """Remove ``count`` random scripts (keeping one per customer); return how many."""
        candidates = [
            (cid, name)
            for cid, scripts in sorted(self.customers.items())
            for name in sorted(scripts)
            if len(scripts) > 1
        ]
        removed = 0
        for cid, name in self.rng.sample(candidates, min(count, len(candidates))):
            if len(self.customers[cid]) > 1:
                del self.customers[cid][name]
                removed += 1
        self.write()
        return removed

    def add_scripts(self, count: int) -> None:
        """Add ``count`` scripts to random customers."""
        for _ in range(count):
            self._new_script(self.rng.choice(sorted(self.customers)))
        self.write()

    def change_scripts(self, count: int) -> int:
        """Bump the code of ``count`` random scripts; return how many."""
        names = sorted((cid, n) for cid, s in self.customers.items() for n in s)
        picked = self.rng.sample(names, min(count, len(names)))
        for cid, name in picked:
            self.customers[cid][name] += 1
        self.write()
        return len(picked)


# -- unmanaged scripts -----------------------------------------------------------------------


def seed_unmanaged(client: CloudflareClient, count: int) -> list[str]:
    """Upload ``count`` scripts without the management tag (another team's, say)."""
    client.ensure_namespace(NAMESPACE)
    names = [f"{UNMANAGED_PREFIX}{i:03d}" for i in range(count)]
    for i, name in enumerate(names):
        tags = ["other-team"] if i % 2 else []
        upload = ScriptUpload(
            metadata={"main_module": "w.mjs", "tags": tags},
            modules=(
                Module(
                    "w.mjs",
                    f"export default {{}}; // {name}\n".encode(),
                    "application/javascript+module",
                ),
            ),
        )
        client.upload_script(NAMESPACE, name, upload)
    return names


def snapshot_unmanaged(server: EmulatorServer) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """Name -> (etag, modified_on, tags) of every script without the management tag."""
    rows = server.state.store.list_scripts(ACCOUNT, NAMESPACE, filters=[(MANAGEMENT_TAG, False)])
    return {r.name: (r.etag, r.modified_on, r.tags) for r in rows}


# -- checks ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Verdict:
    """How the namespace differs from the repository; empty lists mean it matches exactly."""

    missing: list[str] = dataclasses.field(default_factory=list)
    """Declared scripts that are not in the namespace (lost or never created)."""
    extra: list[str] = dataclasses.field(default_factory=list)
    """Managed scripts the repository no longer declares."""
    wrong: list[str] = dataclasses.field(default_factory=list)
    """Scripts whose modules or tags differ from the repository's."""
    touched_unmanaged: list[str] = dataclasses.field(default_factory=list)
    """Unmanaged scripts that changed, vanished or received a write."""
    deleted_declared: list[str] = dataclasses.field(default_factory=list)
    """Deletes the emulator answered for names the repository declares."""

    @property
    def converged(self) -> bool:
        return not (self.missing or self.extra or self.wrong)

    @property
    def safe(self) -> bool:
        """Nothing lost and nothing wrongly touched (convergence aside)."""
        return not (self.touched_unmanaged or self.deleted_declared)

    @property
    def ok(self) -> bool:
        return self.converged and self.safe

    def __str__(self) -> str:
        parts = [
            f"{label}: {sorted(items)[:10]}"
            for label, items in dataclasses.asdict(self).items()
            if items
        ]
        return "; ".join(parts) or "namespace matches the repository"


@dataclasses.dataclass(frozen=True)
class Write:
    """A write the emulator answered with success."""

    kind: str
    name: str


def writes_since(server: EmulatorServer, start: int) -> list[Write]:
    """Successful writes to namespace scripts among log records ``start:``."""
    out: list[Write] = []
    for record in server.requests()[start:]:
        if record.kind in ("upload_script", "delete_script", "put_tags", "put_tag", "delete_tag"):
            if 200 <= record.status < 300:
                name = unquote(record.path.split("/scripts/", 1)[1].split("/", 1)[0])
                out.append(Write(record.kind, name))
    return out


def verify(
    server: EmulatorServer,
    repo_root: Path,
    *,
    unmanaged: dict[str, tuple[str, str, tuple[str, ...]]],
    log_start: int = 0,
    still_declared: set[str] | None = None,
) -> Verdict:
    """Compare the emulator's namespace with the repository at ``repo_root``.

    Args:
        unmanaged: ``snapshot_unmanaged`` taken when they were seeded.
        log_start: Check the writes logged from this record on.
        still_declared: Names no write may delete (defaults to the repository's names).
    """
    store = server.state.store
    desired = build_desired(load_repo_dir(repo_root, env={}))
    want = {w.name: w for w in desired.scripts}
    rows = {r.name: r for r in store.list_scripts(ACCOUNT, NAMESPACE)}
    managed = {name for name, r in rows.items() if MANAGEMENT_TAG in r.tags}
    verdict = Verdict(missing=sorted(set(want) - managed), extra=sorted(managed - set(want)))
    for name in sorted(set(want) & managed):
        worker = want[name]
        stored = {m.name: m.content for m in store.get_modules(ACCOUNT, NAMESPACE, name)}
        expected = {m.name: m.content for m in worker.upload.modules}
        if stored != expected or set(rows[name].tags) != set(worker.tags):
            verdict.wrong.append(name)
    for worker in (*desired.outbound, *((desired.dispatcher,) if desired.dispatcher else ())):
        row = store.get_script(ACCOUNT, REGULAR, worker.name)
        if row is None:
            verdict.missing.append(worker.name)
        elif set(row.tags) != set(worker.tags):
            verdict.wrong.append(worker.name)
    now = snapshot_unmanaged(server)
    verdict.touched_unmanaged = sorted(n for n in unmanaged if now.get(n) != unmanaged[n])
    protected = set(want) if still_declared is None else still_declared
    for write in writes_since(server, log_start):
        if write.name in unmanaged:
            verdict.touched_unmanaged.append(f"{write.kind} {write.name}")
        if write.kind == "delete_script" and write.name in protected:
            verdict.deleted_declared.append(write.name)
    return verdict


def faulty_requests(server: EmulatorServer, start: int = 0) -> tuple[int, int]:
    """(requests with an injected fault, all requests) among log records ``start:``."""
    records = server.requests()[start:]
    return sum(1 for r in records if r.fault), len(records)


# -- applying --------------------------------------------------------------------------------


def settings_for(server: EmulatorServer, **overrides: object) -> ClientSettings:
    """Client settings for ``server``: unpaced, short backoff unless overridden."""
    values: dict[str, object] = {
        "account_id": ACCOUNT,
        "api_token": server.api_token,
        "base_url": server.api_base,
        "requests_per_window": 1_000_000,
        "window_seconds": 1.0,
        "max_concurrency": 8,
        "max_attempts": 6,
        "max_retry_seconds": 60.0,
        "timeout_seconds": 10.0,
        "backoff_base_seconds": 0.01,
        "backoff_max_seconds": 0.2,
    }
    values.update(overrides)
    return ClientSettings(**values)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class ApplyAttempt:
    """One in-process plan + apply."""

    changes: int
    failed: int
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None and self.failed == 0


def apply_in_process(repo_root: Path, settings: ClientSettings) -> ApplyAttempt:
    """Plan and apply through the engine, as ``apply --auto-approve`` does."""
    started = time.monotonic()
    repo = load_repo_dir(repo_root, env={})
    try:
        with CloudflareClient(settings) as client:
            run = plan_repo(repo, client)
            writes = sum(1 for c in run.plan.changes if c.action.writes)
            if not run.plan.has_changes:
                return ApplyAttempt(0, 0, None, time.monotonic() - started)
            result = apply_plan(run.plan, repo, client, verify_state=False)
    except WfpError as exc:
        return ApplyAttempt(0, 0, exc.message, time.monotonic() - started)
    return ApplyAttempt(writes, len(result.failed), None, time.monotonic() - started)


@dataclasses.dataclass(frozen=True)
class ApplyRounds:
    """The applies one round needed."""

    attempts: tuple[ApplyAttempt, ...]

    @property
    def ok(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].ok


def apply_until_converged(
    repo_root: Path, settings: ClientSettings, *, max_applies: int = 3
) -> ApplyRounds:
    """Apply, then re-run (at most ``max_applies - 1`` times) while something failed."""
    attempts: list[ApplyAttempt] = []
    for _ in range(max_applies):
        attempt = apply_in_process(repo_root, settings)
        attempts.append(attempt)
        if attempt.ok:
            break
    return ApplyRounds(tuple(attempts))


# -- the CLI as a subprocess -----------------------------------------------------------------


def cli_env(server: EmulatorServer, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLOUDFLARE_", "WFP_"))
    }
    env.update(
        {
            "CLOUDFLARE_API_TOKEN": server.api_token,
            "CLOUDFLARE_API_BASE_URL": server.api_base,
            "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
            "WFP_CONCURRENCY": "4",
            **extra,
        }
    )
    return env


def _command(repo_root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "wfp_reconcile", *args, "--repo", str(repo_root)]


def run_cli(
    server: EmulatorServer, repo_root: Path, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(repo_root, *args),
        env=cli_env(server),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclasses.dataclass(frozen=True)
class KillOutcome:
    """Where one SIGKILL landed."""

    killed: bool
    """False when the apply finished before the kill point was reached."""
    phase: str
    uploads: int
    deletes: int
    """Answered by the emulator, including requests in flight when the kill landed."""
    at_kill: tuple[int, int]
    """(uploads, deletes) answered when SIGKILL was sent."""
    seconds: float
    returncode: int


def _polls(deadline: float) -> Iterator[None]:
    while time.monotonic() < deadline:
        yield None
        time.sleep(0.002)


def kill_apply(
    server: EmulatorServer,
    repo_root: Path,
    *,
    phase: str,
    after: int,
    timeout: float = 300.0,
) -> KillOutcome:
    """Start ``wfp-reconcile apply`` and SIGKILL it at a point seen in the request log.

    Args:
        phase: ``upload`` (after ``after`` answered uploads), ``delete`` (after ``after``
            answered deletes) or ``any`` (after ``after`` API requests of any kind, reads
            included).
    """
    uploads0 = server.count("upload_script") + server.count("upload_worker")
    deletes0 = server.count("delete_script")
    requests0 = server.count()
    at_kill = (-1, -1)
    started = time.monotonic()
    proc = subprocess.Popen(
        _command(repo_root, "apply", "--auto-approve"),
        env=cli_env(server),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in _polls(started + timeout):
            if proc.poll() is not None:
                break
            uploads = server.count("upload_script") + server.count("upload_worker") - uploads0
            deletes = server.count("delete_script") - deletes0
            if (
                (phase == "upload" and uploads >= after)
                or (phase == "delete" and deletes >= after)
                or (phase == "any" and server.count() - requests0 >= after)
            ):
                proc.send_signal(signal.SIGKILL)
                at_kill = (uploads, deletes)
                break
        returncode = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return KillOutcome(
        killed=returncode == -signal.SIGKILL,
        phase=phase,
        uploads=server.count("upload_script") + server.count("upload_worker") - uploads0,
        deletes=server.count("delete_script") - deletes0,
        at_kill=at_kill,
        seconds=time.monotonic() - started,
        returncode=returncode,
    )


# -- kill scenarios --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class KillReport:
    """One kill and the apply that followed it."""

    outcome: KillOutcome
    planned_uploads: int
    planned_deletes: int
    lost: tuple[str, ...]
    """Scripts declared before and after the change that were missing after the kill."""
    after_kill: Verdict
    recovery_returncode: int
    recovered: Verdict

    @property
    def ok(self) -> bool:
        return (
            self.outcome.killed
            and not self.lost
            and self.after_kill.safe
            and self.recovery_returncode == 0
            and self.recovered.ok
        )


def planned_writes(repo_root: Path, settings: ClientSettings) -> tuple[int, int]:
    """(uploads, deletes) the next apply will make."""
    with CloudflareClient(settings) as client:
        plan = plan_repo(load_repo_dir(repo_root, env={}), client).plan
    deletes = sum(1 for c in plan.changes if c.action.value == "delete")
    uploads = sum(1 for c in plan.changes if c.action.writes) - deletes
    return uploads, deletes


def kill_scenario(
    server: EmulatorServer,
    fleet: Fleet,
    *,
    phase: str,
    unmanaged: dict[str, tuple[str, str, tuple[str, ...]]],
    size: int,
) -> KillReport:
    """Change the fleet for ``phase``, kill the apply mid-phase, then apply again.

    ``size`` is how many scripts to change (``upload``) or remove (``delete``); ``any``
    makes a random mixed round and kills after a random number of requests (from the
    first read to the last write).
    """
    rng = fleet.rng
    before = fleet.declared()
    if phase == "upload":
        # New scripts too, so that delete rounds do not run the fleet down.
        fleet.change_scripts(size)
        fleet.add_scripts(size)
    elif phase == "delete":
        fleet.remove_scripts(size)
    else:
        fleet.mutate()
    after = fleet.declared()
    uploads, deletes = planned_writes(fleet.root, settings_for(server))
    # At least one read precedes the writes, so ``any`` stays below the total as well.
    planned = {"upload": uploads - 1, "delete": deletes - 1}.get(phase, uploads + deletes)
    start = len(server.requests())
    outcome = kill_apply(server, fleet.root, phase=phase, after=rng.randint(1, max(1, planned)))
    after_kill = verify(server, fleet.root, unmanaged=unmanaged, log_start=start)
    lost = tuple(sorted((before & after) & set(after_kill.missing)))
    recovery = run_cli(server, fleet.root, "apply", "--auto-approve")
    recovered = verify(server, fleet.root, unmanaged=unmanaged, log_start=start)
    return KillReport(
        outcome=outcome,
        planned_uploads=uploads,
        planned_deletes=deletes,
        lost=lost,
        after_kill=after_kill,
        recovery_returncode=recovery.returncode,
        recovered=recovered,
    )
