"""The dispatcher's upload: the JS template plus the generated manifest, and its bindings."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from importlib import resources
from typing import Any

from wfp_reconcile.bundle import Module, ScriptUpload
from wfp_reconcile.config.model import PlatformRepo, dispatcher_logpush, dispatcher_tails
from wfp_reconcile.worker import KEEP_BINDINGS

from .manifest import (
    CUSTOMER_ID_PARAM,
    PLAIN_BINDING,
    binding_for_outbound,
    build_manifest,
    manifest_bytes,
    store_manifest,
)

__all__ = [
    "MAIN_MODULE",
    "MANIFEST_MODULE",
    "TEMPLATE_MODULES",
    "build_dispatcher_upload",
    "build_dispatcher_uploads",
    "dispatcher_bindings",
    "template_source",
]

MAIN_MODULE = "dispatcher.mjs"
MANIFEST_MODULE = "wfp-manifest.json"
TEMPLATE_MODULES = (MAIN_MODULE, "dispatcher-core.mjs", "status-page.mjs")

_JS = "application/javascript+module"
# A text module: Cloudflare's upload API has no JSON module type, so the template parses it.
_TEXT = "text/plain"


def template_source(name: str) -> bytes:
    """The bytes of one template module shipped with the package."""
    return resources.files("wfp_reconcile.dispatcher").joinpath("template", name).read_bytes()


def dispatcher_bindings(repo: PlatformRepo) -> list[dict[str, Any]]:
    """One dispatch-namespace binding per outbound Worker plus one without, and D1 if set."""
    platform = repo.platform
    names = tuple(sorted(platform.outbound_workers))
    bindings: list[dict[str, Any]] = [
        {"type": "dispatch_namespace", "name": PLAIN_BINDING, "namespace": platform.namespace}
    ]
    for worker in names:
        declared = platform.outbound_workers[worker]
        params = sorted({*declared.parameters, CUSTOMER_ID_PARAM})
        bindings.append(
            {
                "type": "dispatch_namespace",
                "name": binding_for_outbound(names, worker),
                "namespace": platform.namespace,
                "outbound": {
                    "worker": {"service": worker},
                    "params": [{"name": p} for p in params],
                },
            }
        )
    if platform.d1 is not None:
        bindings.append({"type": "d1", "name": platform.d1.binding, "id": platform.d1.database_id})
    store = platform.dispatcher.routing_store
    if platform.dispatcher.routing_data == "store" and store is not None:
        bindings.append(
            {"type": "kv_namespace", "name": store.binding, "namespace_id": store.kv_namespace_id}
        )
    return bindings


def build_dispatcher_upload(
    repo: PlatformRepo,
    fingerprints: Mapping[str, str],
    commit: str | None,
    *,
    routed: Collection[str] | None = None,
    hostnames: Mapping[str, str] | None = None,
) -> ScriptUpload:
    """The dispatch Worker's complete upload, deterministic for equal inputs.

    ``fingerprints`` maps customer scripts to their deployed content fingerprint;
    ``routed`` names the scripts the manifest routes (every declared one when ``None``).
    The metadata carries no ``tags``: the engine adds them.
    """
    (upload,) = build_dispatcher_uploads(
        repo, fingerprints, (commit,), routed=routed, hostnames=hostnames
    )
    return upload


def build_dispatcher_uploads(
    repo: PlatformRepo,
    fingerprints: Mapping[str, str],
    commits: Sequence[str | None],
    *,
    routed: Collection[str] | None = None,
    hostnames: Mapping[str, str] | None = None,
) -> tuple[ScriptUpload, ...]:
    """``build_dispatcher_upload`` for each of ``commits``, the routing data built once
    (the kind fingerprints the upload without its commit and uploads it with)."""
    platform = repo.platform
    if platform.dispatcher.routing_data == "store":
        # The fleet's routing data is in Workers KV (kinds.routing): never built here.
        data = store_manifest(repo, None, routed=routed, hostnames=hostnames)
    else:
        data = build_manifest(repo, fingerprints, None, routed=routed, hostnames=hostnames)
    template = tuple(Module(name, template_source(name), _JS) for name in TEMPLATE_MODULES)
    built: dict[str | None, ScriptUpload] = {}
    for commit in commits:
        if commit not in built:  # the same commit twice: the same upload
            manifest = manifest_bytes({**data, "commit": commit})
            modules = (*template, Module(MANIFEST_MODULE, manifest, _TEXT))
            built[commit] = ScriptUpload(metadata=_metadata(repo), modules=modules)
    return tuple(built[commit] for commit in commits)


def _metadata(repo: PlatformRepo) -> dict[str, Any]:
    platform = repo.platform
    return {
        "main_module": MAIN_MODULE,
        "compatibility_date": platform.dispatcher.compatibility_date or platform.compatibility_date,
        "bindings": dispatcher_bindings(repo),
        "logpush": dispatcher_logpush(platform),
        "tail_consumers": [{"service": name} for name in dispatcher_tails(platform)],
        # Secrets set on the dispatcher out of band (wrangler secret put) survive uploads.
        "keep_bindings": list(KEEP_BINDINGS),
    }
