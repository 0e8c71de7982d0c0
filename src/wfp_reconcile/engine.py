"""The pipeline in one place: config -> desired -> actual -> diff -> plan -> apply.

The CLI, ``dev`` and the benchmarks all go through these two functions, so they
cannot disagree about what a plan means.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Sequence
from typing import Any

from wfp_reconcile import __version__
from wfp_reconcile.actual import ActualState, fetch_actual
from wfp_reconcile.apply import ApplyEvent, ApplyResult, PlanApplier
from wfp_reconcile.assets.plan import asset_calls, describe_assets, with_asset_fields
from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.cloudflare.assets import get_script_content_typed
from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.d1mirror import MirrorResult, plan_mirror, sync_mirror
from wfp_reconcile.desired import DesiredState, WorkerKind, build_desired
from wfp_reconcile.details import config_fields, merge_details
from wfp_reconcile.diff import Action, Change, FieldChange, compute_diff
from wfp_reconcile.errors import ConfigError, ConfigProblem, StalePlanError, WfpError
from wfp_reconcile.plan import Estimate, Plan, Summary, check_guards, now_utc

__all__ = ["PlannedRun", "ReconcileResult", "apply_plan", "plan_repo"]


@dataclasses.dataclass(frozen=True)
class PlannedRun:
    """A plan with the desired and actual state it was computed from."""

    plan: Plan
    desired: DesiredState
    actual: ActualState


@dataclasses.dataclass(frozen=True)
class ReconcileResult(ApplyResult):
    """An apply's operations and what the D1 mirror did (``None`` without a database)."""

    mirror: MirrorResult | None = None

    @property
    def ok(self) -> bool:
        return super().ok and (self.mirror is None or self.mirror.ok)


def _check_scope(repo: PlatformRepo, customers: Collection[str]) -> None:
    known = {c.id for c in repo.customers}
    unknown = sorted(set(customers) - known)
    if unknown:
        raise ConfigError(
            [
                ConfigProblem(
                    "customers", 0, 0, f"--customer {name}: no customers/{name}/customer.yaml"
                )
                for name in unknown
            ]
        )


# Settings are read only for updates whose configuration changed, and for at most this
# many: a platform-wide change (say, a new compatibility date) shows the same thing on
# every script, and reading thousands of settings would cost more than it tells.
_DETAIL_LIMIT = 100


def _with_config_details(
    client: CloudflareClient, desired: DesiredState, changes: tuple[Change, ...]
) -> tuple[tuple[Change, ...], int]:
    wanted = [
        c
        for c in changes
        if c.action is Action.UPDATE and any(f.field == "config" for f in c.fields)
    ][:_DETAIL_LIMIT]
    if not wanted:
        return changes, 0
    workers = {(w.kind, w.name): w for w in desired.all()}

    def read(change: Change) -> dict[str, Any]:
        if change.kind is WorkerKind.SCRIPT:
            return client.get_script_settings(desired.namespace, change.name)
        return client.get_worker_settings(change.name)

    details: dict[tuple[WorkerKind, str], tuple[FieldChange, ...]] = {}
    for change, result in zip(wanted, client.map_concurrent(read, wanted), strict=True):
        worker = workers.get((change.kind, change.name))
        # Details only explain a plan: a failed read leaves the fingerprint fields alone.
        if isinstance(result, dict) and worker is not None:
            details[(change.kind, change.name)] = config_fields(worker, result)
    enriched = tuple(
        c.model_copy(update={"fields": merge_details(c.fields, details[(c.kind, c.name)])})
        if details.get((c.kind, c.name))
        else c
        for c in changes
    )
    return enriched, len(wanted)


def _read_contents(
    client: CloudflareClient, namespace: str, changes: Sequence[Change]
) -> list[tuple[bytes, str] | None]:
    """The deployed content of scripts, to read their asset manifests (None when unreadable)."""

    def read(change: Change) -> tuple[bytes, str]:
        return get_script_content_typed(client, namespace, change.name)

    return [r if isinstance(r, tuple) else None for r in client.map_concurrent(read, changes)]


def plan_repo(
    repo: PlatformRepo,
    client: CloudflareClient,
    *,
    customers: Sequence[str] = (),
    adopt: Collection[str] = (),
    describe: bool = True,
) -> PlannedRun:
    """Build the plan that makes the namespace match the repository.

    Args:
        repo: The validated repository.
        client: The Cloudflare client (reads only).
        customers: Limit the plan to these customers (every customer when empty).
        adopt: Names of unmanaged scripts to take over; when given, the plan holds only
            those take-overs.
        describe: Also read what only explains the plan to people: the settings of
            updated scripts and the D1 mirror's row counts.

    Returns:
        The plan and the states it was computed from.
    """
    _check_scope(repo, customers)
    desired = build_desired(repo, customers=customers)
    actual = fetch_actual(
        client,
        namespace=desired.namespace,
        management_tag=desired.management_tag,
        declared_scripts=[w.name for w in desired.scripts],
        declared_workers=[w.name for w in desired.all() if w.customer is None],
    )
    changes = compute_diff(
        desired,
        actual,
        customers=customers,
        suspended={c.id for c in repo.customers if c.suspended},
        known_customers={c.id for c in repo.customers},
        adopt=adopt,
    )
    sites = {w.name: w.assets for w in desired.scripts if w.kind is WorkerKind.SCRIPT}
    deployed = {n: w.tags for n, w in (*actual.scripts.items(), *actual.unmanaged.items())}
    changes = with_asset_fields(changes, sites, deployed)
    if adopt:
        # `adopt` takes over the named scripts and nothing else: the rest is for `apply`.
        changes = tuple(c for c in changes if c.action is Action.ADOPT)
    detail_calls = 0
    if describe:
        changes, detail_calls = _with_config_details(client, desired, changes)
        changes, asset_reads = describe_assets(
            changes,
            {n: s for n, s in sites.items() if s is not None},
            lambda wanted: _read_contents(client, desired.namespace, wanted),
        )
        detail_calls += asset_reads
    settings = client.settings
    created_at = now_utc()
    mirror = (
        plan_mirror(client, repo, desired, changes, customers=customers, now=created_at)
        if repo.platform.d1 is not None and describe
        else None
    )
    plan = Plan(
        created_at=created_at,
        tool_version=__version__,
        account_id=repo.platform.account_id,
        namespace=desired.namespace,
        management_tag=desired.management_tag,
        commit=repo.commit,
        customers=tuple(sorted(customers)),
        changes=changes,
        summary=Summary.of(changes),
        estimate=Estimate.of(
            changes,
            read_calls=actual.read_calls + detail_calls,
            asset_calls=asset_calls(changes, {n: s for n, s in sites.items() if s is not None}),
            requests_per_window=settings.requests_per_window,
            window_seconds=settings.window_seconds,
            budget=client.rate_budget(),  # Cloudflare's own count, when it sent one
        ),
        desired_digest=desired.digest(),
        state_digest=actual.digest(),
        desired_count=len(desired.scripts),
        actual_count=len(actual.scripts),
        tags_from_list=actual.tags_from_list,
        create_namespace=not actual.namespace_exists,
        d1=mirror,
    )
    return PlannedRun(plan=plan, desired=desired, actual=actual)


def apply_plan(
    plan: Plan,
    repo: PlatformRepo,
    client: CloudflareClient,
    *,
    allow_deletes: int | None = None,
    verify_state: bool = True,
    on_event: Callable[[ApplyEvent], None] | None = None,
) -> ApplyResult:
    """Apply exactly ``plan``, refusing if it is stale or unsafe.

    Args:
        plan: A plan from ``plan_repo`` (possibly saved and loaded).
        repo: The repository at the plan's commit.
        client: The Cloudflare client.
        allow_deletes: The exact number of deletes the user accepts beyond the
            ``platform.yaml`` safety limits.
        verify_state: Re-read the namespace and refuse if it changed since the plan
            (always done for saved plans; skipped right after planning in-process).
        on_event: Called after every operation.

    Returns:
        The operations' results and, when platform.yaml names a D1 database, what the
        mirror did (it runs last; see docs/d1.md).

    Raises:
        StalePlanError: The repository, commit or namespace changed since the plan.
        UnsafePlanError: A safety guard refused the plan.
    """
    safety = repo.platform.safety
    check_guards(
        plan,
        max_deletes=safety.max_deletes,
        max_delete_fraction=safety.max_delete_fraction,
        allow_deletes=allow_deletes,
    )
    if plan.commit != repo.commit:
        if repo.commit is None and plan.commit:
            raise StalePlanError(
                f"The plan was made from commit {plan.commit[:12]} but this apply reads the work "
                f"tree; pass --ref {plan.commit[:12]} (or the branch it came from) to apply it."
            )
        raise StalePlanError(
            f"The plan was made from commit {plan.commit or '(work tree)'} but the repository "
            f"is at {repo.commit or '(work tree)'}; make a new plan."
        )
    if (plan.account_id, plan.namespace) != (repo.platform.account_id, repo.platform.namespace):
        raise StalePlanError(
            f"The plan is for namespace {plan.namespace!r} of another account or namespace than "
            "platform.yaml names now; make a new plan."
        )
    desired = build_desired(repo, customers=plan.customers)
    if desired.digest() != plan.desired_digest:
        raise StalePlanError(
            "The repository changed since the plan was made (its desired state differs); "
            "make a new plan."
        )
    if verify_state:
        adopted = [c.name for c in plan.changes if c.action is Action.ADOPT]
        # Only the namespace's state and the changes matter here: skip the reads that
        # only explain a plan (settings, D1 rows; the mirror is recomputed when it syncs).
        current = plan_repo(repo, client, customers=plan.customers, adopt=adopted, describe=False)
        if current.plan.state_digest != plan.state_digest:
            raise StalePlanError(
                f"The namespace {plan.namespace!r} changed since the plan was made; "
                "make a new plan and review it."
            )
        if _change_keys(current.plan.changes) != _change_keys(plan.changes):
            # Same repository, same namespace, other changes: the file was edited.
            raise StalePlanError(
                "The plan file's changes are not the ones the repository and the namespace "
                "call for (was the file edited?); make a new plan."
            )
    if plan.create_namespace:
        client.ensure_namespace(plan.namespace)
    result = PlanApplier(client, desired, on_event=on_event).apply(plan.changes)
    return ReconcileResult(result.results, mirror=_mirror(plan, repo, client, desired, result))


def _change_keys(changes: Sequence[Change]) -> list[tuple[str, str, str]]:
    return sorted((c.action.value, c.kind.value, c.name) for c in changes)


def _mirror(
    plan: Plan,
    repo: PlatformRepo,
    client: CloudflareClient,
    desired: DesiredState,
    result: ApplyResult,
) -> MirrorResult | None:
    # Last, after deletes: deployed_scripts must record what is live now, so it runs
    # even when some operations failed (their rows are kept as they were).
    if repo.platform.d1 is None:
        return None
    failed = {
        r.change.name for r in result.results if not r.ok and r.change.kind is WorkerKind.SCRIPT
    }
    try:
        return sync_mirror(
            client,
            repo,
            desired,
            plan.changes,
            customers=plan.customers,
            failed=failed,
            now=now_utc(),
        )
    except WfpError as exc:
        return MirrorResult(migrations_applied=(), tables={}, write_requests=0, error=exc.message)
