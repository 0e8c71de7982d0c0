"""Model -> desired state: what each managed Worker should be, with fingerprints.

A fingerprint is SHA-256 over everything that decides what runs: module names,
content types and bytes (the *code* half) and the normalized upload metadata
without tags (the *config* half). Tags are inventory, not behaviour, so a change
of plan or of user tags is a retag, never an upload.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from wfp_reconcile.assets.desired import ScriptAssets, observability_metadata, script_assets
from wfp_reconcile.bundle import Module, ScriptUpload, content_type_for
from wfp_reconcile.config.model import (
    Customer,
    Limits,
    OutboundWorker,
    Platform,
    PlatformRepo,
    Script,
    TailWorker,
    customer_logpush,
    customer_tails,
    script_observability,
)

__all__ = [
    "KEEP_BINDINGS",
    "PROTECT_TAG",
    "DesiredState",
    "DesiredWorker",
    "Fingerprint",
    "WorkerKind",
    "build_desired",
    "fingerprint_upload",
    "own_tags",
    "parse_fingerprint_tag",
    "tail_consumers",
    "tail_worker_bindings",
]

# Secrets are set out of band (wrangler or the secrets API); without these an
# upload would silently drop them.
KEEP_BINDINGS = ("secret_key", "secret_text")
PROTECT_TAG = "protected"
FP_PREFIX = "fp-"
PLAN_PREFIX = "plan-"
NS_PREFIX = "ns-"
_HALF = 16  # hex characters kept of each half in the tag: 64 bits each


class WorkerKind(StrEnum):
    """Where a Worker lives and in which phase it is applied."""

    TAIL = "tail"
    """A regular Worker that consumes trace events (applied first: others name it)."""
    OUTBOUND = "outbound"
    """A regular Worker used as an outbound (egress) Worker."""
    SCRIPT = "script"
    """A customer script in the dispatch namespace."""
    DISPATCHER = "dispatcher"
    """The platform's dispatch Worker (a regular Worker)."""


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """The two halves of a content fingerprint, as hex digests."""

    code: str
    config: str

    @property
    def tag(self) -> str:
        return f"{FP_PREFIX}{self.code[:_HALF]}{self.config[:_HALF]}"

    @property
    def short(self) -> str:
        """The form stored in tags and compared against the namespace."""
        return self.tag.removeprefix(FP_PREFIX)


def parse_fingerprint_tag(tags: Iterable[str]) -> str | None:
    """The short fingerprint carried by a tag set, if any."""
    for tag in tags:
        if tag.startswith(FP_PREFIX) and len(tag) == len(FP_PREFIX) + 2 * _HALF:
            return tag.removeprefix(FP_PREFIX)
    return None


@dataclasses.dataclass(frozen=True)
class DesiredWorker:
    """One Worker as the repository wants it."""

    kind: WorkerKind
    name: str
    customer: str | None
    upload: ScriptUpload
    """Metadata and modules, without tags (``upload_with_tags`` adds them)."""
    fingerprint: Fingerprint
    tags: tuple[str, ...]
    protect: bool = False
    suspended: bool = False
    assets: ScriptAssets | None = None
    """The script's static assets (``wfp_reconcile.assets``), uploaded before it."""

    def upload_with_tags(self) -> ScriptUpload:
        return ScriptUpload(
            metadata={**self.upload.metadata, "tags": list(self.tags)},
            modules=self.upload.modules,
        )

    @property
    def config_summary(self) -> Mapping[str, Any]:
        """The metadata fields shown in plans (no module bytes)."""
        return {k: v for k, v in self.upload.metadata.items() if k != "keep_bindings"}


@dataclasses.dataclass(frozen=True)
class DesiredState:
    """Every managed Worker the repository declares, by kind."""

    namespace: str
    management_tag: str
    outbound: tuple[DesiredWorker, ...]
    """Regular Workers applied before the scripts: tail Workers first, then outbound ones."""
    scripts: tuple[DesiredWorker, ...]
    dispatcher: DesiredWorker | None
    commit: str | None
    declared_names: frozenset[str] = frozenset()
    """Every script name the repository declares, whatever the ``--customer`` scope: a
    script that moved to a customer outside the scope must not look undeclared."""

    def all(self) -> tuple[DesiredWorker, ...]:
        tail = (self.dispatcher,) if self.dispatcher else ()
        return self.outbound + self.scripts + tail

    @property
    def tail(self) -> tuple[DesiredWorker, ...]:
        return tuple(w for w in self.outbound if w.kind is WorkerKind.TAIL)

    def script(self, name: str) -> DesiredWorker | None:
        for worker in self.scripts:
            if worker.name == name:
                return worker
        return None

    def digest(self) -> str:
        """Identifies this desired state; a saved plan records it."""
        h = hashlib.sha256()
        for worker in self.all():
            h.update(f"{worker.kind}\0{worker.name}\0{worker.fingerprint.tag}\0".encode())
            h.update("\0".join(worker.tags).encode() + b"\n")
        return h.hexdigest()


# What json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) builds
# on every call; one encoder serves the 30,000 calls of a 10,000-script plan.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical(value: Any) -> bytes:
    return _CANONICAL.encode(value).encode()


def fingerprint_upload(upload: ScriptUpload) -> Fingerprint:
    """Fingerprint of an upload's modules (code) and its metadata minus tags (config)."""
    code = hashlib.sha256()
    for module in sorted(upload.modules, key=lambda m: m.name):
        code.update(_canonical([module.name, module.content_type]))
        code.update(hashlib.sha256(module.content).digest())
    metadata = {k: v for k, v in upload.metadata.items() if k != "tags"}
    config = hashlib.sha256(_canonical(metadata))
    return Fingerprint(code=code.hexdigest(), config=config.hexdigest())


def own_tags(
    management_tag: str, customer: str, plan: str, fp: Fingerprint, *, protect: bool
) -> tuple[str, ...]:
    """The tags the reconciler puts on every customer script it manages."""
    tags = [management_tag, customer, f"{PLAN_PREFIX}{plan}", fp.tag]
    if protect:
        tags.append(PROTECT_TAG)
    return tuple(tags)


def _bindings_for_vars(variables: Mapping[str, str | int | float | bool]) -> list[dict[str, Any]]:
    bindings: list[dict[str, Any]] = []
    for name in sorted(variables):
        value = variables[name]
        if isinstance(value, str):
            bindings.append({"type": "plain_text", "name": name, "text": value})
        else:
            bindings.append({"type": "json", "name": name, "json": value})
    return bindings


def _script_bindings(script: Script) -> list[dict[str, Any]]:
    """A customer script's vars and D1 databases, sorted by binding name (names are unique
    across both, see config rules), so the fingerprint does not depend on YAML order."""
    d1 = [{"type": "d1", "name": name, "id": db} for name, db in script.d1.items()]
    # `id` is the field every Wrangler version sends; `database_id` is unconfirmed.
    return sorted(_bindings_for_vars(script.vars) + d1, key=lambda b: str(b["name"]))


def tail_consumers(names: Iterable[str]) -> list[dict[str, str]]:
    """Upload metadata naming tail Workers (regular Workers of the same account)."""
    return [{"service": name} for name in names]


def effective_limits(repo: PlatformRepo, customer: Customer, script: Script) -> Limits:
    """Script limits over customer limits over the platform's defaults."""
    limits = repo.platform.default_limits
    if customer.limits is not None:
        limits = customer.limits.over(limits)
    if script.limits is not None:
        limits = script.limits.over(limits)
    return limits


def _module(repo: PlatformRepo, path: str, name: str) -> Module:
    return Module(name=name, content=repo.files[path], content_type=content_type_for(name))


def _customer_script(
    repo: PlatformRepo, customer: Customer, name: str, script: Script
) -> DesiredWorker:
    platform = repo.platform
    base = PurePosixPath("customers") / customer.id
    modules = [_module(repo, str(base / script.main_module), script.main_module)]
    modules += [_module(repo, str(base / extra), extra) for extra in script.modules]
    modules += [_module(repo, path, PurePosixPath(path).name) for path in platform.platform_modules]
    metadata: dict[str, Any] = {
        "main_module": script.main_module,
        "compatibility_date": script.compatibility_date or platform.compatibility_date,
        "compatibility_flags": sorted(
            script.compatibility_flags
            if script.compatibility_flags is not None
            else platform.compatibility_flags
        ),
        "bindings": _script_bindings(script),
        "keep_bindings": list(KEEP_BINDINGS),
        # Always explicit: an upload that leaves them out must not keep stale settings.
        "logpush": customer_logpush(platform, customer),
        "tail_consumers": tail_consumers(customer_tails(platform, customer)),
        "observability": observability_metadata(script_observability(platform, customer, script)),
    }
    limits = effective_limits(repo, customer, script).given()
    if limits:
        metadata["limits"] = limits
    site = script_assets(repo, customer, name, script)
    if site is not None:  # the completion token is added at apply time (assets.apply)
        metadata["assets"] = {"config": dict(site.config)}
        if site.binding:
            metadata["bindings"] = sorted(
                [*metadata["bindings"], {"type": "assets", "name": site.binding}],
                key=lambda b: str(b["name"]),
            )
        modules.append(site.module())
    upload = ScriptUpload(metadata=metadata, modules=tuple(modules))
    fp = fingerprint_upload(upload)
    tags = own_tags(platform.management_tag, customer.id, customer.plan, fp, protect=script.protect)
    tags += (site.tag,) if site is not None else ()
    return DesiredWorker(
        kind=WorkerKind.SCRIPT,
        name=name,
        customer=customer.id,
        upload=upload,
        fingerprint=fp,
        tags=tags + tuple(script.tags),
        protect=script.protect,
        suspended=customer.suspended,
        assets=site,
    )


def namespace_tag(namespace: str) -> str:
    """The tag that ties a regular Worker to the platform of one dispatch namespace.

    Regular Workers live in the account, not the namespace: two platforms in one account
    (staging and production, say) share the management tag, so without this tag one
    would see, and delete, the other's dispatcher and outbound Workers.
    """
    return f"{NS_PREFIX}{namespace}"


def _regular_worker(
    platform: Platform, kind: WorkerKind, name: str, upload: ScriptUpload
) -> DesiredWorker:
    fp = fingerprint_upload(upload)
    return DesiredWorker(
        kind=kind,
        name=name,
        customer=None,
        upload=upload,
        fingerprint=fp,
        tags=(platform.management_tag, kind.value, namespace_tag(platform.namespace), fp.tag),
    )


def _plain_worker(
    repo: PlatformRepo,
    spec: OutboundWorker | TailWorker,
    bindings: list[dict[str, Any]],
) -> ScriptUpload:
    platform = repo.platform
    main_name = PurePosixPath(spec.main_module).name
    modules = [_module(repo, spec.main_module, main_name)]
    modules += [_module(repo, path, PurePosixPath(path).name) for path in spec.modules]
    metadata: dict[str, Any] = {
        "main_module": main_name,
        "compatibility_date": spec.compatibility_date or platform.compatibility_date,
        "compatibility_flags": sorted(spec.compatibility_flags),
        "bindings": bindings,
        "keep_bindings": list(KEEP_BINDINGS),
    }
    return ScriptUpload(metadata=metadata, modules=tuple(modules))


def _outbound_workers(repo: PlatformRepo) -> tuple[DesiredWorker, ...]:
    platform = repo.platform
    return tuple(
        _regular_worker(
            platform,
            WorkerKind.OUTBOUND,
            name,
            _plain_worker(repo, platform.outbound_workers[name], []),
        )
        for name in sorted(platform.outbound_workers)
    )


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


def _tail_workers(repo: PlatformRepo) -> tuple[DesiredWorker, ...]:
    platform = repo.platform
    bindings = tail_worker_bindings(repo)
    return tuple(
        _regular_worker(
            platform,
            WorkerKind.TAIL,
            name,
            _plain_worker(repo, platform.tail_workers[name], bindings),
        )
        for name in sorted(platform.tail_workers)
    )


def build_desired(repo: PlatformRepo, *, customers: Sequence[str] = ()) -> DesiredState:
    """Build the desired state of the repository.

    Args:
        repo: The validated repository.
        customers: When given, only these customers' scripts are included (the
            outbound Workers and the dispatcher always are: they serve everyone).

    Returns:
        The desired state, deterministic for the same repository.
    """
    from wfp_reconcile.dispatcher import build_dispatcher_upload

    scope = set(customers)
    all_scripts = [
        _customer_script(repo, customer, name, script)
        for customer in repo.customers
        for name, script in sorted(customer.scripts.items())
    ]
    fingerprints = {w.name: w.fingerprint.short for w in all_scripts}
    # The commit is shown by the dispatcher but must not force a re-upload on every
    # commit, so the fingerprint is taken from the same manifest without it.
    unstamped = build_dispatcher_upload(repo, fingerprints, None)
    dispatcher = dataclasses.replace(
        _regular_worker(
            repo.platform,
            WorkerKind.DISPATCHER,
            repo.platform.dispatcher.name,
            unstamped,
        ),
        upload=build_dispatcher_upload(repo, fingerprints, repo.commit),
    )
    scripts = tuple(w for w in all_scripts if not scope or w.customer in scope)
    return DesiredState(
        namespace=repo.platform.namespace,
        management_tag=repo.platform.management_tag,
        outbound=_tail_workers(repo) + _outbound_workers(repo),
        scripts=scripts,
        dispatcher=dispatcher,
        commit=repo.commit,
        declared_names=frozenset(w.name for w in all_scripts),
    )
