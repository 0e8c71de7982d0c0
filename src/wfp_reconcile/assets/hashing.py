"""Asset hashes: wrangler's function, keyed per customer.

Wrangler hashes an asset as BLAKE3 over the file's base64 text followed by its extension
(without the dot), keeping 32 hex characters (``@cloudflare/deploy-helpers`` ``hashFile``,
re-exported by ``packages/wrangler/src/pages/hash.ts``). Cloudflare treats the hash as an
opaque key: its direct-upload guide computes it with SHA-256 instead.

Cloudflare deduplicates uploaded assets **per dispatch namespace by hash**: a manifest that
names a hash the namespace already holds gets no bucket for it, and the script serves the
stored bytes. With plain content hashes every tenant of the namespace shares one pool, so a
manifest can claim another tenant's file without having it, and the session's answer
("already uploaded") tells whether some other tenant has a given file. Keying the hash with a
per-customer key makes the pools disjoint: the same bytes get a different hash for every
customer, and the same hash for the same customer on every run (so unchanged files are never
uploaded twice).
"""

from __future__ import annotations

import base64
from pathlib import PurePosixPath

from blake3 import blake3

__all__ = ["HASH_HEX_CHARS", "asset_hash", "customer_salt", "wrangler_hash"]

HASH_HEX_CHARS = 32
# BLAKE3's key derivation mode: a fixed, application-specific context string and the
# customer id as key material give each customer a 32-byte key for keyed hashing.
_SALT_CONTEXT = "wfp-reconcile 2026-12 static asset hash salt v1"


def _hash_input(content: bytes, path: str) -> bytes:
    extension = PurePosixPath(path).suffix.removeprefix(".")
    return base64.b64encode(content) + extension.encode()


def wrangler_hash(content: bytes, path: str) -> str:
    """The hash wrangler computes for an asset (unsalted; for comparison and tests)."""
    return blake3(_hash_input(content, path)).hexdigest()[:HASH_HEX_CHARS]


def customer_salt(customer_id: str) -> bytes:
    """The 32-byte key that salts one customer's asset hashes."""
    return blake3(customer_id.encode(), derive_key_context=_SALT_CONTEXT).digest()


def asset_hash(content: bytes, path: str, salt: bytes) -> str:
    """Wrangler's asset hash, keyed with ``salt`` (``customer_salt``): 32 hex characters."""
    return blake3(_hash_input(content, path), key=salt).hexdigest()[:HASH_HEX_CHARS]
