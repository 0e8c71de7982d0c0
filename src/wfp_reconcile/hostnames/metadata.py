"""What marks a custom hostname as ours, and what its customer must do (pure).

The ``custom_metadata`` of a hostname is the inventory, as tags are for scripts: only a
hostname whose metadata names this platform's management tag and namespace is ours
(``kinds.hostname.marker``, read with the shared rules of ``kinds.rules``). The hostname
kind (``kinds.hostname``) plans and applies them; this module holds the metadata keys, the
ssl request, the DNS records to show and the pending-too-long check that it and ``status``
share.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from wfp_reconcile.cloudflare.custom_hostnames import CustomHostnameInfo, DnsRecord
from wfp_reconcile.config.model import CustomHostnames, Platform, PlatformRepo

__all__ = [
    "META_CUSTOMER",
    "META_MANAGED",
    "META_NAMESPACE",
    "META_SCRIPT",
    "PENDING_TOO_LONG",
    "DesiredHostname",
    "desired_hostnames",
    "dns_records",
    "hostname_metadata",
    "metadata_for",
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


def hostname_metadata(platform: Platform, customer: str, script: str) -> dict[str, str]:
    """The ``custom_metadata`` apply writes: this platform's marker and what it serves."""
    return {
        META_MANAGED: platform.management_tag,
        META_NAMESPACE: platform.namespace,
        META_CUSTOMER: customer,
        META_SCRIPT: script,
    }


def metadata_for(repo: PlatformRepo, wanted: DesiredHostname) -> dict[str, str]:
    return hostname_metadata(repo.platform, wanted.customer, wanted.script)


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
