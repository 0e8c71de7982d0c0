"""Uploading a script's assets: session, the buckets Cloudflare asks for, the completion token.

The steps and their bounds are wrangler's ``syncAssets``: one session per script, only the
hashes Cloudflare answers are uploaded, at most three buckets at a time (its
``BULK_UPLOAD_CONCURRENCY``), and the completion JWT from the last bucket goes into the
script upload. Retries and pacing are the transport's, as for every other call; an upload
that fails part-way loses nothing, because the files already stored are not asked for again.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
from collections.abc import Mapping

from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.cloudflare.assets import BucketFile, create_upload_session, upload_bucket
from wfp_reconcile.errors import ApiError, WfpError

from .manifest import AssetManifest

__all__ = ["BUCKET_CONCURRENCY", "AssetSyncError", "SyncResult", "sync_assets"]

BUCKET_CONCURRENCY = 3


class AssetSyncError(WfpError):
    """Cloudflare's answers do not let the assets be completed."""


@dataclasses.dataclass(frozen=True)
class SyncResult:
    """What one script's asset upload did."""

    jwt: str = dataclasses.field(repr=False)
    """The completion token for ``assets.jwt``."""
    buckets: int
    files: int
    bytes: int


def sync_assets(
    client: CloudflareClient,
    namespace: str,
    script: str,
    manifest: AssetManifest,
    files: Mapping[str, bytes],
) -> SyncResult:
    """Make Cloudflare hold every file of ``manifest`` and return the completion token.

    Args:
        client: The API client (its transport paces and retries).
        namespace, script: Where the assets go.
        manifest: The script's assets; ``repo_path`` keys into ``files``.
        files: Bytes by repository path.
    """
    session = create_upload_session(client, namespace, script, manifest.to_api())
    if session.complete:
        if not session.jwt:
            raise AssetSyncError(
                f"{script}: Cloudflare answered the asset manifest without a token"
            )
        return SyncResult(session.jwt, 0, 0, 0)
    by_hash = manifest.by_hash()
    buckets: list[list[BucketFile]] = []
    for bucket in session.buckets:
        entries = []
        for digest in bucket:
            found = by_hash.get(digest)
            if found is None:
                raise AssetSyncError(
                    f"{script}: Cloudflare asked for an asset that is not in the manifest"
                )
            entries.append(BucketFile(digest, files[found.repo_path], found.content_type))
        if entries:
            buckets.append(entries)
    completion: str | None = None
    workers = min(BUCKET_CONCURRENCY, len(buckets))
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="assets") as pool:
        futures = [pool.submit(upload_bucket, client, session.jwt, b) for b in buckets]
        errors: list[BaseException] = []
        for future in futures:
            try:
                completion = future.result() or completion
            except ApiError as exc:
                errors.append(exc)
    if errors:
        first = errors[0]
        if isinstance(first, ApiError) and first.status == 401:
            raise AssetSyncError(
                f"{script}: the asset upload took longer than its token lasts; run again "
                "(files already uploaded are not uploaded twice)"
            ) from first
        raise first
    if not completion:
        raise AssetSyncError(
            f"{script}: every bucket was uploaded but Cloudflare sent no completion token"
        )
    sent = [f for b in buckets for f in b]
    return SyncResult(completion, len(buckets), len(sent), sum(len(f.content) for f in sent))
