"""What a plan says about a script's assets (pure, plus one optional read per script).

``asset_field`` compares the desired site with the deployed ``as-`` tag: no field when
they match (apply then sends ``keep_assets: true`` and no asset request at all), an
``assets`` field when they differ. ``describe_assets`` refines the field of updated
scripts by reading the deployed manifest module (``GET …/content``, one call per script,
only when a plan is shown), into ``3 added, 1 changed, 0 removed (1.2 MiB to upload)``.
"""

from __future__ import annotations

import email.parser
import email.policy
import math
from collections.abc import Callable, Mapping, Sequence

from wfp_reconcile.diff import Action, Change, FieldChange

from .desired import MANIFEST_MODULE, ScriptAssets, parse_asset_tag, parse_manifest_module
from .manifest import format_bytes

__all__ = [
    "ASSETS_FIELD",
    "asset_calls",
    "asset_field",
    "changes_assets",
    "describe_assets",
    "manifest_from_content",
    "with_asset_fields",
]

ASSETS_FIELD = "assets"
_BUCKET_BYTES = 50 * 1024 * 1024  # the largest bucket an upload session answers with
_UPLOADS = (Action.CREATE, Action.UPDATE, Action.ADOPT)


def asset_field(
    site: ScriptAssets | None, deployed_tags: Sequence[str] | None
) -> FieldChange | None:
    """The plan's ``assets`` field of one script upload, or None when the site is unchanged."""
    before = parse_asset_tag(deployed_tags or ())
    if site is None:
        return FieldChange(field=ASSETS_FIELD, before=before, after=None) if before else None
    if before == site.tag:
        return None
    manifest = site.manifest
    if before is None:
        after = site.manifest.diff({}).describe()
    else:
        after = f"{len(manifest.files)} files, {format_bytes(manifest.total_bytes)} (changed)"
    return FieldChange(field=ASSETS_FIELD, before=before, after=after)


def changes_assets(change: Change) -> bool:
    """Whether applying ``change`` must upload the site (else ``keep_assets``)."""
    return any(f.field == ASSETS_FIELD and f.after is not None for f in change.fields)


def asset_calls(changes: Sequence[Change], sites: Mapping[str, ScriptAssets]) -> int:
    """Upload calls the sites of ``changes`` cost at most: a session each, and a bucket per
    50 MiB of files (Cloudflare may answer fewer, for files it already has)."""
    calls = 0
    for change in changes:
        site = sites.get(change.name)
        if change.action in _UPLOADS and site is not None and changes_assets(change):
            calls += 1 + math.ceil(site.manifest.total_bytes / _BUCKET_BYTES)
    return calls


def manifest_from_content(body: bytes, content_type: str) -> dict[str, str] | None:
    """The deployed manifest module in a ``GET …/content`` answer (multipart), if any."""
    if not content_type.lower().startswith("multipart/"):
        return None
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == MANIFEST_MODULE:
            payload = part.get_payload(decode=True)
            return parse_manifest_module(payload) if isinstance(payload, bytes) else None
    return None


def describe_assets(
    changes: tuple[Change, ...],
    sites: Mapping[str, ScriptAssets],
    read_content: Callable[[Sequence[Change]], Sequence[tuple[bytes, str] | None]],
    *,
    limit: int = 100,
) -> tuple[tuple[Change, ...], int]:
    """``changes`` with the ``assets`` field of updates spelled out per file, and the
    number of reads it took (at most ``limit``)."""
    wanted = [
        c
        for c in changes
        if c.action is Action.UPDATE
        and c.name in sites
        and any(f.field == ASSETS_FIELD and f.before for f in c.fields)
    ][:limit]
    if not wanted:
        return changes, 0
    described: dict[str, str] = {}
    for change, answer in zip(wanted, read_content(wanted), strict=True):
        deployed = manifest_from_content(*answer) if answer is not None else None
        if deployed is not None:
            described[change.name] = sites[change.name].manifest.diff(deployed).describe()
    out = []
    for change in changes:
        text = described.get(change.name)
        if text is None:
            out.append(change)
            continue
        fields = tuple(
            f.model_copy(update={"after": text}) if f.field == ASSETS_FIELD else f
            for f in change.fields
        )
        out.append(change.model_copy(update={"fields": fields}))
    return tuple(out), len(wanted)


def with_asset_fields(
    changes: tuple[Change, ...],
    sites: Mapping[str, ScriptAssets | None],
    deployed: Mapping[str, Sequence[str]],
) -> tuple[Change, ...]:
    """``changes`` with an ``assets`` field on every script upload whose site changed.

    Args:
        changes: The plan's changes.
        sites: Desired sites by script name (None: the script has no assets).
        deployed: Tags of the deployed scripts by name.
    """
    out = []
    for change in changes:
        if change.action in _UPLOADS and change.name in sites:
            field = asset_field(sites[change.name], deployed.get(change.name))
            if field is not None:
                change = change.model_copy(update={"fields": (*change.fields, field)})
        out.append(change)
    return tuple(out)
