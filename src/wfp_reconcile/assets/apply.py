"""The upload of a script with assets: sync the site first, or keep the deployed one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wfp_reconcile.bundle import ScriptUpload
from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.diff import Change

from .desired import ScriptAssets
from .plan import changes_assets
from .sync import sync_assets

__all__ = ["prepare_upload"]


def prepare_upload(
    client: Any,
    namespace: str,
    name: str,
    upload: ScriptUpload,
    site: ScriptAssets | None,
    change: Change,
) -> ScriptUpload:
    """The upload to send for ``change``: with the completion token of a freshly synced
    site, or ``keep_assets: true`` (and no asset request) when the plan found it unchanged."""
    if site is None:
        return upload
    metadata: dict[str, Any] = dict(upload.metadata)
    config: Mapping[str, Any] = site.config
    if changes_assets(change):
        # The applier's client is typed by what it writes; uploads need the real one.
        real: CloudflareClient = client
        result = sync_assets(real, namespace, name, site.manifest, site.files)
        metadata["assets"] = {"jwt": result.jwt, "config": dict(config)}
    else:
        metadata.pop("assets", None)
        metadata["keep_assets"] = True
    return ScriptUpload(metadata=metadata, modules=upload.modules)
