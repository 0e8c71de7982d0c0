"""A small, strict ``multipart/form-data`` parser for Worker uploads.

Uploads are a few parts held in memory anyway, and a byte-exact split keeps binary
modules (wasm) intact without another dependency.
"""

from __future__ import annotations

import dataclasses
import re

__all__ = ["FormDataError", "Part", "parse_form_data"]

_PARAM = re.compile(r';\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))')


class FormDataError(ValueError):
    """The body is not well-formed multipart/form-data."""


@dataclasses.dataclass(frozen=True)
class Part:
    """One form part: its field name, file name, content type and bytes."""

    name: str
    filename: str | None
    content_type: str | None
    content: bytes
    full_content_type: str | None = None
    """The header as sent, parameters included (asset uploads keep ``charset``)."""


def _params(header_value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for match in _PARAM.finditer(header_value):
        key = match.group(1).lower()
        quoted, bare = match.group(2), match.group(3)
        out[key] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
    return out


def boundary_of(content_type: str) -> str | None:
    """The boundary of a multipart content type, or ``None`` when it is not multipart."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "multipart/form-data":
        return None
    return _params(content_type).get("boundary")


def _parse_part(section: bytes) -> Part:
    head, sep, content = section.partition(b"\r\n\r\n")
    if not sep:
        raise FormDataError("a part has no blank line between its headers and its content")
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise FormDataError(f"malformed part header {line[:80]!r}")
        headers[key.strip().lower()] = value.strip()
    disposition = headers.get("content-disposition", "")
    if not disposition.lower().startswith("form-data"):
        raise FormDataError("a part has no 'Content-Disposition: form-data' header")
    params = _params(disposition)
    if "name" not in params:
        raise FormDataError("a part has no name in its Content-Disposition header")
    ctype = headers.get("content-type")
    return Part(
        name=params["name"],
        filename=params.get("filename"),
        content_type=ctype.split(";", 1)[0].strip().lower() if ctype else None,
        content=content,
        full_content_type=ctype.strip() if ctype else None,
    )


def parse_form_data(body: bytes, content_type: str) -> list[Part]:
    """Split a multipart body into its parts, in order.

    Raises:
        FormDataError: not multipart, no boundary, or a malformed part.
    """
    boundary = boundary_of(content_type)
    if not boundary:
        raise FormDataError("the request is not multipart/form-data with a boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = (b"\r\n" + body).split(b"\r\n" + delimiter)
    if len(chunks) < 2:
        raise FormDataError("the body does not contain the multipart boundary")
    parts: list[Part] = []
    closed = False
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            closed = True
            break
        if not chunk.startswith(b"\r\n"):
            raise FormDataError("a multipart boundary is not followed by a line break")
        parts.append(_parse_part(chunk[2:]))
    if not closed:
        raise FormDataError("the multipart body is truncated (no closing boundary)")
    return parts
