"""The routing store's records: the manifest's data split per script, for Workers KV (pure).

``routing_data: store`` keeps the fleet's routing data out of the dispatch Worker. Each
customer owns a set of records, built by the same code as the manifest
(``manifest.customer_entry`` / ``manifest.script_entries``), so the two modes cannot
disagree about what a script runs with:

* ``s:<script>``: everything the dispatcher needs to run that script and nothing else:
  customer, access, binding, limits, outbound parameters (``null`` without an outbound
  Worker), suspended, fingerprint and the customer's token hashes (one read serves a
  token-protected script);
* ``t:<token sha256>``: the customer a token belongs to (the customer API);
* ``c:<customer>``: the customer's scripts as the customer API lists them, and every key
  the customer's records use (so an apply can remove the ones no longer wanted).

``i:index`` holds one digest per customer: a plan reads it with one call and rewrites
only the customers whose digest differs, so a change to one customer costs O(that
customer). See docs/dispatcher.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any

from wfp_reconcile.config.model import PlatformRepo

from .manifest import customer_entry, script_entries

__all__ = [
    "INDEX_KEY",
    "RECORD_VERSION",
    "CustomerRecords",
    "build_records",
    "customer_key",
    "index_value",
    "parse_index",
    "record_keys",
    "script_key",
    "token_key",
]

RECORD_VERSION = 1
INDEX_KEY = "i:index"


def script_key(name: str) -> str:
    return f"s:{name}"


def token_key(sha256: str) -> str:
    return f"t:{sha256}"


def customer_key(customer: str) -> str:
    return f"c:{customer}"


def _value(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclasses.dataclass(frozen=True)
class CustomerRecords:
    """One customer's records: ``(key, JSON value)`` sorted by key, and their digest."""

    customer: str
    records: tuple[tuple[str, str], ...]
    digest: str

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(k for k, _ in self.records)

    @property
    def size(self) -> int:
        """Bytes of keys and values (what a write of the customer uploads, roughly)."""
        return sum(len(k.encode()) + len(v.encode()) for k, v in self.records)


def build_records(
    repo: PlatformRepo,
    fingerprints: Mapping[str, str | None],
    routed: Collection[str] | None,
) -> dict[str, CustomerRecords]:
    """Every customer's records, by customer id.

    Args:
        repo: The repository.
        fingerprints: Deployed fingerprint per routed script.
        routed: The scripts to route (``kinds.dispatcher.routed_fingerprints``); ``None``
            routes every declared script, as ``build_manifest`` does.
    """
    wanted = None if routed is None else frozenset(routed)
    out: dict[str, CustomerRecords] = {}
    for customer in sorted(repo.customers, key=lambda c: c.id):
        info = customer_entry(repo, customer)
        tokens: list[str] = info["tokens"]
        records: dict[str, str] = {}
        listed = []
        for name, entry in script_entries(repo, customer, fingerprints, wanted).items():
            record = {
                "v": RECORD_VERSION,
                **entry,
                # Explicit null: a record without the key is malformed, never "no outbound".
                "outbound": entry.get("outbound"),
                "suspended": customer.suspended,
                "tokens": tokens,
            }
            records[script_key(name)] = _value(record)
            listed.append(
                {
                    "name": name,
                    "fingerprint": entry["fingerprint"],
                    "limits": entry["limits"],
                    "access": entry["access"],
                }
            )
        for sha in tokens:
            records[token_key(sha)] = _value({"v": RECORD_VERSION, "customer": customer.id})
        own = customer_key(customer.id)
        keys = sorted([*records, own])
        records[own] = _value(
            {
                "v": RECORD_VERSION,
                "customer": customer.id,
                "suspended": customer.suspended,
                "scripts": listed,
                "keys": keys,
            }
        )
        ordered = tuple(sorted(records.items()))
        digest = hashlib.sha256()
        for key, value in ordered:
            digest.update(key.encode() + b"\0" + value.encode() + b"\n")
        out[customer.id] = CustomerRecords(customer.id, ordered, digest.hexdigest()[:32])
    return out


def index_value(digests: Mapping[str, str]) -> bytes:
    """The ``i:index`` record: one digest per customer."""
    return _value({"v": RECORD_VERSION, "customers": dict(sorted(digests.items()))}).encode()


def parse_index(raw: bytes | None) -> dict[str, str] | None:
    """The digests of an ``i:index`` value; ``None`` when there is none. A value this
    version cannot read counts as none, so the next apply rewrites every record."""
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    customers = data.get("customers") if isinstance(data, dict) else None
    if not isinstance(customers, dict) or data.get("v") != RECORD_VERSION:
        return {}
    return {str(k): str(v) for k, v in customers.items()}


def record_keys(raw: bytes | None) -> frozenset[str]:
    """The keys a stored ``c:<customer>`` record says the customer's records use."""
    if raw is None:
        return frozenset()
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return frozenset()
    keys = data.get("keys") if isinstance(data, dict) else None
    return frozenset(str(k) for k in keys) if isinstance(keys, list) else frozenset()
