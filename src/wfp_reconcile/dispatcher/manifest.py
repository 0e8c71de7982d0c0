"""The dispatcher's manifest: what the generated dispatch Worker knows about the platform.

Pure and deterministic: the same repository, fingerprints and commit always give the
same bytes, because the manifest's hash decides whether the dispatcher is re-uploaded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from wfp_reconcile.config.model import (
    Customer,
    Limits,
    PlatformRepo,
    customer_logpush,
    customer_tails,
)
from wfp_reconcile.desired import effective_limits

__all__ = [
    "CUSTOMER_ID_PARAM",
    "MANIFEST_VERSION",
    "PLAIN_BINDING",
    "binding_for_outbound",
    "build_manifest",
    "manifest_bytes",
]

MANIFEST_VERSION = 1
PLAIN_BINDING = "DISPATCHER"
"""The dispatch-namespace binding without an outbound Worker."""
CUSTOMER_ID_PARAM = "customer_id"
"""Outbound parameter every outbound Worker receives, naming the calling customer."""


def binding_for_outbound(outbound_names: tuple[str, ...], worker: str) -> str:
    """The binding name for ``worker`` among ``outbound_names`` (sorted, unique).

    Cloudflare fixes one outbound Worker per dispatch-namespace binding, so each outbound
    Worker gets its own binding to the same namespace.
    """
    base = _binding_base(worker)
    clashing = [n for n in outbound_names if _binding_base(n) == base]
    if len(clashing) > 1:  # "a-b" and "a_b" map to the same base name
        return f"{base}_{clashing.index(worker)}"
    return base


def _binding_base(worker: str) -> str:
    return f"{PLAIN_BINDING}_{re.sub(r'[^A-Za-z0-9]', '_', worker).upper()}"


def _limits_json(limits: Limits) -> dict[str, int]:
    out: dict[str, int] = {}
    if limits.cpu_ms is not None:
        out["cpuMs"] = limits.cpu_ms
    if limits.subrequests is not None:
        out["subRequests"] = limits.subrequests
    return out


def _outbound(repo: PlatformRepo, customer: Customer) -> tuple[str, dict[str, Any] | None]:
    """The binding a customer's scripts go through and the outbound parameter values."""
    ref = customer.outbound
    if ref is None:
        return PLAIN_BINDING, None
    declared = repo.platform.outbound_workers.get(ref.worker)
    names = tuple(sorted(repo.platform.outbound_workers))
    # Only declared parameters reach the outbound Worker on Cloudflare; send exactly those.
    allowed = set(declared.parameters) if declared is not None else set()
    params: dict[str, Any] = {
        k: (list(v) if isinstance(v, list | tuple) else v)
        for k, v in sorted(ref.params.items())
        if k in allowed
    }
    params[CUSTOMER_ID_PARAM] = customer.id
    return binding_for_outbound(names, ref.worker), dict(sorted(params.items()))


def build_manifest(
    repo: PlatformRepo, fingerprints: Mapping[str, str], commit: str | None
) -> dict[str, Any]:
    """The manifest as plain JSON data."""
    dispatcher = repo.platform.dispatcher
    customers: dict[str, Any] = {}
    scripts: dict[str, Any] = {}
    for customer in sorted(repo.customers, key=lambda c: c.id):
        customers[customer.id] = {
            "name": customer.name,
            "plan": customer.plan,
            "suspended": customer.suspended,
            "tokens": sorted(t.sha256 for t in customer.tokens),
            # Shown on the status page; tokens never are.
            "outbound_worker": customer.outbound.worker if customer.outbound else None,
            "tail": list(customer_tails(repo.platform, customer)),
            "logpush": customer_logpush(repo.platform, customer),
        }
        binding, outbound = _outbound(repo, customer)
        for name in sorted(customer.scripts):
            script = customer.scripts[name]
            entry: dict[str, Any] = {
                "customer": customer.id,
                "access": script.access.value,
                "binding": binding,
                "fingerprint": fingerprints.get(name),
                "limits": _limits_json(effective_limits(repo, customer, script)),
            }
            if outbound is not None:
                entry["outbound"] = outbound
            scripts[name] = entry
    return {
        "version": MANIFEST_VERSION,
        "commit": commit,
        "namespace": repo.platform.namespace,
        "routing": {"mode": dispatcher.routing.value, "domain": dispatcher.domain},
        "admin_token_sha256": dispatcher.admin_token_sha256,
        "customers": customers,
        "scripts": dict(sorted(scripts.items())),
    }


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """Canonical JSON encoding: sorted keys, no whitespace, UTF-8."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
