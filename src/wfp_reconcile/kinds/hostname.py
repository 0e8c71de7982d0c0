# The protocol fixes the methods' signatures; some ignore arguments.
# ruff: noqa: ARG002
"""Customer hostnames (Cloudflare for SaaS custom hostnames) as a kind of the engine.

Desired: every ``hostnames`` entry of every customer.yaml, with the zone's ssl settings.
Read: one list pass of the zone (``GET /zones/{id}/custom_hostnames``, 50 per page); an
item is ours when its ``custom_metadata`` names this platform's management tag and
namespace (the inventory, like script tags). Only ours are updated or deleted; a hostname
held by another customer is a conflict an admin may ``adopt``; one without our metadata is
a conflict that is never adopted. Every write re-reads the hostname first, so nothing that
stopped being ours since the plan is touched. Shared rules (suspension, scope, deletes
against the safety caps) come from ``kinds.rules``. See docs/hostnames.md.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from wfp_reconcile.change import Action, Change, FieldChange
from wfp_reconcile.cloudflare.client import CloudflareClient
from wfp_reconcile.cloudflare.custom_hostnames import CustomHostnameInfo, CustomHostnames
from wfp_reconcile.config.model import CustomHostnames as HostnameSettings
from wfp_reconcile.errors import PlanError
from wfp_reconcile.hostnames.metadata import (
    META_CUSTOMER,
    META_MANAGED,
    META_NAMESPACE,
    META_SCRIPT,
    dns_records,
    hostname_metadata,
    ssl_request,
)
from wfp_reconcile.outcome import Entry

from . import rules
from .protocol import ApplyTarget, DesiredContext, DiffContext, Phase, ReadSession

__all__ = [
    "HOSTNAME_KIND",
    "DesiredHostname",
    "HostnameKind",
    "ObservedHostname",
    "routed_hostnames",
]

HOSTNAME_KIND = "hostname"


@dataclasses.dataclass(frozen=True)
class DesiredHostname:
    name: str
    customer: str
    script: str
    suspended: bool
    zone_id: str
    settings: HostnameSettings
    metadata: tuple[tuple[str, str], ...]

    def digest_line(self) -> bytes:
        ssl = ssl_request(self.settings)
        return json.dumps([self.name, self.customer, self.script, self.zone_id, ssl]).encode()

    def ssl(self) -> dict[str, Any]:
        return ssl_request(self.settings)


@dataclasses.dataclass(frozen=True)
class ObservedHostname:
    name: str
    info: CustomHostnameInfo
    ours: bool

    def digest_line(self) -> bytes:
        i = self.info
        meta = sorted(i.custom_metadata.items())
        return json.dumps([i.hostname, i.id, meta, i.ssl_method, i.min_tls_version]).encode()

    @property
    def customer(self) -> str | None:
        return self.info.custom_metadata.get(META_CUSTOMER)


def marker(info: CustomHostnameInfo, management_tag: str) -> rules.Marker:
    """The ownership marker in a hostname's ``custom_metadata`` (its tags, as it were)."""
    meta = info.custom_metadata
    return rules.Marker(
        managed=meta.get(META_MANAGED) == management_tag,
        namespace=meta.get(META_NAMESPACE),
        customer=meta.get(META_CUSTOMER),
    )


def _status(info: CustomHostnameInfo) -> str:
    return f"{info.status} (certificate {info.ssl_status})"


def _record_fields(
    settings: HostnameSettings, name: str, info: CustomHostnameInfo | None
) -> list[FieldChange]:
    return [
        FieldChange(field=f"DNS {r.type} {r.name} ({r.purpose})", before=None, after=r.value)
        for r in dns_records(settings, name, info)
    ]


class HostnameKind:
    name = HOSTNAME_KIND
    phase = Phase.SCRIPTS
    space = "hostname"
    counted = False
    derived = False

    # -- desired and actual ----------------------------------------------------------------

    def desired(self, ctx: DesiredContext) -> Sequence[DesiredHostname]:
        repo = ctx.repo
        p = repo.platform
        if p.custom_hostnames is None:
            return []
        items = []
        for customer in repo.customers:
            for hostname, script in sorted(customer.hostnames.items()):
                meta = hostname_metadata(p, customer.id, script)
                items.append(
                    DesiredHostname(
                        name=hostname,
                        customer=customer.id,
                        script=script,
                        suspended=customer.suspended,
                        zone_id=p.custom_hostnames.zone_id,
                        settings=p.custom_hostnames,
                        metadata=tuple(sorted(meta.items())),
                    )
                )
        return items

    def read(self, session: ReadSession, wanted: Sequence[Any]) -> Mapping[str, ObservedHostname]:
        settings = session.platform.custom_hostnames if session.platform else None
        if settings is None:
            return {}
        # The reader is the Cloudflare client; StateReader only types the script calls.
        api = CustomHostnames(cast(CloudflareClient, session.reader), settings.zone_id)
        names = {w.name for w in wanted}
        found: dict[str, ObservedHostname] = {}
        count = 0
        for info in api.list():
            count += 1
            ours = marker(info, session.management_tag).ours(session.namespace)
            if ours or info.hostname in names:
                found[info.hostname] = ObservedHostname(info.hostname, info, ours)
        session.count(max(1, -(-count // 50)))
        return found

    # -- diff ------------------------------------------------------------------------------

    def diff(
        self, desired: Sequence[Any], actual: Mapping[str, Any], ctx: DiffContext
    ) -> Sequence[Change]:
        items = cast(Sequence[DesiredHostname], desired)
        return rules.diff_items(
            [item for item in items if rules.in_scope(item.customer, ctx.customers)],
            cast(Mapping[str, ObservedHostname], actual),
            ctx.declared.get(self.space, frozenset()),
            one=lambda item, seen: self._diff_one(item, seen, ctx),
            ours=lambda seen: seen.ours,
            retired=lambda seen: rules.retire(
                self.name, seen.name, seen.customer, ctx, protected=False
            ),
        )

    def _diff_one(
        self, item: DesiredHostname, seen: ObservedHostname | None, ctx: DiffContext
    ) -> Change | None:
        serves = FieldChange(field="serves", before=None, after=f"script {item.script}")
        if seen is None:
            create = Change(
                action=Action.CREATE,
                kind=self.name,
                name=item.name,
                customer=item.customer,
                fields=(
                    serves,
                    FieldChange(field="status", before=None, after="not created yet"),
                    *_record_fields(item.settings, item.name, None),
                ),
                reason="the customer creates these DNS records; `status` shows the "
                "verification records once Cloudflare issued them",
            )
            return rules.suspend(create, suspended=item.suspended)
        info = seen.info
        state = FieldChange(field="status", before=_status(info), after=None)
        records = _record_fields(item.settings, item.name, info)
        if not seen.ours:
            return rules.conflict(
                self.name,
                item.name,
                item.customer,
                "exists in the zone without this platform's metadata (another platform's, "
                "or made by hand); remove it there first",
            )
        if seen.customer != item.customer:
            takeover = Change(
                action=Action.CREATE,
                kind=self.name,
                name=item.name,
                customer=item.customer,
                fields=(serves, state, *records),
            )
            return rules.claim(
                takeover,
                ctx,
                adoptable=True,
                adopted=f"taken over from customer {seen.customer}",
                refused=f"belongs to customer {seen.customer} on Cloudflare; run "
                f"`wfp-reconcile adopt {item.name}` (a platform admin's decision) to move it",
            )
        fields: list[FieldChange] = []
        if dict(info.custom_metadata) != dict(item.metadata):
            before = info.custom_metadata.get(META_SCRIPT)
            fields.append(FieldChange(field="serves", before=before, after=item.script))
        want = item.ssl()
        want_tls = (want.get("settings") or {}).get("min_tls_version")
        if info.ssl_method != want["method"] or (
            want_tls is not None and info.min_tls_version != want_tls
        ):
            fields.append(
                FieldChange(
                    field="ssl",
                    before=f"{info.ssl_method} tls>={info.min_tls_version}",
                    after=f"{want['method']} tls>={want_tls}",
                )
            )
        if not fields:
            return None
        update = Change(
            action=Action.UPDATE,
            kind=self.name,
            name=item.name,
            customer=item.customer,
            fields=(*fields, state, *(records if info.status != "active" else ())),
        )
        return rules.suspend(update, suspended=item.suspended)

    def cost(self, change: Change) -> int:
        # A write re-reads the hostname first (one list call filtered by name).
        return 2 if change.action.writes else 0

    # -- apply -----------------------------------------------------------------------------

    def _api(self, target: ApplyTarget, zone_id: str | None = None) -> CustomHostnames:
        settings = target.platform.custom_hostnames if target.platform else None
        zone = zone_id or (settings.zone_id if settings else None)
        if zone is None:
            raise PlanError("custom_hostnames is not configured in platform.yaml.")
        return CustomHostnames(target.client, zone)

    def _current(self, api: CustomHostnames, name: str) -> CustomHostnameInfo | None:
        for info in api.list(hostname=name):
            if info.hostname == name:
                return info
        return None

    def visit(self, change: Change, target: ApplyTarget) -> None:
        tag, namespace = target.management_tag, target.namespace
        if change.action is Action.DELETE:
            api = self._api(target)
            rules.delete_ours(
                change,
                current=lambda: self._current(api, change.name),
                ours=lambda info: (
                    marker(info, tag).ours(namespace)
                    and marker(info, tag).customer == change.customer
                ),
                delete=lambda info: api.delete(info.id),
                why="it is no longer this customer's (its custom_metadata changed since the plan)",
            )
            return
        if change.action not in (Action.CREATE, Action.UPDATE, Action.ADOPT):
            raise PlanError(f"Unexpected action in plan: {change.action}")
        item = cast(DesiredHostname, target.item(change))
        api = self._api(target, item.zone_id)
        current = self._current(api, item.name)
        metadata = dict(item.metadata)
        if current is None:
            api.create(item.name, item.ssl(), metadata)
            return
        seen = marker(current, tag)
        rules.still_ours(change, seen.ours(namespace), "it exists without this platform's metadata")
        rules.still_ours(
            change,
            seen.customer == item.customer or change.action is Action.ADOPT,
            f"it is customer {seen.customer}'s, and only `wfp-reconcile adopt` moves it",
        )
        ssl_changed = current.ssl_method != item.ssl()["method"] or (
            (item.ssl().get("settings") or {}).get("min_tls_version")
            not in (None, current.min_tls_version)
        )
        api.edit(current.id, custom_metadata=metadata, ssl=item.ssl() if ssl_changed else None)

    def explain(
        self, reader: Any, namespace: str, change: Change, item: Any
    ) -> tuple[FieldChange, ...]:
        # Everything a hostname change says comes from the list pass already.
        return ()

    # -- inventory -------------------------------------------------------------------------

    def owned(self, observed: Any, known_customers: frozenset[str]) -> Entry | None:
        seen = cast(ObservedHostname, observed)
        if not seen.ours:
            return None
        customer = seen.customer if seen.customer in known_customers else None
        return Entry(
            kind=self.name,
            name=seen.name,
            customer=customer,
            # A hostname's "content" is the script it serves: what routing needs.
            fingerprint=seen.info.custom_metadata.get(META_SCRIPT),
            declared=False,
        )

    def deployed(self, item: Any) -> Entry:
        wanted = cast(DesiredHostname, item)
        return Entry(
            kind=self.name,
            name=wanted.name,
            customer=wanted.customer,
            fingerprint=wanted.script,
            declared=True,
        )

    def group(self, change: Change) -> str:
        return f"customer {change.customer or '(unknown)'}"

    def label(self, change: Change) -> str:
        return f"hostname {change.name}"


def routed_hostnames(ctx: DesiredContext) -> dict[str, str]:
    """hostname -> script for the dispatcher: deployed, ours, and on Cloudflare the
    customer's that declares it (a conflict or a failed create routes nowhere). Without an
    inventory (a plan assuming every write succeeds), the declared ones of active customers."""
    declared = {
        item.name: item
        for item in cast(Sequence[DesiredHostname], ctx.built.get(HOSTNAME_KIND, ()))
        if not item.suspended
    }
    if ctx.inventory is None:
        return {name: item.script for name, item in sorted(declared.items())}
    routes: dict[str, str] = {}
    for name, entry in ctx.inventory.of(HOSTNAME_KIND).items():
        item = declared.get(name)
        if item is not None and entry.customer == item.customer and entry.fingerprint:
            routes[name] = entry.fingerprint
    return dict(sorted(routes.items()))
