"""Static assets of customer scripts: reading a directory, hashing, manifests, uploading.

The pieces follow Cloudflare's own client (wrangler's ``syncAssets``): a manifest
``{"/path": {hash, size}}`` is registered with an upload session, Cloudflare answers which
files it lacks in buckets, only those are uploaded, and the completion token goes into the
script upload as ``assets.jwt``. See docs/assets.md.
"""

from .hashing import asset_hash, customer_salt, wrangler_hash
from .manifest import AssetDiff, AssetFile, AssetManifest, build_manifest, content_type_for_asset

__all__ = [
    "AssetDiff",
    "AssetFile",
    "AssetManifest",
    "asset_hash",
    "build_manifest",
    "content_type_for_asset",
    "customer_salt",
    "wrangler_hash",
]
