"""Eyeball load through the local runtime while the engine applies changes.

Shared by the CI-sized tests in this directory and by ``scripts/load_dispatcher.py`` (the
full-size run), so a figure in ``docs/reliability-dispatcher.md`` and a test assertion
come from the same code.

The emulator runs in a thread of this process; the runtime (node + workerd) reads code from
it exactly as ``wfp-reconcile dev`` does. Applies go through ``plan_repo`` + ``apply_plan``,
and every request is judged against the two repository versions it may legitimately see:
the one before the apply and the one after it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import http.client
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence

from wfp_reconcile.apply import ApplyEvent, Phase
from wfp_reconcile.cloudflare import ClientSettings, CloudflareClient
from wfp_reconcile.config.model import (
    Access,
    Customer,
    Dispatcher as DispatcherConfig,
    Platform,
    PlatformRepo,
    Safety,
    Script,
    Token,
)
from wfp_reconcile.engine import apply_plan, plan_repo
from wfp_reconcile.local.emulator import EmulatorServer, FaultConfig, run_emulator
from wfp_reconcile.local.runtime import RunningRuntime, RuntimeSettings, run_runtime

__all__ = [
    "ACCOUNT",
    "CUSTOMER_TOKEN",
    "NAMESPACE",
    "ApplyTimes",
    "Expect",
    "Fleet",
    "LoadResult",
    "Outcome",
    "Stack",
    "Violation",
    "expectations",
    "judge",
    "percentile",
    "run_load",
    "start_stack",
    "summary",
]

ACCOUNT = "0123456789abcdef0123456789abcdef"
NAMESPACE = "load-ns"
DISPATCHER = "load-dispatcher"
API_TOKEN = "load-api-token-9b1e44c0a7f2"
CUSTOMER_TOKEN = "load-customer-token-51d0c6"
# How long after an apply's last write the runtime may still serve the previous version:
# it polls the emulator's state counter at most every 250 ms; the rest is headroom for a
# loaded two-core machine.
SETTLE_SECONDS = 1.5

_VERSIONED = 'export default { fetch() { return new Response("%s v%d"); } };\n'
_THROWER = (
    'export default { fetch() {\n  throw new Error("designed to fail: secret detail 7f3a");\n} };\n'
)
# Shows exactly what customer code receives, so spoofed internal headers can be checked.
_ECHO = """
export default {
  async fetch(request) {
    return Response.json({
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
    });
  },
};
"""

FIXED_SCRIPTS = ("thrower", "echo", "private")


class Expect(enum.StrEnum):
    """What a request may answer, given the repository before and after the apply."""

    KEPT = "kept"  # same code before and after: 200 with that body
    UPDATED = "updated"  # new code: the old or the new body, the new one once settled
    REMOVED = "removed"  # 200 old body, or 404 once the dispatcher no longer routes it
    ADDED = "added"  # 404 until the new dispatcher is live, then 200 new body
    THROWS = "throws"  # customer code designed to fail: 502 script_error
    UNKNOWN = "unknown"  # never declared: 404


@dataclasses.dataclass
class Fleet:
    """Customers and versioned scripts, mutated at random between applies."""

    rng: random.Random
    scripts: dict[str, tuple[str, int]]  # name -> (customer, code version)
    customers: int
    next_script: int = 0
    round: int = 0

    @classmethod
    def create(cls, *, scripts: int, customers: int, seed: int) -> Fleet:
        fleet = cls(rng=random.Random(seed), scripts={}, customers=customers)
        for _ in range(scripts):
            fleet._add()
        return fleet

    def _add(self) -> str:
        name = f"s-{self.next_script:05d}"
        self.scripts[name] = (f"cust-{self.next_script % self.customers:02d}", 1)
        self.next_script += 1
        return name

    def mutate(self, *, update: int, remove: int, add: int) -> Fleet:
        """A copy with ``update`` scripts changed, ``remove`` removed and ``add`` added."""
        nxt = dataclasses.replace(self, scripts=dict(self.scripts), round=self.round + 1)
        names = sorted(nxt.scripts)
        picked = nxt.rng.sample(names, update + remove)
        for name in picked[:update]:
            customer, version = nxt.scripts[name]
            nxt.scripts[name] = (customer, version + 1)
        for name in picked[update:]:
            del nxt.scripts[name]
        for _ in range(add):
            nxt._add()
        return nxt

    def text(self, name: str) -> str | None:
        """What ``/<name>/`` answers with this fleet's code (None: not declared)."""
        if name not in self.scripts:
            return None
        return f"{name} v{self.scripts[name][1]}"

    def repo(self) -> PlatformRepo:
        files: dict[str, bytes] = {}
        by_customer: dict[str, dict[str, Script]] = {}
        for name, (customer, version) in sorted(self.scripts.items()):
            path = f"customers/{customer}/{name}.mjs"
            files[path] = (_VERSIONED % (name, version)).encode()
            by_customer.setdefault(customer, {})[name] = Script(main_module=f"{name}.mjs")
        files["customers/edge/thrower.mjs"] = _THROWER.encode()
        files["customers/edge/echo.mjs"] = _ECHO.encode()
        files["customers/edge/private.mjs"] = _ECHO.encode()
        edge = Customer(
            id="edge",
            name="Edge cases",
            plan="basic",
            tokens=(
                Token(name="main", sha256=hashlib.sha256(CUSTOMER_TOKEN.encode()).hexdigest()),
            ),
            scripts={
                "thrower": Script(main_module="thrower.mjs"),
                "echo": Script(main_module="echo.mjs"),
                "private": Script(main_module="private.mjs", access=Access.TOKEN),
            },
        )
        customers = [
            Customer(id=cid, name=cid, plan="basic", scripts=scripts)
            for cid, scripts in sorted(by_customer.items())
        ]
        platform = Platform(
            account_id=ACCOUNT,
            namespace=NAMESPACE,
            compatibility_date="2026-01-01",
            dispatcher=DispatcherConfig(name=DISPATCHER),
            safety=Safety(max_deletes=100_000, max_delete_fraction=1.0),
        )
        return PlatformRepo(
            platform=platform,
            customers=(*customers, edge),
            files=files,
            commit=f"{self.round:040x}",
        )


def expectations(before: Fleet, after: Fleet) -> dict[str, Expect]:
    """Every path segment worth requesting and what it may answer during the apply."""
    out: dict[str, Expect] = {"thrower": Expect.THROWS, "no-such-script": Expect.UNKNOWN}
    for name in before.scripts.keys() | after.scripts.keys():
        if name not in after.scripts:
            out[name] = Expect.REMOVED
        elif name not in before.scripts:
            out[name] = Expect.ADDED
        elif before.scripts[name] != after.scripts[name]:
            out[name] = Expect.UPDATED
        else:
            out[name] = Expect.KEPT
    return out


# -- the stack -------------------------------------------------------------------------------


@dataclasses.dataclass
class Stack:
    emulator: EmulatorServer
    client: CloudflareClient
    runtime: RunningRuntime
    logs: list[str]


def client_settings(api_base: str) -> ClientSettings:
    return ClientSettings(
        account_id=ACCOUNT,
        api_token=API_TOKEN,
        base_url=api_base,
        requests_per_window=1_000_000,
        window_seconds=1.0,
        max_attempts=4,
        timeout_seconds=30.0,
        backoff_base_seconds=0.01,
        backoff_max_seconds=0.2,
    )


@contextlib.contextmanager
def start_stack(fleet: Fleet, *, api_latency_ms: float = 0.0) -> Iterator[Stack]:
    """Emulator (in memory) + the fleet applied through the engine + the runtime.

    ``api_latency_ms`` is added to every Cloudflare API call after the first apply, so
    later applies last long enough for many eyeball requests to overlap each phase (the
    runtime's own reads of the emulator are not slowed).
    """
    logs: list[str] = []
    with (
        run_emulator(None, api_token=API_TOKEN) as emulator,
        CloudflareClient(client_settings(emulator.api_base)) as client,
    ):
        client.ensure_namespace(NAMESPACE)
        result = apply_repo(fleet.repo(), client)
        if not result.ok:
            raise RuntimeError(f"initial apply failed: {result.failed}")
        emulator.set_faults(FaultConfig(latency_ms=api_latency_ms))
        settings = RuntimeSettings(
            emulator_url=emulator.url,
            emulator_secret=emulator.internal_secret,
            account_id=ACCOUNT,
            dispatcher_name=DISPATCHER,
            port=0,
        )
        with run_runtime(settings, on_log=logs.append) as runtime:
            yield Stack(emulator=emulator, client=client, runtime=runtime, logs=logs)


@dataclasses.dataclass
class ApplyTimes:
    """When (monotonic seconds) an apply started, reached its phases and ended."""

    started: float = 0.0
    ended: float = 0.0
    ok: bool = False
    changes: int = 0
    phase_started: dict[Phase, float] = dataclasses.field(default_factory=dict)
    op_started: dict[str, float] = dataclasses.field(default_factory=dict)

    def record(self, event: ApplyEvent) -> None:
        begun = time.monotonic() - event.result.seconds
        name = event.result.change.name
        self.op_started[name] = min(self.op_started.get(name, begun), begun)
        first = self.phase_started.get(event.phase, begun)
        self.phase_started[event.phase] = min(first, begun)


@dataclasses.dataclass(frozen=True)
class _Result:
    ok: bool
    failed: tuple[str, ...]


def apply_repo(
    repo: PlatformRepo, client: CloudflareClient, times: ApplyTimes | None = None
) -> _Result:
    """Plan and apply ``repo`` through the engine; every planned delete is intended."""
    planned = plan_repo(repo, client)
    plan = planned.plan
    deletes = len(plan.deletes)
    result = apply_plan(
        plan,
        repo,
        client,
        allow_deletes=deletes or None,
        on_event=times.record if times else None,
    )
    if times is not None:
        times.changes = len(result.results)
        times.ok = result.ok
    return _Result(result.ok, tuple(f"{r.change.name}: {r.error}" for r in result.failed))


# -- the load --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One eyeball request, as seen by the client."""

    name: str
    started: float
    ended: float
    status: int  # 0: no HTTP answer (connection error, timeout)
    body: str

    @property
    def ms(self) -> float:
        return (self.ended - self.started) * 1000


@dataclasses.dataclass(frozen=True)
class Violation:
    outcome: Outcome
    expect: Expect
    why: str

    def __str__(self) -> str:
        o = self.outcome
        return (
            f"/{o.name}/ ({self.expect}) -> {o.status} {o.body[:120]!r} "
            f"at +{o.started:.3f}s: {self.why}"
        )


@dataclasses.dataclass
class LoadResult:
    outcomes: list[Outcome]
    rounds: list[tuple[Fleet, Fleet, ApplyTimes]]
    elapsed: float
    timed_out: bool

    def by_status(self) -> Counter[int]:
        return Counter(o.status for o in self.outcomes)

    def latencies(self) -> list[float]:
        return sorted(o.ms for o in self.outcomes)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def _one(conn: http.client.HTTPConnection, name: str) -> Outcome:
    started = time.monotonic()
    try:
        conn.request("GET", f"/{name}/")
        res = conn.getresponse()
        status, body = res.status, res.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as exc:
        conn.close()  # the next request reconnects
        status, body = 0, f"{type(exc).__name__}: {exc}"
    return Outcome(name, started, time.monotonic(), status, body)


class _Load:
    """``concurrency`` threads, each with one keep-alive connection, sending until done.

    Threads with ``http.client`` rather than an async client: on a two-core machine the
    async pool, not the runtime, became the bottleneck at 64 connections.
    """

    def __init__(
        self,
        port: int,
        fleets: Sequence[Fleet],
        apply_round: Callable[[Fleet, ApplyTimes], None],
        *,
        requests: int,
        concurrency: int,
        deadline: float,
        seed: int,
    ) -> None:
        self.port = port
        self.fleets = fleets
        self.apply_round = apply_round
        self.requests = requests
        self.concurrency = concurrency
        self.deadline = deadline
        self.rng = random.Random(seed)
        self.names = sorted(set().union(*(f.scripts.keys() for f in fleets)))
        self.names += ["thrower", "no-such-script"]
        self.outcomes: list[Outcome] = []
        self.rounds: list[tuple[Fleet, Fleet, ApplyTimes]] = []
        self.applied = threading.Event()
        self.apply_error: BaseException | None = None
        self.last_end = 0.0
        self.cond = threading.Condition()

    def more(self) -> bool:
        now = time.monotonic()
        if now > self.deadline:
            return False
        with self.cond:
            if len(self.outcomes) < self.requests:
                return True
        # Keep the load going after the last apply so the settled state is observed too.
        return not self.applied.is_set() or now < self.last_end + SETTLE_SECONDS + 0.5

    def sender(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            while self.more():
                with self.cond:
                    name = self.rng.choice(self.names)
                outcome = _one(conn, name)
                with self.cond:
                    self.outcomes.append(outcome)
                    self.cond.notify_all()
        finally:
            conn.close()

    def applier(self) -> None:
        # Spread the applies over the first half of the run, each after its share.
        share = max(1, self.requests // (2 * max(1, len(self.fleets) - 1)))
        try:
            for i in range(1, len(self.fleets)):
                with self.cond:
                    if not self.cond.wait_for(
                        lambda i=i: (
                            len(self.outcomes) >= i * share or time.monotonic() > self.deadline
                        ),
                        timeout=max(0.0, self.deadline - time.monotonic()),
                    ):
                        return
                if time.monotonic() > self.deadline:
                    return
                times = ApplyTimes()
                self.apply_round(self.fleets[i], times)
                self.rounds.append((self.fleets[i - 1], self.fleets[i], times))
                self.last_end = times.ended
        except BaseException as exc:  # reported by run_load, after the senders stop
            self.apply_error = exc
        finally:
            self.applied.set()

    def run(self) -> LoadResult:
        started = time.monotonic()
        threads = [
            threading.Thread(target=self.sender, daemon=True) for _ in range(self.concurrency)
        ]
        applier = threading.Thread(target=self.applier, daemon=True)
        for t in (*threads, applier):
            t.start()
        for t in (*threads, applier):
            t.join(timeout=max(0.0, self.deadline - time.monotonic()) + 35)
        if self.apply_error is not None:
            raise self.apply_error
        timed_out = time.monotonic() > self.deadline or len(self.rounds) < len(self.fleets) - 1
        with self.cond:
            outcomes = list(self.outcomes)
        return LoadResult(outcomes, list(self.rounds), time.monotonic() - started, timed_out)


def run_load(
    stack: Stack,
    fleets: Sequence[Fleet],
    *,
    requests: int,
    concurrency: int,
    time_limit: float,
    seed: int = 1,
) -> LoadResult:
    """Send at least ``requests`` eyeball requests, ``concurrency`` in flight, while each
    later fleet in ``fleets`` is applied in turn; stop at ``time_limit`` seconds at most."""

    def apply_round(fleet: Fleet, times: ApplyTimes) -> None:
        times.started = time.monotonic()
        try:
            apply_repo(fleet.repo(), stack.client, times)
        finally:
            times.ended = time.monotonic()

    load = _Load(
        stack.runtime.port,
        fleets,
        apply_round,
        requests=requests,
        concurrency=concurrency,
        deadline=time.monotonic() + time_limit,
        seed=seed,
    )
    return load.run()


# -- judging ---------------------------------------------------------------------------------


def _round_for(outcome: Outcome, rounds: Sequence[tuple[Fleet, Fleet, ApplyTimes]]) -> int:
    """Index of the apply a request may have overlapped (requests before any apply: -1)."""
    index = -1
    for i, (_, _, times) in enumerate(rounds):
        if outcome.ended >= times.started:
            index = i
    return index


def _error_code(body: str) -> str | None:
    import json

    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value.get("error") if isinstance(value, dict) else None


def judge(result: LoadResult, first: Fleet) -> list[Violation]:
    """Every request that answered something it must not have, with the reason."""
    out: list[Violation] = []
    for o in result.outcomes:
        i = _round_for(o, result.rounds)
        if i < 0:
            before = after = first
            times: ApplyTimes | None = None
        else:
            before, after, times = result.rounds[i]
        expect = expectations(before, after).get(o.name)
        if expect is None:
            # A name of a later or earlier round that neither side of this apply declares.
            expect = Expect.UNKNOWN
        why = _check(o, expect, before, after, times)
        if why:
            out.append(Violation(o, expect, why))
    return out


def _check(
    o: Outcome, expect: Expect, before: Fleet, after: Fleet, times: ApplyTimes | None
) -> str | None:
    code = _error_code(o.body)
    if o.status == 0:
        return "no HTTP answer"
    if expect is Expect.THROWS:
        if (o.status, code) != (502, "script_error"):
            return "a throwing script must answer 502 script_error"
        return "the 502 leaks the exception" if "7f3a" in o.body or " at " in o.body else None
    if o.status >= 500:
        return "5xx from the platform"
    settled = times is not None and o.started >= times.ended + SETTLE_SECONDS
    if expect is Expect.UNKNOWN:
        return None if (o.status, code) == (404, "script_not_found") else "expected 404"
    old_body, new_body = before.text(o.name), after.text(o.name)
    if o.status == 200:
        if o.body == new_body:
            return None
        if o.body == old_body and not settled:
            return None
        return "200 with neither the old nor the new body" if not settled else "stale body"
    if o.status == 404 and code == "script_not_found":
        if expect is Expect.REMOVED:
            assert times is not None
            dispatcher_at = times.phase_started.get(Phase.DISPATCHER, times.started)
            if o.ended < dispatcher_at:
                return "404 before the dispatcher stopped routing the script"
            return None
        if expect is Expect.ADDED and not settled:
            return None
        return "404 for a declared script"
    return f"unexpected status {o.status}"


def summary(result: LoadResult, violations: Sequence[Violation]) -> Mapping[str, object]:
    """The figures reported in docs/reliability-dispatcher.md."""
    lat = result.latencies()
    thrower = sum(1 for o in result.outcomes if o.name == "thrower" and o.status == 502)
    return {
        "requests": len(result.outcomes),
        "by_status": dict(sorted(result.by_status().items())),
        "designed_502": thrower,
        "other_5xx": sum(1 for o in result.outcomes if o.status >= 500 and o.name != "thrower"),
        "violations": len(violations),
        "applies": len(result.rounds),
        "during_apply": sum(
            1
            for o in result.outcomes
            if any(o.ended >= t.started and o.started <= t.ended for _, _, t in result.rounds)
        ),
        "apply_seconds": round(sum(t.ended - t.started for _, _, t in result.rounds), 2),
        "apply_changes": sum(t.changes for _, _, t in result.rounds),
        "p50_ms": round(percentile(lat, 0.50), 1),
        "p99_ms": round(percentile(lat, 0.99), 1),
        "max_ms": round(lat[-1], 1) if lat else 0.0,
        "seconds": round(result.elapsed, 2),
        "rps": round(len(result.outcomes) / result.elapsed) if result.elapsed else 0,
    }
