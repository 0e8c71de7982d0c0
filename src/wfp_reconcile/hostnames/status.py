"""The verification state of every custom hostname, for ``wfp-reconcile status``.

One list pass of the zone; pure comparison with the declarations (``build``). A hostname
that is still pending after a day is drift worth a look: usually the customer has not
created the records yet (``records`` says which).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from wfp_reconcile.cloudflare.client import CloudflareClient
from wfp_reconcile.cloudflare.custom_hostnames import CustomHostnameInfo, CustomHostnames, DnsRecord
from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.kinds.hostname import marker

from .metadata import META_CUSTOMER, META_SCRIPT, dns_records, stuck_pending

__all__ = ["HostnameState", "HostnameStatus", "build_hostname_status", "read_hostname_status",
           "render_hostname_lines"]  # fmt: skip


class HostnameState(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"
    """Waiting for the customer's DNS records (or Cloudflare's checks)."""
    FAILED = "failed"
    """Validation failed or timed out: the records are missing or wrong."""
    MISSING = "missing"
    """Declared, not in the zone (the next apply creates it)."""
    CONFLICT = "conflict"
    """In the zone for another customer, or without this platform's metadata."""
    UNDECLARED = "undeclared"
    """Ours in the zone, no longer declared (the next apply deletes it)."""


@dataclasses.dataclass(frozen=True)
class HostnameStatus:
    hostname: str
    customer: str | None
    script: str | None
    state: HostnameState
    status: str | None = None
    ssl_status: str | None = None
    records: tuple[DnsRecord, ...] = ()
    errors: tuple[str, ...] = ()
    stuck: bool = False
    """Pending for more than a day (drift)."""

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["state"] = self.state.value
        out["records"] = [r.to_json() for r in self.records]
        out["errors"] = list(self.errors)
        return out


def _verification(info: CustomHostnameInfo) -> HostnameState:
    if info.status == "active" and info.ssl_status == "active":
        return HostnameState.ACTIVE
    if info.ssl_status.endswith("timed_out") or info.ssl_status == "expired" or info.errors:
        return HostnameState.FAILED
    return HostnameState.PENDING


def build_hostname_status(
    repo: PlatformRepo,
    inventory: Iterable[CustomHostnameInfo],
    *,
    customers: Collection[str] = (),
    now: datetime | None = None,
) -> list[HostnameStatus]:
    settings = repo.platform.custom_hostnames
    if settings is None:
        return []
    seen = {info.hostname: info for info in inventory}
    platform = repo.platform

    def ours(info: CustomHostnameInfo) -> bool:
        return marker(info, platform.management_tag).ours(platform.namespace)

    stuck = {i.hostname for i in stuck_pending(seen.values(), now=now)}
    declared = {h: (c.id, s) for c in repo.customers for h, s in c.hostnames.items()}
    out: list[HostnameStatus] = []
    for hostname in sorted(set(declared) | {h for h, i in seen.items() if ours(i)}):
        info = seen.get(hostname)
        customer, script = declared.get(hostname, (None, None))
        if info is not None and customer is None:
            customer = info.custom_metadata.get(META_CUSTOMER)
            script = info.custom_metadata.get(META_SCRIPT)
        if customers and customer not in customers:
            continue
        if info is None:
            state = HostnameState.MISSING
        elif not ours(info) or (
            hostname in declared and info.custom_metadata.get(META_CUSTOMER) != customer
        ):
            state = HostnameState.CONFLICT
        elif hostname not in declared:
            state = HostnameState.UNDECLARED
        else:
            state = _verification(info)
        out.append(
            HostnameStatus(
                hostname=hostname,
                customer=customer,
                script=script,
                state=state,
                status=info.status if info else None,
                ssl_status=info.ssl_status if info else None,
                records=dns_records(settings, hostname, info)
                if state in (HostnameState.PENDING, HostnameState.FAILED, HostnameState.MISSING)
                else (),
                errors=info.errors if info else (),
                stuck=hostname in stuck and state is not HostnameState.ACTIVE,
            )
        )
    return out


def read_hostname_status(
    repo: PlatformRepo, client: CloudflareClient, *, customers: Collection[str] = ()
) -> list[HostnameStatus] | None:
    """``None`` when the platform has no custom hostnames configured."""
    settings = repo.platform.custom_hostnames
    if settings is None:
        return None
    inventory = list(CustomHostnames(client, settings.zone_id).list())
    return build_hostname_status(repo, inventory, customers=customers)


def render_hostname_lines(statuses: Iterable[HostnameStatus]) -> list[str]:
    lines = ["Custom hostnames:"]
    items = list(statuses)
    if not items:
        lines.append("  (none declared)")
    for s in items:
        state = s.state.value
        if s.status is not None:
            state += f" (hostname {s.status}, certificate {s.ssl_status})"
        if s.stuck:
            state += ", pending for more than a day"
        lines.append(f"  {s.hostname} -> {s.script or '-'} [{s.customer or '-'}]: {state}")
        for record in s.records:
            lines.append(f"      {record.type} {record.name} {record.value} ({record.purpose})")
        for error in s.errors:
            lines.append(f"      error: {error}")
    counts: dict[str, int] = {}
    for s in items:
        counts[s.state.value] = counts.get(s.state.value, 0) + 1
    stuck = sum(1 for s in items if s.stuck)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"
    lines.append(
        f"{len(items)} hostnames: {summary}" + (f"; {stuck} pending > 1 day." if stuck else ".")
    )
    return lines
