"""Customer scripts: Workers in the dispatch namespace, owned by one customer each.

Reading costs one list call per 1000 managed scripts; tags are read per script only when
the list omits them, and scripts without the management tag are looked up only for the
names the repository wants (so that one is reported as a conflict, never overwritten).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any, cast

from wfp_reconcile.assets.apply import prepare_upload
from wfp_reconcile.assets.desired import ScriptAssets, observability_metadata, script_assets
from wfp_reconcile.assets.plan import asset_calls, asset_field
from wfp_reconcile.bundle import Module, ScriptUpload, content_type_for
from wfp_reconcile.change import Action, Change
from wfp_reconcile.cloudflare import ScriptInfo
from wfp_reconcile.config.model import (
    Customer,
    PlatformRepo,
    Script,
    customer_logpush,
    customer_tails,
    script_observability,
)
from wfp_reconcile.errors import NotFoundError, WfpError
from wfp_reconcile.outcome import Entry
from wfp_reconcile.secrets.declared import script_secrets
from wfp_reconcile.secrets.delivery import keep_bindings, marker_bindings, with_secrets
from wfp_reconcile.worker import (
    ActualWorker,
    DesiredWorker,
    WorkerKind,
    effective_limits,
    fingerprint_upload,
    own_tags,
    tail_consumers,
)

from . import rules
from .protocol import (
    ApplyTarget,
    DesiredContext,
    DiffContext,
    Phase,
    ReadSession,
    StateReader,
)
from .workers import WorkerKindBase, compare, new_worker

__all__ = [
    "ScriptKind",
    "customer_script",
    "list_managed",
    "managed_read",
    "module_of",
    "platform_modules",
]

_UPLOADS = (Action.CREATE, Action.UPDATE, Action.ADOPT)

# Above this many names to probe, one listing of unmanaged scripts is cheaper.
PROBE_LIMIT = 20


def module_of(repo: PlatformRepo, path: str, name: str) -> Module:
    return Module(name=name, content=repo.files[path], content_type=content_type_for(name))


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


def platform_modules(repo: PlatformRepo) -> tuple[Module, ...]:
    """The platform's modules, bundled with every customer script under their file names."""
    return tuple(
        module_of(repo, path, PurePosixPath(path).name) for path in repo.platform.platform_modules
    )


def customer_script(
    repo: PlatformRepo,
    customer: Customer,
    name: str,
    script: Script,
    shared: Sequence[Module] | None = None,
) -> DesiredWorker:
    """One declared customer script with its upload, fingerprint and tags.

    ``shared`` is ``platform_modules(repo)``, built once for all scripts by the caller of
    many (the same objects: each is then hashed once).
    """
    platform = repo.platform
    # Paths of a loaded repository are validated normalized relative paths, so joining the
    # strings is what PurePosixPath would build, without parsing each of them.
    base = f"customers/{customer.id}/"
    modules = [module_of(repo, base + script.main_module, script.main_module)]
    modules += [module_of(repo, base + extra, extra) for extra in script.modules]
    modules += platform_modules(repo) if shared is None else shared
    declared = script_secrets(customer, name, script)
    metadata: dict[str, Any] = {
        "main_module": script.main_module,
        "compatibility_date": script.compatibility_date or platform.compatibility_date,
        "compatibility_flags": sorted(
            script.compatibility_flags
            if script.compatibility_flags is not None
            else platform.compatibility_flags
        ),
        "bindings": sorted(
            _script_bindings(script) + marker_bindings(declared), key=lambda b: str(b["name"])
        ),
        "keep_bindings": keep_bindings(declared),
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
        secrets=declared,
    )


def managed_read(namespace: str, management_tag: str) -> str:
    """``ReadSession.once``'s key of the listing of the namespace's managed scripts."""
    return f"scripts {namespace} {management_tag}"


def list_managed(
    reader: StateReader, namespace: str, management_tag: str
) -> tuple[ScriptInfo, ...] | None:
    """Every script of the namespace with the management tag (``None``: no namespace).

    Needs nothing of the desired state, so ``kinds.ahead`` can start it while that is
    built; the caller counts the pages.
    """
    try:
        return tuple(reader.list_scripts(namespace, tags=[(management_tag, True)]))
    except NotFoundError:
        return None


def _tags_or_none(session: ReadSession, name: str) -> tuple[str, ...] | None:
    try:
        return session.reader.get_script_tags(session.namespace, name)
    except NotFoundError:
        return None


def _collect(results: Sequence[object], names: Sequence[str]) -> dict[str, tuple[str, ...] | None]:
    out: dict[str, tuple[str, ...] | None] = {}
    for name, result in zip(names, results, strict=True):
        if isinstance(result, WfpError):
            raise result
        out[name] = result if isinstance(result, tuple) else None
    return out


def _with_site(
    desired: DesiredWorker, actual: ActualWorker | None, change: Change | None
) -> Change | None:
    """An upload's ``assets`` field when its site changed (or is new, or is gone): apply
    then uploads the site; without the field it sends ``keep_assets: true``."""
    if change is None or change.action not in _UPLOADS:
        return change
    field = asset_field(desired.assets, actual.tags if actual is not None else None)
    if field is None:
        return change
    return change.model_copy(update={"fields": (*change.fields, field)})


def _not_this_customers(
    desired: DesiredWorker, actual: ActualWorker, ctx: DiffContext
) -> tuple[str, str] | None:
    """What a take-over of the script under a declared name says (adopted, refused), when
    it is not this customer's: unmanaged, or deployed for another customer (say, still live
    after its YAML was removed, or protected). Taking the latter over would run one
    customer's code on another's traffic with its secrets: only an explicit `adopt` moves a
    script between customers."""
    if not actual.managed:
        return (
            "taken over by `adopt`",
            "a script of this name exists without the management tag; "
            f"run `wfp-reconcile adopt {desired.name}` to take it over",
        )
    owner = actual.customer(ctx.known_customers)
    if owner == desired.customer:
        return None
    return (
        f"taken over from customer {owner}",
        f"deployed for customer {owner}; run `wfp-reconcile adopt {desired.name}` (a "
        "platform admin's decision) to move it to this customer",
    )


class ScriptKind(WorkerKindBase):
    name = WorkerKind.SCRIPT.value
    phase = Phase.SCRIPTS
    space = "namespace"
    counted = True

    def __init__(self) -> None:
        self._sites: dict[str, ScriptAssets] = {}
        """Sites of the last desired state built, for ``cost`` (which sees only changes)."""

    def desired(self, ctx: DesiredContext) -> Sequence[DesiredWorker]:
        repo = ctx.repo
        shared = platform_modules(repo)
        workers = [
            customer_script(repo, customer, name, script, shared)
            for customer in repo.customers
            for name, script in sorted(customer.scripts.items())
        ]
        self._sites = {w.name: w.assets for w in workers if w.assets is not None}
        return workers

    def cost(self, change: Change) -> int:
        # A changed site adds its upload session and buckets to the script's upload.
        return super().cost(change) + asset_calls([change], self._sites)

    def visit(self, change: Change, target: ApplyTarget) -> None:
        if change.action in _UPLOADS:
            self._send(target, cast(DesiredWorker, target.item(change)), change)
            return
        super().visit(change, target)

    def read(self, session: ReadSession, wanted: Sequence[Any]) -> Mapping[str, ActualWorker]:
        reader, namespace, management_tag = (
            session.reader,
            session.namespace,
            session.management_tag,
        )
        managed = session.once(
            managed_read(namespace, management_tag),
            lambda: list_managed(reader, namespace, management_tag),
        )
        if managed is None:
            # A new platform: the namespace is created by apply before anything else.
            session.namespace_exists = False
        listed = managed or ()
        session.count(max(1, -(-len(listed) // 1000)))
        session.tags_from_list = all(info.tags is not None for info in listed)
        missing_tags = [info.id for info in listed if info.tags is None]
        fetched: dict[str, tuple[str, ...] | None] = {}
        if missing_tags:
            results = reader.map_concurrent(lambda n: _tags_or_none(session, n), missing_tags)
            fetched = _collect(results, missing_tags)
            session.count(len(missing_tags))
        found: dict[str, ActualWorker] = {}
        for info in listed:
            tags = info.tags if info.tags is not None else fetched.get(info.id)
            if tags is None:  # deleted between the list and the tags read
                continue
            found[info.id] = ActualWorker(info.id, tuple(tags), management_tag in tags)

        declared = sorted({w.name for w in wanted} - set(found))
        to_probe = declared if session.namespace_exists else []
        if len(to_probe) > PROBE_LIMIT:
            # One unfiltered listing, not `tags=<management>:no`: whether Cloudflare's tag
            # filter keeps scripts that have no tags at all is not documented, and a
            # script it left out would be planned as a create and overwritten.
            probing, seen = set(to_probe), 0
            for info in reader.list_scripts(namespace):
                seen += 1
                if info.id in probing:  # not in the managed listing above
                    found[info.id] = ActualWorker(info.id, tuple(info.tags or ()), False)
            session.count(max(1, -(-seen // 1000)))
        elif to_probe:
            results = reader.map_concurrent(lambda n: _tags_or_none(session, n), to_probe)
            session.count(len(to_probe))
            for name, tags in _collect(results, to_probe).items():
                if tags is not None:
                    found[name] = ActualWorker(name, tags, management_tag in tags)
        return found

    def _diff_one(
        self, desired: DesiredWorker, actual: ActualWorker | None, ctx: DiffContext
    ) -> Change | None:
        change: Change | None
        if actual is None:
            change = new_worker(desired)
        elif (taken := _not_this_customers(desired, actual, ctx)) is not None:
            adopted, refused = taken
            claim = rules.claim(
                new_worker(desired), ctx, adoptable=True, adopted=adopted, refused=refused
            )
            return _with_site(desired, actual, claim)
        else:
            change = compare(desired, actual)
        change = _with_site(desired, actual, change)
        return rules.suspend(change, suspended=desired.suspended)

    def _retire(self, actual: ActualWorker, ctx: DiffContext) -> Change | None:
        owner = actual.customer(ctx.known_customers)
        return rules.retire(self.name, actual.name, owner, ctx, protected=actual.protected)

    def owned(self, observed: Any, known_customers: frozenset[str]) -> Entry | None:
        worker = cast(ActualWorker, observed)
        if not worker.managed:
            return None
        return Entry(
            kind=self.name,
            name=worker.name,
            customer=worker.customer(known_customers),
            fingerprint=worker.fingerprint,
            declared=False,
        )

    def _send(self, target: ApplyTarget, worker: DesiredWorker, change: Change | None) -> None:
        """The one upload of a script: its site first (when it changed), then the code
        with the decrypted secrets, in memory for this one call."""
        upload = worker.upload_with_tags()
        if change is not None:
            upload = prepare_upload(
                target.client, target.namespace, worker.name, upload, worker.assets, change
            )
        if worker.secrets:
            upload = with_secrets(upload, target.secret_keys.reveal(worker.secrets))
        target.client.upload_script(target.namespace, worker.name, upload)

    def _upload(self, target: ApplyTarget, worker: DesiredWorker) -> None:
        self._send(target, worker, None)

    def _retag(self, target: ApplyTarget, worker: DesiredWorker) -> None:
        target.client.put_script_tags(target.namespace, worker.name, worker.tags)

    def _delete(self, target: ApplyTarget, name: str) -> None:
        target.client.delete_script(target.namespace, name)

    def _still_ours(self, target: ApplyTarget, change: Change) -> bool:
        tags = target.client.get_script_tags(target.namespace, change.name)
        return target.management_tag in tags

    def _settings(self, reader: Any, namespace: str, name: str) -> Mapping[str, Any]:
        return cast(Mapping[str, Any], reader.get_script_settings(namespace, name))

    def group(self, change: Change) -> str:
        return f"customer {change.customer or '(unknown)'}"

    def label(self, change: Change) -> str:
        return f"script {change.name}"
