"""The pipeline in one place: config -> desired -> actual -> diff -> plan -> apply.

The CLI, ``dev`` and the benchmarks all go through these two functions, so they
cannot disagree about what a plan means.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future
from typing import Any

from wfp_reconcile import __version__
from wfp_reconcile.actual import ActualState, read_actual
from wfp_reconcile.apply import UPLOADS, ApplyEvent, ApplyResult, PlanApplier
from wfp_reconcile.assets.plan import describe_assets
from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.cloudflare.assets import get_script_content_typed
from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.desired import DesiredState, build_desired, derive
from wfp_reconcile.details import merge_details
from wfp_reconcile.diff import (
    Action,
    Change,
    FieldChange,
    compute_diff,
    diff_kinds,
    in_apply_order,
)
from wfp_reconcile.errors import ConfigError, ConfigProblem, StalePlanError
from wfp_reconcile.kinds import Inventory, after_apply, kind, kinds
from wfp_reconcile.kinds.ahead import read_ahead
from wfp_reconcile.outcome import as_declared
from wfp_reconcile.plan import Estimate, Plan, Summary, check_guards, now_utc
from wfp_reconcile.preflight import PreflightReport, PreflightSession
from wfp_reconcile.preflight.apply_gate import replace_checked, skip_reasons, uploads_to_skip
from wfp_reconcile.secrets.delivery import SecretKeys

__all__ = ["PlannedRun", "apply_plan", "plan_repo", "without_skipped"]


@dataclasses.dataclass(frozen=True)
class PlannedRun:
    """A plan with the desired and actual state it was computed from."""

    plan: Plan
    desired: DesiredState
    actual: ActualState


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
    items: dict[tuple[str, str], Any] = {
        (k, item.name): item for k in desired.items for item in desired.items[k]
    }
    wanted = [c for c in wanted if (c.kind, c.name) in items]

    def read(change: Change) -> tuple[FieldChange, ...]:
        return kind(change.kind).explain(
            client, desired.namespace, change, items[(change.kind, change.name)]
        )

    details: dict[tuple[str, str], tuple[FieldChange, ...]] = {}
    for change, result in zip(wanted, client.map_concurrent(read, wanted), strict=True):
        # Details only explain a plan: a failed read leaves the fingerprint fields alone.
        if isinstance(result, tuple):
            details[(change.kind, change.name)] = result
    enriched = tuple(
        c.model_copy(update={"fields": merge_details(c.fields, details[(c.kind, c.name)])})
        if details.get((c.kind, c.name))
        else c
        for c in changes
    )
    return enriched, len(wanted)


def outcome(
    repo: PlatformRepo,
    desired: DesiredState,
    actual: ActualState,
    changes: Sequence[Change],
    *,
    failed: Collection[tuple[str, str]] = (),
    derived: bool = True,
) -> Inventory:
    """What is deployed and ours after ``changes`` (``failed`` excepted): the one
    definition the dispatcher, the D1 mirror, the apply summary and ``status`` read.

    ``derived=False`` leaves out the derived kinds (the dispatcher is built from the rest).
    """
    return after_apply(
        [k for k in kinds() if derived or not k.derived],
        desired.items,
        actual.items,
        changes,
        failed=failed,
        known_customers=frozenset(c.id for c in repo.customers),
    )


def _read_contents(
    client: CloudflareClient, namespace: str, changes: Sequence[Change]
) -> list[tuple[bytes, str] | None]:
    """The deployed content of scripts, to read their asset manifests (None when unreadable)."""

    def read(change: Change) -> tuple[bytes, str]:
        return get_script_content_typed(client, namespace, change.name)

    return [r if isinstance(r, tuple) else None for r in client.map_concurrent(read, changes)]


def _diff_rules(
    repo: PlatformRepo, customers: Collection[str], adopt: Collection[str]
) -> dict[str, Any]:
    """The shared rules' inputs (``compute_diff``'s keyword arguments) for one run."""
    return {
        "customers": customers,
        "suspended": {c.id for c in repo.customers if c.suspended},
        "known_customers": {c.id for c in repo.customers},
        "adopt": adopt,
    }


def _derive_while_listing(
    desired: DesiredState, repo: PlatformRepo, started: Mapping[str, Future[Any]]
) -> tuple[Inventory, DesiredState] | None:
    """The derived kinds built for the stock of a plan with nothing to change, while the
    namespace is still being listed (None once the listing is done: nothing to wait for).

    ``derive`` is pure, so the guess is used exactly when the stock taken after the
    listing equals it: most plans change nothing, and at 100,000 scripts the routing of
    the whole fleet is then built while waiting on the last pages instead of after them.
    """
    if all(future.done() for future in started.values()):
        return None
    declared = as_declared([k for k in kinds() if not k.derived], desired.items)
    derived = derive(desired, repo, declared)
    derived.digest()  # cached: the plan records it
    return declared, derived


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
            updated scripts and the files of changed asset sites.

    Returns:
        The plan and the states it was computed from.
    """
    _check_scope(repo, customers)
    # The derived kinds are built again from the stock taken below; until then only their
    # names are used (to read them), so this first build routes nothing instead of
    # assembling a manifest of the whole fleet that is thrown away. The namespace is
    # listed meanwhile (I/O under CPU): the repository is validated, the scope checked.
    with read_ahead(client, repo.platform) as started:
        desired = build_desired(repo, customers=customers, inventory=Inventory({}))
        guess = _derive_while_listing(desired, repo, started)
        actual = read_actual(client, desired, started=started)
    rules = _diff_rules(repo, customers, adopt)

    def diff(state: DesiredState, only: Collection[str]) -> dict[str, tuple[Change, ...]]:
        found = diff_kinds(state, actual, only=only, **rules)
        if not adopt:
            return found
        # `adopt` takes over the named scripts and nothing else (the rest is for `apply`),
        # plus what follows from it: the dispatcher then routes the adopted scripts.
        return {
            name: tuple(c for c in part if c.action is Action.ADOPT or kind(c.kind).derived)
            for name, part in found.items()
        }

    # Derived kinds (the dispatcher) follow from what the others leave deployed: diff
    # those first, take stock assuming every write succeeds, then build and diff the
    # derived ones (the others' changes do not depend on them: not diffed again).
    base = diff(desired, [k.name for k in kinds() if not k.derived])
    stock = outcome(repo, desired, actual, in_apply_order(desired, base), derived=False)
    if guess is not None and guess[0] == stock:
        desired = guess[1]
    else:
        desired = derive(desired, repo, stock)
    derived = diff(desired, [k.name for k in kinds() if k.derived])
    changes = in_apply_order(desired, {**base, **derived})
    detail_calls = 0
    if describe:
        changes, detail_calls = _with_config_details(client, desired, changes)
        # A changed site is spelled out per file from the deployed manifest (assets.plan).
        sites = {w.name: w.assets for w in desired.scripts if w.assets is not None}
        changes, asset_reads = describe_assets(
            changes, sites, lambda wanted: _read_contents(client, desired.namespace, wanted)
        )
        detail_calls += asset_reads
    settings = client.settings
    plan = Plan(
        created_at=now_utc(),
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
    )
    plan = plan.sealed()
    # In memory only (never in a plan file): an apply right after planning uses the
    # states the plan was computed from instead of reading them again.
    plan.remember(desired, actual, repo)
    return PlannedRun(plan=plan, desired=desired, actual=actual)


def apply_plan(
    plan: Plan,
    repo: PlatformRepo,
    client: CloudflareClient,
    *,
    allow_deletes: int | None = None,
    verify_state: bool = True,
    on_event: Callable[[ApplyEvent], None] | None = None,
    secret_keys: SecretKeys | None = None,
    preflight: bool = False,
    preflight_session: PreflightSession | None = None,
) -> ApplyResult:
    """Apply exactly ``plan``, refusing if it is stale or unsafe.

    Args:
        plan: A plan from ``plan_repo`` (possibly saved and loaded).
        repo: The repository at the plan's commit.
        client: The Cloudflare client.
        allow_deletes: The exact number of deletes the user accepts beyond the
            ``platform.yaml`` safety limits.
        verify_state: Re-read the namespace and refuse if it changed since the plan
            (always done for a plan loaded from a file; skipped right after planning
            in-process).
        on_event: Called after every operation.
        secret_keys: What decrypts declared secrets; by default the identity in
            ``WFP_AGE_IDENTITY``/``WFP_AGE_IDENTITY_FILE``, read only when needed.
        preflight: Before the first write, load every bundle the plan uploads in workerd
            and skip those Cloudflare would reject (docs/preflight.md, "In apply"): the
            last good version stays live, the dispatcher is derived without them, the
            rest is applied. Without the runtime the apply goes on unchecked and
            ``preflight_note`` says so.
        preflight_session: The workerd to load them in (a new one otherwise).

    Returns:
        The operations' results (skipped uploads among them, and the D1 mirror's, last;
        see docs/d1.md) and what is deployed and ours afterwards.

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
    remembered = plan.remembered()
    if verify_state or remembered is None:
        adopted = [c.name for c in plan.changes if c.action is Action.ADOPT]
        # Only the state and the changes matter here: skip the reads that only explain a
        # plan (settings, asset files); the D1 mirror's two reads are state.
        current = plan_repo(repo, client, customers=plan.customers, adopt=adopted, describe=False)
        desired, actual = current.desired, current.actual
        if desired.digest() != plan.desired_digest:
            raise StalePlanError(
                "The repository changed since the plan was made (its desired state differs); "
                "make a new plan."
            )
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
        # The guards read counts; take them from the namespace just read, never from the
        # file (its seal is not keyed: whoever can write the file can recompute it).
        check_guards(
            current.plan,
            max_deletes=safety.max_deletes,
            max_delete_fraction=safety.max_delete_fraction,
            allow_deletes=allow_deletes,
        )
    else:
        # Right after planning: the namespace as the plan saw it, the repository as it is
        # now (a change in between makes the plan stale, as it would a saved one).
        desired, actual, planned_from = remembered
        if planned_from is not repo:
            # Routes nothing until derived from the stock below (as plan_repo does). The
            # same (frozen) repository object would build the same state: reused then.
            desired = build_desired(repo, customers=plan.customers, inventory=Inventory({}))
            base = [c for c in plan.changes if not kind(c.kind).derived]
            desired = derive(desired, repo, outcome(repo, desired, actual, base, derived=False))
        if desired.digest() != plan.desired_digest:
            raise StalePlanError(
                "The repository changed since the plan was made (its desired state differs); "
                "make a new plan."
            )
    # Pre-flight runs before the first write. The staleness checks above compare the
    # plan as planned; what it skips changes only what is carried out (and the
    # dispatcher derived from that).
    gated = _Gated(desired, plan.changes, {}, None, None)
    if preflight:
        gated = _preflight(plan, repo, desired, actual, preflight_session)
    desired = gated.desired
    if plan.create_namespace:
        client.ensure_namespace(plan.namespace)
    keys = secret_keys or SecretKeys(
        api_base=client.settings.base_url,
        recipients=repo.platform.secrets.recipients,
        demo_fallback=True,  # against the local emulator only (the example works as is)
    )
    planned, carried_out = desired, gated.changes

    def rederive(missed: Collection[tuple[str, str]]) -> DesiredState:
        # The D1 mirror records what is live: after a failure, from the inventory with it.
        stock = outcome(repo, planned, actual, carried_out, failed=missed, derived=False)
        return derive(planned, repo, stock)

    applier = PlanApplier(client, desired, on_event=on_event, secret_keys=keys, rederive=rederive)
    result = applier.apply(gated.changes, skip=gated.skip)
    # Skipped, failed and not attempted alike: not carried out, kept as they were.
    missed = {(r.change.kind, r.change.name) for r in result.results if not r.ok}
    inventory = outcome(repo, desired, actual, gated.changes, failed=missed)
    return ApplyResult(
        result.results,
        inventory=inventory,
        preflight=gated.report,
        preflight_note=gated.note,
    )


@dataclasses.dataclass(frozen=True)
class _Gated:
    """What apply carries out once pre-flight has spoken."""

    desired: DesiredState
    changes: tuple[Change, ...]
    skip: Mapping[tuple[str, str], str]
    report: PreflightReport | None
    note: str | None


def _preflight(
    plan: Plan,
    repo: PlatformRepo,
    desired: DesiredState,
    actual: ActualState,
    session: PreflightSession | None,
) -> _Gated:
    uploads = {(c.kind, c.name) for c in plan.changes if c.action in UPLOADS}
    with contextlib.ExitStack() as stack:
        if session is None:
            session = PreflightSession()  # workerd starts on the first load, if any
            stack.callback(session.close)
        report, note = uploads_to_skip(repo, desired, uploads, session=session)
        skip = dict(skip_reasons(report))
        held = {key for key in skip if not kind(key[0]).derived}
        if report is None or not held:
            return _Gated(desired, plan.changes, skip, report, note)
        # The dispatcher was derived assuming every upload succeeds: derive it again
        # without the skipped ones and load that bundle (when it still differs from the
        # deployed one) in the same workerd.
        adopted = [c.name for c in plan.changes if c.action is Action.ADOPT]
        desired, changes = without_skipped(
            repo, desired, actual, plan.changes, held, customers=plan.customers, adopt=adopted
        )
        derived = {key for key in uploads if kind(key[0]).derived}
        redo = {(c.kind, c.name) for c in changes if c.action in UPLOADS and kind(c.kind).derived}
        again, note = uploads_to_skip(repo, desired, redo, session=session)
        report = replace_checked(report, derived, again)
        skip = {key: skip[key] for key in held} | dict(skip_reasons(again))
        return _Gated(desired, changes, skip, report, note)


def without_skipped(
    repo: PlatformRepo,
    desired: DesiredState,
    actual: ActualState,
    changes: Sequence[Change],
    skipped: Collection[tuple[str, str]],
    *,
    customers: Collection[str] = (),
    adopt: Collection[str] = (),
) -> tuple[DesiredState, tuple[Change, ...]]:
    """The derived kinds (the dispatcher) built and diffed again as if ``skipped`` were
    not carried out, as ``plan_repo`` builds them assuming every write succeeds (pure).

    A skipped new script is then not routed, a skipped update keeps the routing entry
    of the version that is deployed; when the dispatcher that results is the deployed
    one, there is no dispatcher change.

    Returns:
        The desired state with the derived items rebuilt, and ``changes`` with their
        derived changes replaced by the new diff.
    """
    base = tuple(c for c in changes if not kind(c.kind).derived)
    inventory = outcome(repo, desired, actual, base, failed=skipped, derived=False)
    rebuilt = derive(desired, repo, inventory)
    rediffed = compute_diff(
        rebuilt,
        actual,
        only=[k.name for k in kinds() if k.derived],
        **_diff_rules(repo, customers, adopt),
    )
    return rebuilt, base + rediffed


def _change_keys(changes: Sequence[Change]) -> list[tuple[str, str, str]]:
    return sorted((c.action.value, c.kind, c.name) for c in changes)
