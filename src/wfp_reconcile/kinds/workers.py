"""What the Worker kinds share: fingerprint comparison, uploads, retags and deletes.

A Worker kind's desired items are ``DesiredWorker``s and its observed items
``ActualWorker``s (tags are the inventory). Customer scripts live in the dispatch
namespace, the others (tail, outbound, dispatcher) are regular Workers of the account;
the two differ only in the client calls and in how ownership is read from tags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from wfp_reconcile.change import Action, Change, FieldChange
from wfp_reconcile.details import config_fields, value_key
from wfp_reconcile.errors import PlanError
from wfp_reconcile.outcome import Entry
from wfp_reconcile.secrets.planning import created_lines
from wfp_reconcile.worker import FP_PREFIX, ActualWorker, DesiredWorker

from . import rules
from .protocol import ApplyTarget, DiffContext, Phase

__all__ = ["WorkerKindBase", "compare", "new_worker"]

_NOT_OURS = "it no longer carries this platform's management tags (someone else owns it now)"


def _fp_halves(short: str | None) -> tuple[str | None, str | None]:
    if short is None:
        return None, None
    half = len(short) // 2
    return short[:half], short[half:]


def _user_tags(tags: tuple[str, ...]) -> str:
    return ", ".join(sorted(t for t in tags if not t.startswith(FP_PREFIX)))


def compare(desired: DesiredWorker, actual: ActualWorker) -> Change | None:
    """The update or retag that brings a deployed Worker of ours to its declaration."""
    if actual.tags == desired.tags and actual.fingerprint == desired.fingerprint.short:
        return None  # the same tags, the same fingerprint among them: every field below agrees
    before_code, before_config = _fp_halves(actual.fingerprint)
    after_code, after_config = _fp_halves(desired.fingerprint.short)
    fields: list[FieldChange] = []
    if before_code != after_code:
        fields.append(FieldChange(field="code", before=before_code, after=after_code))
    if before_config != after_config:
        fields.append(FieldChange(field="config", before=before_config, after=after_config))
    before_tags, after_tags = _user_tags(actual.tags), _user_tags(desired.tags)
    if before_tags != after_tags:
        fields.append(FieldChange(field="tags", before=before_tags, after=after_tags))
    if not fields:
        return None
    action = Action.UPDATE if any(f.field != "tags" for f in fields) else Action.RETAG
    return Change(
        action=action,
        kind=desired.kind,
        name=desired.name,
        customer=desired.customer,
        fields=tuple(fields),
    )


def new_worker(desired: DesiredWorker) -> Change:
    """The create of a declared Worker."""
    code, config = _fp_halves(desired.fingerprint.short)
    return Change(
        action=Action.CREATE,
        kind=desired.kind,
        name=desired.name,
        customer=desired.customer,
        fields=(
            FieldChange(field="code", before=None, after=code),
            FieldChange(field="config", before=None, after=config),
            *(
                FieldChange(field=field, before=None, after=None, summary=summary)
                for field, summary in created_lines(desired.secrets)
            ),
        ),
    )


class WorkerKindBase:
    """The parts of the kind protocol every Worker kind implements the same way."""

    name: str
    phase: Phase
    space: str
    counted: bool = False
    derived: bool = False

    # -- hooks the concrete kinds supply -------------------------------------------------

    def _upload(self, target: ApplyTarget, worker: DesiredWorker) -> None:
        raise NotImplementedError

    def _retag(self, target: ApplyTarget, worker: DesiredWorker) -> None:
        raise NotImplementedError

    def _delete(self, target: ApplyTarget, name: str) -> None:
        raise NotImplementedError

    def _still_ours(self, target: ApplyTarget, change: Change) -> bool:
        """Whether the Worker still carries our marker (re-read before a retag or delete;
        ``NotFoundError`` when it is gone)."""
        raise NotImplementedError

    def _settings(self, reader: Any, namespace: str, name: str) -> Mapping[str, Any]:
        raise NotImplementedError

    def _diff_one(
        self, desired: DesiredWorker, actual: ActualWorker | None, ctx: DiffContext
    ) -> Change | None:
        raise NotImplementedError

    def _retire(self, actual: ActualWorker, ctx: DiffContext) -> Change | None:
        raise NotImplementedError

    def owned(self, observed: Any, known_customers: frozenset[str]) -> Entry | None:
        raise NotImplementedError

    # -- the protocol ----------------------------------------------------------------------

    def diff(
        self, desired: Sequence[Any], actual: Mapping[str, Any], ctx: DiffContext
    ) -> Sequence[Change]:
        return rules.diff_items(
            cast(Sequence[DesiredWorker], desired),
            cast(Mapping[str, ActualWorker], actual),
            ctx.declared.get(self.space, frozenset()),
            one=lambda worker, seen: self._diff_one(worker, seen, ctx),
            ours=lambda seen: seen.managed,
            retired=lambda seen: self._retire(seen, ctx),
        )

    def cost(self, change: Change) -> int:
        return 1 if change.action.writes else 0

    def deployed(self, item: Any) -> Entry:
        worker = cast(DesiredWorker, item)
        return Entry(
            kind=self.name,
            name=worker.name,
            customer=worker.customer,
            fingerprint=worker.fingerprint.short,
            declared=True,
        )

    def visit(self, change: Change, target: ApplyTarget) -> None:
        if change.action in (Action.CREATE, Action.UPDATE, Action.ADOPT):
            self._upload(target, cast(DesiredWorker, target.item(change)))
        elif change.action is Action.RETAG:
            worker = cast(DesiredWorker, target.item(change))
            rules.still_ours(change, self._still_ours(target, change), _NOT_OURS)
            self._retag(target, worker)
        elif change.action is Action.DELETE:
            rules.delete_ours(
                change,
                current=lambda: self._still_ours(target, change),
                ours=bool,
                delete=lambda _: self._delete(target, change.name),
                why=_NOT_OURS,
            )
        else:
            raise PlanError(f"Unexpected action in plan: {change.action}")

    def explain(
        self, reader: Any, namespace: str, change: Change, item: Any
    ) -> tuple[FieldChange, ...]:
        settings = self._settings(reader, namespace, change.name)
        token = getattr(getattr(reader, "settings", None), "api_token", None)
        return config_fields(cast(DesiredWorker, item), settings, key=value_key(token))

    def group(self, change: Change) -> str:  # noqa: ARG002 (the protocol's signature)
        return "platform"

    def label(self, change: Change) -> str:
        return f"{self.name} {change.name}"
