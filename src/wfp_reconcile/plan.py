"""Plans: changes plus everything needed to apply them safely later.

A plan records the digest of the desired state (so a repository change makes
it stale), the digest of the actual state it saw (so an out-of-band change in
the namespace makes it stale) and the commit it was built from. It never holds
module bytes, tokens or variable values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from wfp_reconcile.change import Action, Change
from wfp_reconcile.errors import PlanError, UnsafePlanError
from wfp_reconcile.kinds import kind

if TYPE_CHECKING:
    from wfp_reconcile.cloudflare.ratelimit import RateBudget

__all__ = [
    "PLAN_FORMAT_VERSION",
    "Estimate",
    "Plan",
    "Summary",
    "check_guards",
    "load_plan",
    "save_plan",
]

PLAN_FORMAT_VERSION = 3
"""2: changes of any registered kind, digests over all kinds. 3: the D1 mirror's
migrations and rows are changes of the kinds ``d1_schema`` and ``d1_table`` (no ``d1``
section); a version 2 file is refused by ``load_plan``."""


class Summary(BaseModel):
    """Counts by action; ``add``/``change``/``destroy`` are Terraform's words."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    add: int
    change: int
    destroy: int
    conflicts: int
    protected: int
    skipped: int

    @classmethod
    def of(cls, changes: Sequence[Change]) -> Summary:
        counts = Counter(c.action for c in changes)
        return cls(
            add=counts[Action.CREATE] + counts[Action.ADOPT],
            change=counts[Action.UPDATE] + counts[Action.RETAG],
            destroy=counts[Action.DELETE],
            conflicts=counts[Action.CONFLICT],
            protected=counts[Action.PROTECTED],
            skipped=counts[Action.SKIPPED],
        )


class Estimate(BaseModel):
    """API calls an apply will make and how long they take at the configured pace."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    write_calls: int
    read_calls: int
    seconds: float
    requests_per_window: int
    window_seconds: float
    budget_remaining: int | None = None
    """Requests left of the account's budget when the plan was made, from Cloudflare's
    ``Ratelimit`` header (``None``: the answers carried none)."""

    @classmethod
    def of(
        cls,
        changes: Sequence[Change],
        *,
        read_calls: int,
        requests_per_window: int,
        window_seconds: float,
        budget: RateBudget | None = None,
    ) -> Estimate:
        # Each kind knows what one change costs (an asset upload is more than one call).
        writes = sum(kind(c.kind).cost(c) for c in changes)
        calls = writes + read_calls
        if budget is not None:
            # What the server said is left goes now; the rest waits for its reset, then
            # one quota per window.
            quota = budget.quota or requests_per_window
            window = budget.window_seconds or window_seconds
            beyond = max(0, writes - budget.remaining)
            seconds = 0.0
            if beyond:
                seconds = budget.reset_seconds + math.ceil(beyond / quota - 1) * window
        else:
            # The bucket starts full: only calls beyond one window's budget wait.
            beyond = max(0, calls - requests_per_window)
            seconds = math.ceil(beyond / requests_per_window) * window_seconds if beyond else 0.0
        return cls(
            write_calls=writes,
            read_calls=read_calls,
            seconds=seconds,
            requests_per_window=requests_per_window,
            window_seconds=window_seconds,
            budget_remaining=budget.remaining if budget is not None else None,
        )


class Plan(BaseModel):
    """A reviewed, serializable set of changes (format documented in docs/plan-json.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: int = PLAN_FORMAT_VERSION
    created_at: str
    tool_version: str
    account_id: str
    namespace: str
    management_tag: str
    commit: str | None
    customers: tuple[str, ...]
    """The ``--customer`` scope; empty means every customer."""
    changes: tuple[Change, ...]
    summary: Summary
    estimate: Estimate
    desired_digest: str
    state_digest: str
    desired_count: int
    actual_count: int
    tags_from_list: bool
    create_namespace: bool = False
    """The dispatch namespace does not exist yet; apply creates it first."""
    integrity: str = ""
    """SHA-256 over everything else in the plan, computed when it was made: a plan file
    whose content does not match is refused (``load_plan``)."""
    _states: tuple[Any, Any, Any] | None = PrivateAttr(default=None)

    def content_digest(self) -> str:
        content = self.model_dump(mode="json", exclude={"integrity"})
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def sealed(self) -> Plan:
        """This plan with its integrity digest (plans leave ``plan_repo`` sealed)."""
        return self.model_copy(update={"integrity": self.content_digest()})

    def remember(self, desired: Any, actual: Any, repo: Any) -> None:
        """Keep the states this plan was computed from and the repository object the
        desired state was built from, in memory only (a saved plan never holds them:
        applying one reads the namespace again)."""
        self._states = (desired, actual, repo)

    def remembered(self) -> tuple[Any, Any, Any] | None:
        return self._states

    @property
    def has_changes(self) -> bool:
        return self.create_namespace or any(c.action.writes for c in self.changes)

    @property
    def deletes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is Action.DELETE)


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def check_guards(
    plan: Plan, *, max_deletes: int, max_delete_fraction: float, allow_deletes: int | None
) -> None:
    """Refuse plans that look like accidents.

    Raises:
        UnsafePlanError: The desired set is empty while the namespace is not, or
            the plan deletes more than ``platform.yaml`` allows and
            ``--allow-deletes`` does not name the exact count.
    """
    deletes = len(plan.deletes)
    if plan.desired_count == 0 and plan.actual_count > 0 and not plan.customers:
        raise UnsafePlanError(
            f"The repository declares no scripts but the namespace {plan.namespace!r} holds "
            f"{plan.actual_count} managed scripts; refusing to delete them all. Check that the "
            "right repository and --ref are used."
        )
    if deletes == 0:
        return
    if allow_deletes is not None:
        if allow_deletes == deletes:
            return
        raise UnsafePlanError(
            f"--allow-deletes {allow_deletes} does not match the {deletes} deletes planned; "
            f"review the plan and pass --allow-deletes {deletes}."
        )
    # The fraction is of the namespace's scripts; regular Workers (dispatcher, outbound,
    # tail) count towards the number of deletes but are not part of that population.
    script_deletes = sum(1 for c in plan.deletes if kind(c.kind).counted)
    fraction = (
        script_deletes / plan.actual_count if plan.actual_count else float(script_deletes > 0)
    )
    if deletes > max_deletes or fraction > max_delete_fraction:
        raise UnsafePlanError(
            f"The plan deletes {deletes} of {plan.actual_count} managed scripts, more than "
            f"platform.yaml allows (safety.max_deletes {max_deletes}, "
            f"safety.max_delete_fraction {max_delete_fraction:g}). Review the plan and pass "
            f"--allow-deletes {deletes} to proceed."
        )


def save_plan(plan: Plan, path: Path) -> None:
    """Write a plan file atomically (a killed process leaves no half file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(plan.model_dump_json(indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_plan(path: Path) -> Plan:
    """Read a plan file written by ``plan --out``.

    Raises:
        PlanError: The file is missing, not a plan, or from another format version.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanError(f"Cannot read plan file {path}: {exc.strerror}.")
    except (ValueError, UnicodeDecodeError):
        raise PlanError(f"{path} is not a plan file (not JSON); create one with `plan --out`.")
    version = raw.get("format_version") if isinstance(raw, dict) else None
    if version != PLAN_FORMAT_VERSION:
        raise PlanError(
            f"{path} has plan format version {version!r}; this wfp-reconcile reads version "
            f"{PLAN_FORMAT_VERSION}. Make a new plan with `plan --out`."
        )
    try:
        plan = Plan.model_validate(raw)
    except ValidationError as exc:
        raise PlanError(
            f"{path} is not a valid plan file ({exc.error_count()} problems); "
            "make a new one with `plan --out`."
        )
    if not plan.integrity or plan.integrity != plan.content_digest():
        raise PlanError(
            f"{path} does not match the integrity digest `plan --out` wrote into it (was the "
            "file edited?); a saved plan is applied exactly as reviewed or not at all. Make a "
            "new plan."
        )
    if any(c.action is Action.ADOPT for c in plan.changes):
        # `plan --out` never writes take-overs: a file that holds them was made by hand, and
        # an unkeyed digest proves nothing against someone who can write the file.
        raise PlanError(
            f"{path} holds adopt entries, which `plan --out` never writes: taking over a "
            "script is a platform admin's decision, made with `wfp-reconcile adopt NAME...`."
        )
    return plan
