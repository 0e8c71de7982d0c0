"""Regular Workers of the account: tail Workers, outbound Workers (and the dispatcher,
``kinds.dispatcher``, which shares their reading and ownership rules).

Regular Workers live in the account, shared by every platform in it: ours carry the
management tag *and* this namespace's tag. Another platform's Worker with a name we
declare is a conflict, and one we do not declare is none of our business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any, cast

from wfp_reconcile.bundle import ScriptUpload
from wfp_reconcile.change import Action, Change
from wfp_reconcile.config.model import OutboundWorker, Platform, PlatformRepo, TailWorker
from wfp_reconcile.errors import NotFoundError
from wfp_reconcile.outcome import Entry
from wfp_reconcile.worker import (
    KEEP_BINDINGS,
    ActualWorker,
    DesiredWorker,
    WorkerKind,
    fingerprint_upload,
    namespace_tag,
)

from . import rules
from .protocol import ApplyTarget, DesiredContext, DiffContext, Phase, ReadSession
from .script import module_of
from .workers import WorkerKindBase, compare, new_worker

__all__ = [
    "OutboundKind",
    "RegularWorkerKind",
    "TailKind",
    "regular_worker",
    "role_of",
    "tail_worker_bindings",
]

_ROLES = (WorkerKind.DISPATCHER.value, WorkerKind.TAIL.value)


def role_of(tags: Sequence[str]) -> str:
    """The kind a regular Worker of ours was deployed as (its role tag)."""
    return next((role for role in _ROLES if role in tags), WorkerKind.OUTBOUND.value)


def regular_worker(
    platform: Platform,
    kind: str,
    name: str,
    upload: ScriptUpload,
    settings: Mapping[str, Any] | None = None,
) -> DesiredWorker:
    fp = fingerprint_upload(upload, settings)
    return DesiredWorker(
        kind=WorkerKind(kind),
        name=name,
        customer=None,
        upload=upload,
        fingerprint=fp,
        tags=(platform.management_tag, kind, namespace_tag(platform.namespace), fp.tag),
        settings=dict(settings or {}),
    )


def _plain_worker(
    repo: PlatformRepo, spec: OutboundWorker | TailWorker, bindings: list[dict[str, Any]]
) -> ScriptUpload:
    platform = repo.platform
    main_name = PurePosixPath(spec.main_module).name
    modules = [module_of(repo, spec.main_module, main_name)]
    modules += [module_of(repo, path, PurePosixPath(path).name) for path in spec.modules]
    metadata: dict[str, Any] = {
        "main_module": main_name,
        "compatibility_date": spec.compatibility_date or platform.compatibility_date,
        "compatibility_flags": sorted(spec.compatibility_flags),
        "bindings": bindings,
        "keep_bindings": list(KEEP_BINDINGS),
    }
    return ScriptUpload(metadata=metadata, modules=tuple(modules))


def tail_worker_bindings(repo: PlatformRepo) -> list[dict[str, Any]]:
    """What every tail Worker is told about the platform, to read its trace events.

    Trace events carry the script's tags; these say which of them are the reconciler's
    own, so a tail Worker can find the customer id among them.
    """
    platform = repo.platform
    values = {
        "WFP_DISPATCHER": platform.dispatcher.name,
        "WFP_MANAGEMENT_TAG": platform.management_tag,
        "WFP_NAMESPACE": platform.namespace,
    }
    return [{"type": "plain_text", "name": k, "text": v} for k, v in sorted(values.items())]


def legacy(management_tag: str, tags: Sequence[str]) -> bool:
    """Deployed by a platform before regular Workers carried a namespace tag."""
    marker = rules.tag_marker(tags, management_tag)
    return marker.managed and marker.namespace is None


def namespace_bindings(settings: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The dispatch-namespace bindings among a Worker's settings."""
    bindings = settings.get("bindings")
    return [
        b
        for b in (bindings if isinstance(bindings, list) else [])
        if isinstance(b, Mapping) and b.get("type") == "dispatch_namespace"
    ]


class RegularWorkerKind(WorkerKindBase):
    """What the regular Worker kinds share."""

    space = "account"

    def proven(self, session: ReadSession, name: str) -> bool:  # noqa: ARG002 (kinds override it)
        """Whether a Worker from before namespace tags shows, by what it is, that it
        serves this platform's namespace (issue 11 item 3: a name alone proves nothing,
        and every platform of the account shares the management tag)."""
        return False

    def _ours(self, session: ReadSession, name: str, tags: Sequence[str]) -> bool:
        marker = rules.tag_marker(tags, session.management_tag, session.namespace)
        if marker.ours(session.namespace):
            return True
        # Deployed before Workers carried a namespace tag: ours only if we declare it, it
        # names no other namespace and what it is proves it ours (the next upload adds the
        # tag). Never deleted on a guess.
        return (
            name in session.wanted.get(self.name, frozenset())
            and legacy(session.management_tag, tags)
            and self.proven(session, name)
        )

    def read(self, session: ReadSession, wanted: Sequence[Any]) -> Mapping[str, ActualWorker]:
        mine = frozenset(w.name for w in wanted)
        declared = session.declared.get(self.space, frozenset())
        listed = session.workers()
        found: dict[str, ActualWorker] = {}
        for info in listed:
            if info.tags is None:
                continue
            if info.id in mine:
                ours = self._ours(session, info.id, info.tags)
                found[info.id] = ActualWorker(info.id, tuple(info.tags), ours)
            elif info.id not in declared and role_of(info.tags) == self.name:
                if self._ours(session, info.id, info.tags):
                    found[info.id] = ActualWorker(info.id, tuple(info.tags), True)
        listed_names = {info.id for info in listed}
        for name in sorted(mine):
            if name in found or name not in listed_names:
                continue
            try:
                tags = session.reader.get_worker_tags(name)
            except NotFoundError:
                continue
            finally:
                session.count()
            found[name] = ActualWorker(name, tags, self._ours(session, name, tags))
        return found

    def _diff_one(
        self, desired: DesiredWorker, actual: ActualWorker | None, ctx: DiffContext
    ) -> Change | None:
        if actual is None:
            return new_worker(desired)
        if not actual.managed:
            refused = (
                "a Worker of this name exists in the account that this platform does "
                "not manage (no management tag, or another namespace's); rename one of them"
            )
            if legacy(ctx.management_tag, actual.tags):
                tag = namespace_tag(ctx.namespace)
                refused = (
                    "a Worker of this name carries the management tag but no namespace tag, "
                    f"and nothing in it shows that it serves namespace {ctx.namespace} (its "
                    "dispatch_namespace bindings, or the dispatcher's outbound binding): "
                    "another platform of the account may have deployed it before namespace "
                    f"tags. If it is this platform's, add the tag {tag} to it; otherwise "
                    "rename this platform's Worker"
                )
            # Regular Workers serve every customer: never taken over by `adopt`.
            return rules.claim(
                new_worker(desired), ctx, adoptable=False, adopted="", refused=refused
            )
        return compare(desired, actual)

    def _retire(self, actual: ActualWorker, ctx: DiffContext) -> Change | None:
        return rules.retire(self.name, actual.name, None, ctx, protected=False)

    def owned(self, observed: Any, known_customers: frozenset[str]) -> Entry | None:  # noqa: ARG002 (the protocol's signature)
        worker = cast(ActualWorker, observed)
        if not worker.managed:
            return None
        return Entry(self.name, worker.name, None, worker.fingerprint, declared=False)

    def _upload(self, target: ApplyTarget, worker: DesiredWorker) -> None:
        target.client.upload_worker(worker.name, worker.upload_with_tags())

    def _retag(self, target: ApplyTarget, worker: DesiredWorker) -> None:
        # Regular Worker tags travel with the upload.
        target.client.upload_worker(worker.name, worker.upload_with_tags())

    def _delete(self, target: ApplyTarget, name: str) -> None:
        target.client.delete_worker(name)

    def _still_ours(self, target: ApplyTarget, change: Change) -> bool:
        tags = target.client.get_worker_tags(change.name)
        marker = rules.tag_marker(tags, target.management_tag, target.namespace)
        # A declared Worker from before namespace tags may be retagged, never deleted.
        untagged = marker.namespace is None and change.action is not Action.DELETE
        return marker.ours(target.namespace) or (marker.managed and untagged)

    def _settings(self, reader: Any, namespace: str, name: str) -> Mapping[str, Any]:  # noqa: ARG002 (the protocol's signature)
        return cast(Mapping[str, Any], reader.get_worker_settings(name))


class TailKind(RegularWorkerKind):
    name = WorkerKind.TAIL.value
    phase = Phase.TAIL

    def proven(self, session: ReadSession, name: str) -> bool:
        # Every tail Worker is told its platform's namespace (tail_worker_bindings).
        bindings = session.worker_settings(name).get("bindings")
        return any(
            isinstance(b, Mapping)
            and b.get("name") == "WFP_NAMESPACE"
            and b.get("text") == session.namespace
            for b in (bindings if isinstance(bindings, list) else [])
        )

    def desired(self, ctx: DesiredContext) -> Sequence[DesiredWorker]:
        repo = ctx.repo
        platform = repo.platform
        bindings = tail_worker_bindings(repo)
        return [
            regular_worker(
                platform,
                self.name,
                name,
                _plain_worker(repo, platform.tail_workers[name], bindings),
            )
            for name in sorted(platform.tail_workers)
        ]


class OutboundKind(RegularWorkerKind):
    name = WorkerKind.OUTBOUND.value
    phase = Phase.OUTBOUND

    def proven(self, session: ReadSession, name: str) -> bool:
        # An outbound Worker holds no mark of its own: this platform's deployed dispatcher
        # must route this namespace through it.
        for dispatcher in session.wanted.get(WorkerKind.DISPATCHER.value, frozenset()):
            try:
                settings = session.worker_settings(dispatcher)
            except NotFoundError:
                continue
            for binding in namespace_bindings(settings):
                outbound = binding.get("outbound")
                worker = outbound.get("worker") if isinstance(outbound, Mapping) else None
                if (
                    binding.get("namespace") == session.namespace
                    and isinstance(worker, Mapping)
                    and worker.get("service") == name
                ):
                    return True
        return False

    def desired(self, ctx: DesiredContext) -> Sequence[DesiredWorker]:
        repo = ctx.repo
        platform = repo.platform
        return [
            regular_worker(
                platform, self.name, name, _plain_worker(repo, platform.outbound_workers[name], [])
            )
            for name in sorted(platform.outbound_workers)
        ]
