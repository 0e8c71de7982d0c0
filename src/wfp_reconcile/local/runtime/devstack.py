"""The whole platform on one machine: API emulator + Workers runtime + apply-on-change.

``DevStack`` is the library behind ``wfp-reconcile dev``. It never prints: everything a
user should see is reported through ``on_event``. The apply step is one function
(``ApplyFn``) so the same loop works with any engine entry point.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from wfp_reconcile.cloudflare import ClientSettings, CloudflareClient
from wfp_reconcile.config.model import PlatformRepo, Routing
from wfp_reconcile.errors import WfpError

from .d1local import ensure_local_databases
from .kvlocal import ensure_local_routing_store
from .process import RunningRuntime, RuntimeSettings, run_runtime
from .tailevents import format_tail_event, parse_tail_line

__all__ = [
    "ApplyFn",
    "ApplyOutcome",
    "DevEvent",
    "DevSettings",
    "DevStack",
    "apply_with_engine",
    "try_urls",
]

IGNORED_DIRS = (".git", ".wfp-local", ".venv", "node_modules", "__pycache__", ".mypy_cache")


@dataclasses.dataclass(frozen=True)
class ApplyOutcome:
    """What one apply did, in numbers and names (no bundle contents)."""

    ok: bool
    changes: int
    failed: tuple[str, ...] = ()


ApplyFn = Callable[[PlatformRepo, CloudflareClient], ApplyOutcome]


def apply_with_engine(repo: PlatformRepo, client: CloudflareClient) -> ApplyOutcome:
    """Plan and apply through the engine's normal path (the same as ``apply``)."""
    from wfp_reconcile.engine import apply_plan, plan_repo

    client.ensure_namespace(repo.platform.namespace)
    planned = plan_repo(repo, client)
    plan = planned.plan
    if not plan.has_changes:
        return ApplyOutcome(ok=True, changes=0)
    # Locally every delete is intended (files were removed), so the guard's count is exact.
    deletes = len(plan.deletes)
    result = apply_plan(plan, repo, client, allow_deletes=deletes or None, verify_state=False)
    failed = tuple(f"{r.change.name}: {r.error}" for r in result.failed)
    return ApplyOutcome(ok=result.ok, changes=len(result.results), failed=failed)


@dataclasses.dataclass(frozen=True)
class DevEvent:
    """Something the user of ``dev`` should see."""

    kind: str
    """``started``, ``applied``, ``apply_failed``, ``config_error``, ``changed``, ``log``,
    ``tail`` (one invocation of a Worker that has tail Workers), ``d1`` (a D1 database that
    a script binds was created in the emulator), ``kv`` (the routing store's namespace was)."""
    message: str
    details: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class DevSettings:
    repo_dir: Path
    port: int = 8787
    api_port: int = 0
    state_dir: Path | None = None
    """Where the emulator keeps its SQLite state; ``<repo>/.wfp-local/state`` by default."""
    env: Mapping[str, str] | None = None


class EmulatorServer(Protocol):
    url: str
    api_base: str

    @property
    def internal_secret(self) -> str: ...


Loader = Callable[[Path, Mapping[str, str] | None], PlatformRepo]


def _load_repo(path: Path, env: Mapping[str, str] | None) -> PlatformRepo:
    from wfp_reconcile.config import load_repo_dir

    return load_repo_dir(path, env=env)


def try_urls(repo: PlatformRepo, base_url: str) -> list[tuple[str, str]]:
    """(description, URL) pairs worth opening against a running dispatcher."""
    dispatcher = repo.platform.dispatcher
    out: list[tuple[str, str]] = [("health", f"{base_url}/_platform/health")]
    for customer in sorted(repo.customers, key=lambda c: c.id):
        for name in sorted(customer.scripts):
            if dispatcher.routing is Routing.HOST and dispatcher.domain:
                url = f"{base_url}/  (Host: {name}.{dispatcher.domain})"
            else:
                url = f"{base_url}/{name}/"
            out.append((f"{customer.id}/{name}", url))
    out.append(("customer API", f"{base_url}/_platform/v1/scripts  (X-Customer-Token: ...)"))
    if dispatcher.admin_token_sha256:
        out.append(("status page", f"{base_url}/_platform/?token=<admin token>"))
    return out


class DevStack:
    """Runs the emulator and the runtime and keeps the emulator in sync with the files."""

    def __init__(
        self,
        settings: DevSettings,
        *,
        on_event: Callable[[DevEvent], None],
        apply: ApplyFn = apply_with_engine,
        load: Loader = _load_repo,
    ) -> None:
        self.settings = settings
        self._on_event = on_event
        self._apply = apply
        self._load = load
        self._stack = contextlib.ExitStack()
        self.repo: PlatformRepo | None = None
        self.emulator: EmulatorServer | None = None
        self.runtime: RunningRuntime | None = None
        self._client: CloudflareClient | None = None
        self._runtime_key: tuple[str, str] | None = None
        # An invocation is delivered once per tail Worker; show it once.
        self._seen_tail: collections.OrderedDict[tuple[str, float], None] = (
            collections.OrderedDict()
        )

    @property
    def state_dir(self) -> Path:
        return self.settings.state_dir or self.settings.repo_dir / ".wfp-local" / "state"

    def __enter__(self) -> DevStack:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    def _start(self) -> None:
        from wfp_reconcile.local.emulator import run_emulator

        repo = self._load(self.settings.repo_dir, self.settings.env)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)  # only ever known to this process and the emulator
        server: Any = self._stack.enter_context(
            run_emulator(self.state_dir, api_token=token, port=self.settings.api_port)
        )
        self.emulator = server
        client = CloudflareClient(
            ClientSettings(
                account_id=repo.platform.account_id,
                api_token=token,
                base_url=server.api_base,
                # Nothing to pace against locally.
                requests_per_window=1_000_000,
                max_attempts=2,
            )
        )
        self._stack.callback(client.close)
        self._client = client
        self._apply_repo(repo)
        self._start_runtime(repo)
        assert self.runtime is not None
        self._emit(
            "started",
            f"Dispatcher on {self.runtime.url}, API emulator on {server.api_base}",
            tuple(f"{label}: {url}" for label, url in try_urls(repo, self.runtime.url)),
        )

    def _start_runtime(self, repo: PlatformRepo) -> None:
        assert self.emulator is not None
        key = (repo.platform.account_id, repo.platform.dispatcher.name)
        if self.runtime is not None and key == self._runtime_key:
            return
        port = self.settings.port
        if self.runtime is not None:
            # The runtime reads account and dispatcher name at start; restart on the same port.
            port = self.runtime.port
            self.runtime.stop()
        settings = RuntimeSettings(
            emulator_url=self.emulator.url,
            account_id=repo.platform.account_id,
            dispatcher_name=repo.platform.dispatcher.name,
            port=port,
            default_compat_date=repo.platform.compatibility_date,
            emulator_secret=self.emulator.internal_secret,
        )
        self.runtime = self._stack.enter_context(run_runtime(settings, on_log=self._runtime_log))
        self._runtime_key = key

    def _runtime_log(self, line: str) -> None:
        event = parse_tail_line(line)
        if event is None:
            self._emit("log", line)
            return
        key = (event.script, event.at)
        if key in self._seen_tail:
            return
        self._seen_tail[key] = None
        while len(self._seen_tail) > 256:
            self._seen_tail.popitem(last=False)
        repo = self.repo
        owners = {n: c.id for c in repo.customers for n in c.scripts} if repo else {}
        self._emit("tail", format_tail_event(event, owners))

    def _apply_repo(self, repo: PlatformRepo) -> bool:
        assert self._client is not None
        assert self.emulator is not None
        try:
            for db in ensure_local_databases(
                repo, self.emulator.url, secret=self.emulator.internal_secret
            ):
                self._emit(
                    "d1",
                    f"Created local D1 database {db.database_id} "
                    f"(bound as {', '.join(db.bound_as)}).",
                )
            created = ensure_local_routing_store(
                repo, self.emulator.url, secret=self.emulator.internal_secret
            )
            if created:
                self._emit("kv", f"Created the routing store's local KV namespace {created}.")
            outcome = self._apply(repo, self._client)
        except WfpError as exc:
            self._emit("apply_failed", exc.message)
            return False
        self.repo = repo
        if outcome.ok and outcome.changes == 0:
            self._emit("applied", "Up to date: the emulator already matches the repository.")
        elif outcome.ok:
            noun = "change" if outcome.changes == 1 else "changes"
            self._emit("applied", f"Applied {outcome.changes} {noun}.")
        else:
            self._emit("apply_failed", "Some operations failed.", outcome.failed)
        return outcome.ok

    def reload(self) -> bool:
        """Load the files again and apply them; report problems instead of raising."""
        try:
            repo = self._load(self.settings.repo_dir, self.settings.env)
        except WfpError as exc:
            self._emit("config_error", exc.message)
            return False
        ok = self._apply_repo(repo)
        self._start_runtime(repo)
        return ok

    def watch(self, stop: threading.Event) -> None:
        """Re-apply whenever files under the repository change, until ``stop`` is set."""
        import watchfiles

        state = self.state_dir.resolve()

        root = self.settings.repo_dir

        def wanted(_change: Any, path: str) -> bool:
            parts = Path(path).parts
            if any(p in IGNORED_DIRS for p in parts):
                return False
            if Path(path).resolve().is_relative_to(state):
                return False
            # Only what declares or makes up the platform: editing tests, docs or caches
            # in the same checkout must not re-apply.
            rel = Path(os.path.relpath(path, root)).as_posix()
            if rel == "platform.yaml" or rel.startswith(("customers/", "platform/")):
                return True
            return self.repo is None or rel in self.repo.files

        for changes in watchfiles.watch(
            self.settings.repo_dir,
            watch_filter=wanted,
            stop_event=stop,
            debounce=300,
            step=50,
            raise_interrupt=False,
        ):
            paths = sorted({os.path.relpath(p, self.settings.repo_dir) for _, p in changes})
            self._emit("changed", f"{len(paths)} file(s) changed; applying.", tuple(paths[:10]))
            self.reload()

    def _emit(self, kind: str, message: str, details: tuple[str, ...] = ()) -> None:
        self._on_event(DevEvent(kind, message, details))
