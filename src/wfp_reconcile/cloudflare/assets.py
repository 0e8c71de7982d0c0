"""The static-asset calls of the Cloudflare API, as wrangler's ``syncAssets`` makes them.

* ``POST …/dispatch/namespaces/{ns}/scripts/{name}/assets-upload-session`` with
  ``{"manifest": {"/path": {"hash", "size"}}}`` answers ``{jwt, buckets}`` (TS SDK
  ``workersForPlatforms.dispatch.namespaces.scripts.assetUpload.create``).
* ``POST /accounts/{a}/workers/assets/upload?base64=true``, authenticated with the
  session's JWT instead of the API token, one multipart part per file: the part is named
  by the file's hash, its filename is the hash, its ``Content-Type`` is the file's type
  and its body the base64 of the bytes (TS SDK ``workers.assets.upload.create``). The
  answer to the last bucket carries the completion JWT.

Both go through the client's transport, so they are paced, retried and counted like
every other call. The JWTs are credentials: they are never logged or put in errors.
"""

from __future__ import annotations

import base64
import dataclasses
import secrets
from collections.abc import Sequence
from typing import Any

from wfp_reconcile.errors import register_secret

from .client import CloudflareClient, _seg

__all__ = [
    "BucketFile",
    "UploadSession",
    "create_upload_session",
    "get_script_content_typed",
    "upload_bucket",
]


@dataclasses.dataclass(frozen=True)
class UploadSession:
    """Cloudflare's answer to a manifest."""

    jwt: str = dataclasses.field(repr=False)
    """The upload token, or the completion token when ``buckets`` is empty."""
    buckets: tuple[tuple[str, ...], ...]
    """Hashes to upload, one request per bucket."""

    @property
    def complete(self) -> bool:
        return not any(self.buckets)


@dataclasses.dataclass(frozen=True)
class BucketFile:
    """One file of a bucket upload."""

    hash: str
    content: bytes = dataclasses.field(repr=False)
    content_type: str


def create_upload_session(
    client: CloudflareClient, namespace: str, script: str, manifest: dict[str, dict[str, Any]]
) -> UploadSession:
    """Register a namespaced script's asset manifest and learn which files to upload."""
    # The client's private path helpers keep one spelling of every URL.
    path = f"{client._script(namespace, script)}/assets-upload-session"
    env = client._call("assets_upload_session", "POST", path, json_body={"manifest": manifest})
    result = env.result if isinstance(env.result, dict) else {}
    jwt = str(result.get("jwt") or "")
    register_secret(jwt)
    buckets = tuple(tuple(str(h) for h in b) for b in result.get("buckets") or ())
    return UploadSession(jwt=jwt, buckets=buckets)


def _quote(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _encode(files: Sequence[BucketFile]) -> tuple[bytes, str]:
    boundary = "wfp-assets-" + secrets.token_hex(12)
    dash = f"--{boundary}".encode()
    parts = []
    for f in files:
        name = _quote(f.hash)
        parts.append(
            dash
            + f'\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"'.encode()
            + f"\r\nContent-Type: {f.content_type}\r\n\r\n".encode()
            + base64.b64encode(f.content)
            + b"\r\n"
        )
    return b"".join(parts) + dash + b"--\r\n", f"multipart/form-data; boundary={boundary}"


def upload_bucket(client: CloudflareClient, jwt: str, files: Sequence[BucketFile]) -> str | None:
    """Upload one bucket with the session's JWT; the completion JWT once all are in."""
    body, content_type = _encode(files)
    env = client._call(
        "assets_upload",
        "POST",
        f"/accounts/{_seg(client.settings.account_id)}/workers/assets/upload",
        params={"base64": "true"},
        content=body,
        headers={"Authorization": f"Bearer {jwt}", "Content-Type": content_type},
    )
    result = env.result if isinstance(env.result, dict) else {}
    done = result.get("jwt")
    if done:
        register_secret(str(done))
    return str(done) if done else None


def get_script_content_typed(
    client: CloudflareClient, namespace: str, name: str
) -> tuple[bytes, str]:
    """A namespaced script's content and its ``Content-Type`` (multipart for modules)."""
    response = client._transport.send(
        "get_content", "GET", f"{client._script(namespace, name)}/content", headers=client._headers
    )
    return response.content, response.headers.get("content-type", "")
