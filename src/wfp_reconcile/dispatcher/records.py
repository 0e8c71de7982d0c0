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

The index holds one digest per customer, in ``INDEX_SHARDS`` records ``i:00`` to
``i:3f`` (a customer's shard is fixed by a hash of its id): a plan reads all of them with
one bulk get and rewrites only the customers whose digest differs, and an apply writes
only the shards that changed, so a change to one customer costs O(that customer), not
O(fleet). See docs/dispatcher.md.
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
    "INDEX_KEYS",
    "INDEX_SHARDS",
    "RECORD_VERSION",
    "CustomerRecords",
    "build_records",
    "customer_key",
    "index_key",
    "index_shard",
    "index_shards",
    "index_value",
    "parse_index",
    "record_keys",
    "script_key",
    "token_key",
]

RECORD_VERSION = 1
INDEX_SHARDS = 64
"""Index records; at most 100, what one bulk get reads."""


def index_key(shard: int) -> str:
    return f"i:{shard:02x}"


INDEX_KEYS = tuple(index_key(n) for n in range(INDEX_SHARDS))


def index_shard(customer: str) -> int:
    """The index record holding ``customer``'s digest (stable across runs and versions)."""
    return int(hashlib.sha256(customer.encode()).hexdigest()[:8], 16) % INDEX_SHARDS


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


def index_shards(digests: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The index records' contents, by key: every shard, empty ones too."""
    shards: dict[str, dict[str, str]] = {key: {} for key in INDEX_KEYS}
    for customer in sorted(digests):
        shards[index_key(index_shard(customer))][customer] = digests[customer]
    return shards


def index_value(customers: Mapping[str, str]) -> str:
    """One index record: the digests of the customers of its shard."""
    return _value({"v": RECORD_VERSION, "customers": dict(sorted(customers.items()))})


def parse_index(values: Mapping[str, Any]) -> dict[str, str] | None:
    """The digests the index records hold (``values``: parsed JSON by key, ``None`` for
    an absent record); ``None`` when no record exists. A record this version cannot read
    counts as empty, so the next apply rewrites its customers' records."""
    if all(values.get(key) is None for key in INDEX_KEYS):
        return None
    out: dict[str, str] = {}
    for key in INDEX_KEYS:
        data = values.get(key)
        if not isinstance(data, dict) or data.get("v") != RECORD_VERSION:
            continue
        customers = data.get("customers")
        if not isinstance(customers, dict):
            continue
        for customer, digest in customers.items():
            # A customer only counts in its own shard (a moved or forged entry does not).
            if index_key(index_shard(str(customer))) == key:
                out[str(customer)] = str(digest)
    return out


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
