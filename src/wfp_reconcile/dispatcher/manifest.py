"""The dispatcher's manifest: what the generated dispatch Worker knows about the platform.

Pure and deterministic: the same repository, fingerprints and commit always give the
same bytes, because the manifest's hash decides whether the dispatcher is re-uploaded.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Collection, Mapping
from typing import Any

from wfp_reconcile.config.model import (
    Customer,
    PlatformRepo,
    customer_logpush,
    customer_tails,
)
from wfp_reconcile.observability import customer_observability, describe_observability
from wfp_reconcile.worker import effective_limits

__all__ = [
    "CUSTOMER_ID_PARAM",
    "MANIFEST_VERSION",
    "PLAIN_BINDING",
    "binding_for_outbound",
    "build_manifest",
    "customer_entry",
    "manifest_bytes",
    "outbound_binding_names",
    "script_entries",
    "store_manifest",
]

MANIFEST_VERSION = 1
PLAIN_BINDING = "DISPATCHER"
"""The dispatch-namespace binding without an outbound Worker."""
CUSTOMER_ID_PARAM = "customer_id"
"""Outbound parameter every outbound Worker receives, naming the calling customer."""


def binding_for_outbound(outbound_names: tuple[str, ...], worker: str) -> str:
    """The binding name for ``worker`` among ``outbound_names`` (sorted, unique).

    Cloudflare fixes one outbound Worker per dispatch-namespace binding, so each outbound
    Worker gets its own binding to the same namespace. The names are distinct for any set
    of Worker names and depend only on that set.
    """
    # A reference to an undeclared Worker is refused elsewhere; naming it here keeps this total.
    return outbound_binding_names((*outbound_names, worker))[worker]


def outbound_binding_names(outbound_names: tuple[str, ...]) -> dict[str, str]:
    """Every outbound Worker's binding name, pairwise distinct and deterministic.

    A Worker whose sanitized name is its own keeps it (``egress`` is ``DISPATCHER_EGRESS``).
    Names that sanitize alike (``a-b``, ``a_b``) get a suffix from a hash of the Worker name
    instead of a position, because a positional ``_0`` can equal another Worker's
    sanitized name (``a-b-0``). Should even the hashed names meet another name, the full
    digest is used.
    """
    workers = sorted(set(outbound_names))
    by_base: dict[str, list[str]] = {}
    for worker in workers:
        by_base.setdefault(_binding_base(worker), []).append(worker)
    result = {
        worker: base if len(group) == 1 else f"{base}_{_name_digest(worker, 8)}"
        for base, group in by_base.items()
        for worker in group
    }
    uses = Counter(result.values())
    for worker in workers:
        if uses[result[worker]] > 1 and len(by_base[_binding_base(worker)]) > 1:
            # Only a Worker named like "<other>-<8 hex digits>" gets here, on purpose or not.
            result[worker] = f"{_binding_base(worker)}_{_name_digest(worker, 64)}"
    return result


def _binding_base(worker: str) -> str:
    return f"{PLAIN_BINDING}_{re.sub(r'[^A-Za-z0-9]', '_', worker).upper()}"


def _name_digest(worker: str, length: int) -> str:
    return hashlib.sha256(worker.encode()).hexdigest()[:length].upper()


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


def customer_entry(repo: PlatformRepo, customer: Customer) -> dict[str, Any]:
    """What the manifest says of a customer (the status page and token checks read it)."""
    return {
        "name": customer.name,
        "plan": customer.plan,
        "suspended": customer.suspended,
        "tokens": sorted(t.sha256 for t in customer.tokens),
        # Shown on the status page; tokens never are.
        "outbound_worker": customer.outbound.worker if customer.outbound else None,
        "tail": list(customer_tails(repo.platform, customer)),
        "logpush": customer_logpush(repo.platform, customer),
        "observability": describe_observability(customer_observability(repo.platform, customer)),
    }


def script_entries(
    repo: PlatformRepo,
    customer: Customer,
    fingerprints: Mapping[str, str | None],
    wanted: Collection[str] | None,
) -> dict[str, dict[str, Any]]:
    """The routing entry of each of ``customer``'s scripts in ``wanted`` (all: ``None``):
    one code path for the manifest and the routing store's records."""
    binding, outbound = _outbound(repo, customer)
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(customer.scripts):
        if wanted is not None and name not in wanted:
            continue
        script = customer.scripts[name]
        entry: dict[str, Any] = {
            "customer": customer.id,
            "access": script.access.value,
            "binding": binding,
            "fingerprint": fingerprints.get(name),
            "limits": effective_limits(repo, customer, script).given(runtime_names=True),
        }
        if outbound is not None:
            entry["outbound"] = outbound
        out[name] = entry
    return out


def build_manifest(
    repo: PlatformRepo,
    fingerprints: Mapping[str, str],
    commit: str | None,
    *,
    routed: Collection[str] | None = None,
    hostnames: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The manifest as plain JSON data.

    Args:
        repo: The repository (customers, access modes, limits, outbound parameters).
        fingerprints: Deployed fingerprint per script (shown to customers).
        commit: The commit the platform was applied from.
        hostnames: Customer hostname -> script, the custom hostnames deployed and ours
            (``wfp_reconcile.hostnames.reconcile``).
        routed: The scripts to route: the engine passes what is deployed and ours after
            the apply (``wfp_reconcile.outcome``); ``None`` routes every declared script.
        hostnames: Customer hostname -> script, for hostnames deployed and ours
            (``kinds.hostname.routed_hostnames``); only routed scripts keep theirs.
    """
    wanted = None if routed is None else frozenset(routed)
    dispatcher = repo.platform.dispatcher
    customers: dict[str, Any] = {}
    scripts: dict[str, Any] = {}
    for customer in sorted(repo.customers, key=lambda c: c.id):
        customers[customer.id] = customer_entry(repo, customer)
        scripts.update(script_entries(repo, customer, fingerprints, wanted))
    manifest: dict[str, Any] = {
        "version": MANIFEST_VERSION,
        "commit": commit,
        "namespace": repo.platform.namespace,
        "routing": {"mode": dispatcher.routing.value, "domain": dispatcher.domain},
        "admin_token_sha256": dispatcher.admin_token_sha256,
        "customers": customers,
        "scripts": dict(sorted(scripts.items())),
    }
    if hostnames:  # absent without any, so such manifests keep their bytes
        manifest["hostnames"] = {h: s for h, s in sorted(hostnames.items()) if s in scripts}
    return manifest


def store_manifest(
    repo: PlatformRepo,
    commit: str | None,
    *,
    routed: Collection[str] | None = None,
    hostnames: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The manifest of ``routing_data: store``: the platform's settings and nothing per
    script or customer (those are Workers KV records, ``dispatcher.records``), so the
    Worker keeps its size and bytes whatever the fleet does."""
    dispatcher = repo.platform.dispatcher
    store = dispatcher.routing_store
    if store is None:  # refused by the config rules; kept total here
        raise ValueError("routing_data is 'store' but routing_store is not set")
    manifest: dict[str, Any] = {
        "version": MANIFEST_VERSION,
        "commit": commit,
        "namespace": repo.platform.namespace,
        "routing": {"mode": dispatcher.routing.value, "domain": dispatcher.domain},
        "admin_token_sha256": dispatcher.admin_token_sha256,
        "routing_data": {
            "mode": "store",
            "binding": store.binding,
            "cache_ttl": store.cache_ttl_seconds,
            "plain_binding": PLAIN_BINDING,
            # The status page lists the fleet from the D1 mirror when there is one.
            "d1": repo.platform.d1.binding if repo.platform.d1 is not None else None,
        },
    }
    if hostnames:
        wanted = None if routed is None else frozenset(routed)
        manifest["hostnames"] = {
            h: s for h, s in sorted(hostnames.items()) if wanted is None or s in wanted
        }
    return manifest


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """Canonical JSON encoding: sorted keys, no whitespace, UTF-8."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
