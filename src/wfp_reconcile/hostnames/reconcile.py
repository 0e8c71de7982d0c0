"""Custom hostnames, declared against deployed: what to create, change, delete or refuse.

Pure functions over the repository and one list pass of the zone (``CustomHostnameInfo``).
The ``custom_metadata`` of a hostname is the inventory, as tags are for scripts: only a
hostname whose metadata names this platform's management tag and namespace is ours, and
only ours are ever changed or deleted. A hostname that is ours but belongs to another
customer, or that exists without our metadata, is a conflict: never moved silently.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from wfp_reconcile.cloudflare.custom_hostnames import CustomHostnameInfo, DnsRecord
from wfp_reconcile.config.model import CustomHostnames, PlatformRepo

__all__ = [
    "META_CUSTOMER",
    "META_MANAGED",
    "META_NAMESPACE",
    "META_SCRIPT",
    "PENDING_TOO_LONG",
    "DesiredHostname",
    "HostnameAction",
    "HostnameChange",
    "desired_hostnames",
    "diff_hostnames",
    "dns_records",
    "is_ours",
    "metadata_for",
    "routed_hostnames",
    "ssl_request",
    "stuck_pending",
]

META_MANAGED = "wfp_managed"
"""custom_metadata key holding the management tag."""
META_NAMESPACE = "wfp_namespace"
META_CUSTOMER = "wfp_customer"
META_SCRIPT = "wfp_script"

PENDING_TOO_LONG = timedelta(days=1)
"""A hostname pending for longer is flagged by the drift report."""


@dataclasses.dataclass(frozen=True)
class DesiredHostname:
    hostname: str
    customer: str
    script: str


class HostnameAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    CONFLICT = "conflict"


@dataclasses.dataclass(frozen=True)
class HostnameChange:
    """One hostname's planned change. ``id`` is Cloudflare's for update/delete."""

    action: HostnameAction
    hostname: str
    customer: str
    script: str | None
    id: str | None = None
    reason: str = ""
    fields: tuple[str, ...] = ()
    status: str | None = None
    ssl_status: str | None = None
    records: tuple[DnsRecord, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["action"] = self.action.value
        out["fields"] = list(self.fields)
        out["records"] = [r.to_json() for r in self.records]
        return out


def desired_hostnames(repo: PlatformRepo) -> dict[str, DesiredHostname]:
    """Every declared hostname of a customer that is not suspended (suspended ones are
    left as they are, like their scripts)."""
    out: dict[str, DesiredHostname] = {}
    for customer in repo.customers:
        if customer.suspended:
            continue
        for hostname, script in customer.hostnames.items():
            out[hostname] = DesiredHostname(hostname, customer.id, script)
    return dict(sorted(out.items()))


def metadata_for(repo: PlatformRepo, wanted: DesiredHostname) -> dict[str, str]:
    p = repo.platform
    return {
        META_MANAGED: p.management_tag,
        META_NAMESPACE: p.namespace,
        META_CUSTOMER: wanted.customer,
        META_SCRIPT: wanted.script,
    }


def is_ours(repo: PlatformRepo, info: CustomHostnameInfo) -> bool:
    meta = info.custom_metadata
    p = repo.platform
    return meta.get(META_MANAGED) == p.management_tag and meta.get(META_NAMESPACE) == p.namespace


def ssl_request(settings: CustomHostnames) -> dict[str, Any]:
    """The ``ssl`` object of a create (and of a PATCH that changes it)."""
    ssl = settings.ssl
    body: dict[str, Any] = {"method": ssl.method, "type": ssl.type}
    if ssl.min_tls_version is not None:
        body["settings"] = {"min_tls_version": ssl.min_tls_version}
    if ssl.certificate_authority is not None:
        body["certificate_authority"] = ssl.certificate_authority
    return body


def dns_records(
    settings: CustomHostnames, hostname: str, info: CustomHostnameInfo | None
) -> tuple[DnsRecord, ...]:
    """What the customer must create: the CNAME to the fallback origin, and, once Cloudflare
    has issued them, the ownership TXT and the certificate's validation record."""
    records = [
        DnsRecord("CNAME", hostname, settings.fallback_origin, "traffic"),
    ]
    if info is not None:
        if info.ownership is not None and info.status != "active":
            records.append(info.ownership)
        if info.ssl_status != "active":
            records.extend(info.validation)
    return tuple(records)


def _in_scope(customer: str, scope: Collection[str]) -> bool:
    return not scope or customer in scope


def diff_hostnames(
    repo: PlatformRepo,
    actual: Iterable[CustomHostnameInfo],
    *,
    customers: Collection[str] = (),
    adopt: Collection[str] = (),
) -> list[HostnameChange]:
    """The changes that make the zone hold exactly the declared hostnames of ours.

    ``customers`` limits the plan to those customers (never touching another's);
    ``adopt`` names hostnames an admin moves to the customer now declaring them.
    """
    settings = repo.platform.custom_hostnames
    desired = desired_hostnames(repo)
    suspended = {c.id for c in repo.customers if c.suspended}
    declared_anywhere = {h for c in repo.customers for h in c.hostnames}
    by_name: dict[str, CustomHostnameInfo] = {}
    for item in actual:
        by_name.setdefault(item.hostname, item)
    changes: list[HostnameChange] = []
    if settings is None:
        # Without the zone nothing is read; declared hostnames are refused by validation.
        return changes
    want_ssl = ssl_request(settings)
    for hostname, wanted in desired.items():
        if not _in_scope(wanted.customer, customers):
            continue
        info = by_name.get(hostname)
        if info is None:
            changes.append(
                HostnameChange(
                    HostnameAction.CREATE,
                    hostname,
                    wanted.customer,
                    wanted.script,
                    records=dns_records(settings, hostname, None),
                )
            )
            continue
        owner = info.custom_metadata.get(META_CUSTOMER)
        records = dns_records(settings, hostname, info)
        if not is_ours(repo, info):
            changes.append(
                HostnameChange(
                    HostnameAction.CONFLICT,
                    hostname,
                    wanted.customer,
                    wanted.script,
                    reason=(
                        "exists in the zone without this platform's metadata (another "
                        "platform's or made by hand); remove it there first"
                    ),
                    id=info.id,
                    status=info.status,
                    ssl_status=info.ssl_status,
                    records=records,
                )
            )
            continue
        if owner != wanted.customer and hostname not in adopt:
            changes.append(
                HostnameChange(
                    HostnameAction.CONFLICT,
                    hostname,
                    wanted.customer,
                    wanted.script,
                    reason=(
                        f"belongs to customer '{owner}' on Cloudflare; moving a hostname "
                        f"between customers needs an admin: wfp-reconcile adopt {hostname}"
                    ),
                    id=info.id,
                    status=info.status,
                    ssl_status=info.ssl_status,
                    records=records,
                )
            )
            continue
        fields = _changed_fields(repo, wanted, info, want_ssl)
        if fields:
            changes.append(
                HostnameChange(
                    HostnameAction.UPDATE,
                    hostname,
                    wanted.customer,
                    wanted.script,
                    fields=fields,
                    id=info.id,
                    status=info.status,
                    ssl_status=info.ssl_status,
                    records=records,
                )
            )
    for hostname, info in sorted(by_name.items()):
        if hostname in desired or not is_ours(repo, info):
            continue
        owner = info.custom_metadata.get(META_CUSTOMER, "")
        if owner in suspended or not _in_scope(owner, customers):
            continue
        if hostname in declared_anywhere:
            continue  # declared by a suspended customer: left as it is
        changes.append(
            HostnameChange(
                HostnameAction.DELETE,
                hostname,
                owner,
                info.custom_metadata.get(META_SCRIPT),
                id=info.id,
                status=info.status,
                ssl_status=info.ssl_status,
            )
        )
    return changes


def _changed_fields(
    repo: PlatformRepo,
    wanted: DesiredHostname,
    info: CustomHostnameInfo,
    want_ssl: Mapping[str, Any],
) -> tuple[str, ...]:
    fields: list[str] = []
    if dict(info.custom_metadata) != metadata_for(repo, wanted):
        fields.append("custom_metadata")
    want_tls = (want_ssl.get("settings") or {}).get("min_tls_version")
    if info.ssl_method != want_ssl["method"] or (
        want_tls is not None and info.min_tls_version != want_tls
    ):
        fields.append("ssl")
    return tuple(fields)


def routed_hostnames(repo: PlatformRepo, inventory: Sequence[CustomHostnameInfo]) -> dict[str, str]:
    """hostname -> script for the dispatcher: declared, deployed, ours, and the declaring
    customer's on Cloudflare too (a conflict keeps no route)."""
    desired = desired_hostnames(repo)
    routes: dict[str, str] = {}
    for info in inventory:
        wanted = desired.get(info.hostname)
        if wanted is None or not is_ours(repo, info):
            continue
        if info.custom_metadata.get(META_CUSTOMER) != wanted.customer:
            continue
        routes[info.hostname] = wanted.script
    return dict(sorted(routes.items()))


def stuck_pending(
    inventory: Iterable[CustomHostnameInfo], *, now: datetime | None = None
) -> list[CustomHostnameInfo]:
    """Hostnames that have been pending for longer than ``PENDING_TOO_LONG``."""
    now = now or datetime.now(UTC)
    out = []
    for info in inventory:
        if info.status == "active" or not info.created_at:
            continue
        try:
            created = datetime.fromisoformat(info.created_at.replace("Z", "+00:00"))
        except ValueError:
            continue
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        if now - created > PENDING_TOO_LONG:
            out.append(info)
    return out
