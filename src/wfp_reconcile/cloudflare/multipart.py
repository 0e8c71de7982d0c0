"""The multipart body of a Worker upload: a ``metadata`` JSON part plus one part per module."""

from __future__ import annotations

import json
import secrets

from wfp_reconcile.bundle import ScriptUpload

__all__ = ["encode_upload"]


def _quote(name: str) -> str:
    # Module names are paths chosen by the platform repo; quotes and newlines would break
    # the header, so they are escaped the way browsers do for form-data.
    return name.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def encode_upload(upload: ScriptUpload) -> tuple[bytes, str]:
    """Return ``(body, content_type)`` for a script upload.

    The metadata is passed through untouched: what to keep (``keep_bindings``) and which
    tags to set is the caller's decision, not the transport's.
    """
    boundary = "wfp-" + secrets.token_hex(16)
    dash = f"--{boundary}".encode()
    parts: list[bytes] = []
    metadata = json.dumps(dict(upload.metadata), separators=(",", ":")).encode()
    parts.append(
        dash
        + b'\r\nContent-Disposition: form-data; name="metadata"; filename="metadata.json"'
        + b"\r\nContent-Type: application/json\r\n\r\n"
        + metadata
        + b"\r\n"
    )
    for module in upload.modules:
        name = _quote(module.name)
        parts.append(
            dash
            + f'\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"'.encode()
            + f"\r\nContent-Type: {module.content_type}\r\n\r\n".encode()
            + module.content
            + b"\r\n"
        )
    body = b"".join(parts) + dash + b"--\r\n"
    return body, f"multipart/form-data; boundary={boundary}"
