"""What a script's assets and observability add to its upload (pure).

A script with assets uploads, besides its modules:

* ``assets: {config}`` in the metadata (the completion ``jwt`` is added at apply time,
  or the whole key becomes ``keep_assets: true`` when the site did not change);
* an ``assets`` binding when ``binding`` is set;
* the manifest as one more module, ``__wfp_assets.json`` (path -> hash), so that the
  code fingerprint covers the site and a plan can say which files changed by reading
  the deployed script's content;
* the tag ``as-<16 hex>``, a digest of the manifest and config, so that apply knows from
  the inventory alone whether the site changed.

Every script states ``observability`` (off unless declared), as ``logpush``: an upload
that left it out would keep whatever the last one set.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from wfp_reconcile.bundle import Module
from wfp_reconcile.config.model import (
    Assets,
    Customer,
    NotFoundHandling,
    Observability,
    PlatformRepo,
    Routing,
    Script,
)

from .hashing import customer_salt
from .manifest import AssetManifest, build_manifest

__all__ = [
    "ASSET_TAG_PREFIX",
    "MANIFEST_MODULE",
    "ScriptAssets",
    "asset_config",
    "site_prefix",
    "observability_metadata",
    "parse_asset_tag",
    "parse_manifest_module",
    "script_assets",
]

ASSET_TAG_PREFIX = "as-"
MANIFEST_MODULE = "__wfp_assets.json"
_TAG_HEX = 16


def site_prefix(repo: PlatformRepo, name: str) -> str:
    """Where a script's site lives in the URL the script receives: ``/<script>`` with path
    routing (the dispatcher forwards the URL unchanged), nothing with host routing."""
    return f"/{name}" if repo.platform.dispatcher.routing is Routing.PATH else ""


def _prefixed_rule(rule: str, prefix: str) -> str:
    return "!" + prefix + rule[1:] if rule.startswith("!") else prefix + rule


def asset_config(assets: Assets, prefix: str = "") -> dict[str, Any]:
    """Cloudflare's ``assets.config``, every field stated (the defaults are Cloudflare's);
    ``run_worker_first`` rules are written for the site and moved under ``prefix``."""
    rwf = assets.run_worker_first
    return {
        "html_handling": assets.html_handling.value,
        "not_found_handling": assets.not_found_handling.value,
        "run_worker_first": [_prefixed_rule(r, prefix) for r in rwf]
        if isinstance(rwf, tuple)
        else rwf,
    }


def observability_metadata(value: Observability) -> dict[str, Any]:
    """The upload's ``observability``, without the fields left to Cloudflare's defaults."""
    out: dict[str, Any] = value.model_dump(mode="json", exclude_none=True)
    return out


@dataclasses.dataclass(frozen=True)
class ScriptAssets:
    """A script's site: what is uploaded and how it is served."""

    manifest: AssetManifest
    config: Mapping[str, Any]
    binding: str | None
    files: Mapping[str, bytes] = dataclasses.field(repr=False, compare=False)
    """Bytes by repository path (the repository's own mapping, not a copy)."""

    @property
    def digest(self) -> str:
        canonical = json.dumps([self.manifest.digest(), dict(self.config)], sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def tag(self) -> str:
        return ASSET_TAG_PREFIX + self.digest[:_TAG_HEX]

    def module(self) -> Module:
        body = json.dumps({"version": 1, "files": self.manifest.hashes()}, sort_keys=True)
        return Module(MANIFEST_MODULE, body.encode(), "text/plain")


def parse_asset_tag(tags: Iterable[str]) -> str | None:
    """The ``as-`` tag among a script's tags, if any."""
    for tag in tags:
        if tag.startswith(ASSET_TAG_PREFIX) and len(tag) == len(ASSET_TAG_PREFIX) + _TAG_HEX:
            return tag
    return None


def parse_manifest_module(content: bytes) -> dict[str, str] | None:
    """Path -> hash from a deployed ``__wfp_assets.json``, or None when unreadable."""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return None
    return {str(k): str(v) for k, v in files.items()}


def script_assets(
    repo: PlatformRepo, customer: Customer, name: str, script: Script
) -> ScriptAssets | None:
    """The site of one script, hashed with its customer's salt; None without assets."""
    if script.assets is None:
        return None
    directory = str(PurePosixPath("customers") / customer.id / script.assets.directory)
    prefix = site_prefix(repo, name)
    triples = [
        (prefix + path.removeprefix(directory), path, repo.files[path])
        for path in repo.assets.get(name, ())
    ]
    index = directory + "/index.html"
    spa = script.assets.not_found_handling is NotFoundHandling.SINGLE_PAGE_APPLICATION
    if prefix and spa and index in repo.files:
        # Cloudflare rewrites an SPA's unmatched request to /index.html at the root: under
        # a prefix that must be this site's index (same hash, so never uploaded twice).
        triples.append(("/index.html", index, repo.files[index]))
    manifest = build_manifest(triples, customer_salt(customer.id))
    config = asset_config(script.assets, prefix)
    return ScriptAssets(manifest, config, script.assets.binding, repo.files)
