# The protocol fixes the methods' signatures; some ignore arguments.
# ruff: noqa: ARG002
"""The routing store (``dispatcher.routing_data: store``): Workers KV records, two kinds.

Derived, like the dispatcher, from what the other kinds leave deployed (the inventory),
by the same code as the manifest (``dispatcher.records``):

* ``routing-index`` (one item, the ``i:00``..``i:3f`` records): a digest per customer.
  Read with one bulk get;
  written in its own last phase (``Phase.ROUTING_INDEX``), only when everything before
  succeeded, so it never vouches for a record that was not written. Its write also removes
  the records of customers the repository no longer declares (after the deletes).
* ``routing`` (one item per customer): the customer's ``s:``, ``t:`` and ``c:`` records,
  written in the dispatcher's phase, after the script uploads, with one bulk request. A
  change to one customer rewrites only that customer's records.

Like the manifest, the records follow the whole repository whatever ``--customer``
scope: they are the dispatcher's data, not a customer's item. See docs/dispatcher.md.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from wfp_reconcile.change import Action, Change, FieldChange
from wfp_reconcile.cloudflare.kv import (
    NAMESPACE_NOT_FOUND,
    kv_bulk_delete,
    kv_bulk_get,
    kv_bulk_write,
    kv_get,
)
from wfp_reconcile.config.model import RoutingStore
from wfp_reconcile.dispatcher.records import (
    INDEX_KEYS,
    CustomerRecords,
    build_records,
    customer_key,
    index_shards,
    index_value,
    parse_index,
    record_keys,
)
from wfp_reconcile.errors import NotFoundError
from wfp_reconcile.outcome import Entry

from .dispatcher import routed_fingerprints
from .protocol import ApplyTarget, DesiredContext, DiffContext, Phase, ReadSession

__all__ = [
    "INDEX_ITEM",
    "ROUTING_INDEX_KIND",
    "ROUTING_KIND",
    "DesiredIndex",
    "DesiredRecords",
    "ObservedIndex",
    "ObservedRecords",
    "RoutingIndexKind",
    "RoutingKind",
]

ROUTING_KIND = "routing"
ROUTING_INDEX_KIND = "routing-index"
INDEX_ITEM = "index"
_READ_KEY = "routing-index"


@dataclasses.dataclass(frozen=True)
class DesiredIndex:
    """The index record every customer's records are planned against."""

    namespace_id: str
    digests: Mapping[str, str]
    records: Mapping[str, CustomerRecords] = dataclasses.field(compare=False, repr=False)
    wanted: frozenset[str] = dataclasses.field(compare=False, repr=False)
    """Every key any customer's records use: never removed as another's stale key."""
    name: str = INDEX_ITEM
    customer: str | None = None

    def digest_line(self) -> bytes:
        return json.dumps([self.namespace_id, sorted(self.digests.items())]).encode()


@dataclasses.dataclass(frozen=True)
class DesiredRecords:
    """One customer's records."""

    name: str
    customer: str
    namespace_id: str
    records: CustomerRecords
    wanted: frozenset[str] = dataclasses.field(compare=False, repr=False)

    def digest_line(self) -> bytes:
        return f"{self.namespace_id}\0{self.name}\0{self.records.digest}\n".encode()


@dataclasses.dataclass(frozen=True)
class ObservedIndex:
    digests: Mapping[str, str]
    name: str = INDEX_ITEM

    def digest_line(self) -> bytes:
        return json.dumps(sorted(self.digests.items())).encode()


@dataclasses.dataclass(frozen=True)
class ObservedRecords:
    name: str
    digest: str

    def digest_line(self) -> bytes:
        return f"{self.name}\0{self.digest}\n".encode()


def _store(ctx: DesiredContext) -> RoutingStore | None:
    dispatcher = ctx.repo.platform.dispatcher
    return dispatcher.routing_store if dispatcher.routing_data == "store" else None


def _index_values(client: Any, namespace_id: str) -> dict[str, Any]:
    try:
        return kv_bulk_get(client, namespace_id, INDEX_KEYS)
    except NotFoundError as exc:
        if NAMESPACE_NOT_FOUND not in exc.codes:
            raise
        raise NotFoundError(
            f"dispatcher.routing_store.kv_namespace_id {namespace_id} names no Workers KV "
            "namespace of this account; create one (`wrangler kv namespace create routes`) "
            "and put its id in platform.yaml.",
            status=exc.status,
            codes=exc.codes,
            method=exc.method,
            path=exc.path,
        ) from exc


def _read_index(session: ReadSession) -> dict[str, str] | None:
    """The stored digests (``None``: no index yet), read once per plan for both kinds;
    nothing is read without a routing store."""
    platform = session.platform
    dispatcher = platform.dispatcher if platform is not None else None
    if dispatcher is None or dispatcher.routing_data != "store" or not dispatcher.routing_store:
        raise _NoStore()
    namespace_id = dispatcher.routing_store.kv_namespace_id

    def read() -> dict[str, str] | None:
        session.count()
        return parse_index(_index_values(session.reader, namespace_id))

    return session.once(f"{_READ_KEY}:{namespace_id}", read)


class _NoStore(Exception):
    """``routing_data`` is not ``store``: nothing to read."""


class _RoutingBase:
    space = "routing"
    counted = False
    derived = True

    def explain(
        self, reader: Any, namespace: str, change: Change, item: Any
    ) -> tuple[FieldChange, ...]:
        return ()


class RoutingIndexKind(_RoutingBase):
    name = ROUTING_INDEX_KIND
    phase = Phase.ROUTING_INDEX

    def desired(self, ctx: DesiredContext) -> Sequence[DesiredIndex]:
        store = _store(ctx)
        if store is None or ctx.inventory is None:
            # Records follow what the other kinds leave deployed; without an inventory (a
            # desired state no plan is derived from: status, pre-flight, a plan's first
            # pass) they are left out: 100,000 scripts' records take about 2 s to build.
            return []
        routed = routed_fingerprints(ctx)
        records = build_records(ctx.repo, routed, routed)
        wanted = frozenset(k for r in records.values() for k, _ in r.records)
        digests = {c: r.digest for c, r in records.items()}
        return [DesiredIndex(store.kv_namespace_id, digests, records, wanted)]

    def read(self, session: ReadSession, wanted: Sequence[Any]) -> Mapping[str, ObservedIndex]:
        try:
            found = _read_index(session)
        except _NoStore:
            return {}
        return {} if found is None else {INDEX_ITEM: ObservedIndex(found)}

    def diff(
        self, desired: Sequence[Any], actual: Mapping[str, Any], ctx: DiffContext
    ) -> Sequence[Change]:
        if not desired:
            return []  # manifest mode: a store left behind is not touched
        item = cast(DesiredIndex, desired[0])
        observed = cast(ObservedIndex | None, actual.get(INDEX_ITEM))
        before = dict(observed.digests) if observed is not None else None
        if before == dict(item.digests):
            return []
        old = before or {}
        changed = sum(1 for c, d in item.digests.items() if old.get(c) != d)
        removed = sorted(set(old) - set(item.digests))
        fields = [
            FieldChange(
                field="customers",
                before=None if before is None else str(len(old)),
                after=str(len(item.digests)),
                summary=f"{changed} rewritten, {len(removed)} removed",
            )
        ]
        if removed:
            shown = ", ".join(removed[:10]) + (", ..." if len(removed) > 10 else "")
            fields.append(FieldChange(field="removed customers", before=shown, after=None))
        action = Action.CREATE if before is None else Action.UPDATE
        return [
            Change(
                action=action,
                kind=self.name,
                name=INDEX_ITEM,
                fields=tuple(fields),
                reason="routing records changed",
            )
        ]

    def cost(self, change: Change) -> int:
        # The changed index records (one bulk write), and one bulk delete when customers
        # went away.
        return 2 if any(f.field == "removed customers" for f in change.fields) else 1

    def visit(self, change: Change, target: ApplyTarget) -> None:
        item = cast(DesiredIndex, target.item(change))
        client, ns = target.client, item.namespace_id
        # Re-read: what is stored now decides which customers' records to remove and which
        # index records to rewrite.
        stored = _index_values(client, ns)
        old = parse_index(stored) or {}
        stale: set[str] = set()
        for customer in sorted(set(old) - set(item.digests)):
            own = customer_key(customer)
            stale |= record_keys(kv_get(client, ns, own)) | {own}
        # A script or token that moved to another customer keeps its new record.
        stale -= item.wanted
        if stale:
            kv_bulk_delete(client, ns, sorted(stale))
        changed = []
        for key, customers in index_shards(item.digests).items():
            current = stored.get(key)
            held = current.get("customers") if isinstance(current, dict) else None
            if held != customers and (customers or current is not None):
                changed.append((key, index_value(customers)))
        kv_bulk_write(client, ns, changed)

    def owned(self, observed: Any, known_customers: frozenset[str]) -> Entry | None:
        return Entry(self.name, INDEX_ITEM, None, None, False)

    def deployed(self, item: Any) -> Entry:
        return Entry(self.name, INDEX_ITEM, None, None, True)

    def group(self, change: Change) -> str:
        return "platform"

    def label(self, change: Change) -> str:
        return "routing index"


class RoutingKind(_RoutingBase):
    name = ROUTING_KIND
    phase = Phase.DISPATCHER

    def desired(self, ctx: DesiredContext) -> Sequence[DesiredRecords]:
        store = _store(ctx)
        index = ctx.built.get(ROUTING_INDEX_KIND, ())
        if store is None or not index:
            return []
        item = cast(DesiredIndex, index[0])
        return [
            DesiredRecords(c, c, item.namespace_id, records, item.wanted)
            for c, records in item.records.items()
        ]

    def read(self, session: ReadSession, wanted: Sequence[Any]) -> Mapping[str, ObservedRecords]:
        try:
            found = _read_index(session) or {}
        except _NoStore:
            return {}
        return {c: ObservedRecords(c, d) for c, d in sorted(found.items())}

    def diff(
        self, desired: Sequence[Any], actual: Mapping[str, Any], ctx: DiffContext
    ) -> Sequence[Change]:
        changes = []
        for item in cast(Sequence[DesiredRecords], desired):
            observed = cast(ObservedRecords | None, actual.get(item.name))
            if observed is not None and observed.digest == item.records.digest:
                continue
            field = FieldChange(
                field="records",
                before=observed.digest if observed else None,
                after=item.records.digest,
                summary=f"{len(item.records.records)} records, {item.records.size} bytes",
            )
            changes.append(
                Change(
                    action=Action.CREATE if observed is None else Action.UPDATE,
                    kind=self.name,
                    name=item.name,
                    customer=item.customer,
                    fields=(field,),
                    reason="routing data changed" if observed else "new routing records",
                )
            )
        # Customers no longer declared: the index's write removes their records.
        return changes

    def cost(self, change: Change) -> int:
        # One bulk write; an update may also remove records no longer wanted.
        return 2 if change.action is Action.UPDATE else 1

    def visit(self, change: Change, target: ApplyTarget) -> None:
        item = cast(DesiredRecords, target.item(change))
        client, ns = target.client, item.namespace_id
        # Stale first: should the write fail, a retry still finds the old key list (and a
        # record of a script no longer routed must never outlive the change).
        old = record_keys(kv_get(client, ns, customer_key(item.name)))
        stale = sorted(old - item.records.keys - item.wanted)
        if stale:
            kv_bulk_delete(client, ns, stale)
        kv_bulk_write(client, ns, list(item.records.records))

    def owned(self, observed: Any, known_customers: frozenset[str]) -> Entry | None:
        found = cast(ObservedRecords, observed)
        return Entry(self.name, found.name, found.name, found.digest, False)

    def deployed(self, item: Any) -> Entry:
        wanted = cast(DesiredRecords, item)
        return Entry(self.name, wanted.name, wanted.customer, wanted.records.digest, True)

    def group(self, change: Change) -> str:
        return f"customer {change.customer}"

    def label(self, change: Change) -> str:
        return f"routing records {change.name}"
