"""Cloudflare's checks on script names, tags and uploads, with its error codes.

Each failure is an ``ApiProblem`` carrying the HTTP status and code Cloudflare uses.
Where Cloudflare's limit is undocumented the emulator is deliberately strict (script
names of at most 63 characters), so a plan that passes here will not fail there.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from typing import Any

from .formdata import Part
from .store import ModuleRow

__all__ = [
    "ALLOWED_CONTENT_TYPES",
    "DEFAULT_MAX_SCRIPT_BYTES",
    "ApiProblem",
    "ParsedUpload",
    "check_script_name",
    "check_tags",
    "check_bindings",
    "check_metadata",
    "parse_raw_script",
    "parse_upload",
    "parse_tag_filter",
]

ALLOWED_CONTENT_TYPES = frozenset(
    {
        "application/javascript+module",
        "text/javascript+module",
        "application/javascript",
        "text/javascript",
        "text/x-python",
        "text/x-python-requirement",
        "application/wasm",
        "text/plain",
        "application/octet-stream",
        "application/source-map",
    }
)
# Cloudflare's Worker size limit since 2026: one 64 MiB uncompressed limit on every plan
# (the limits page; cloudflare-docs#31002, workers-sdk#14001), replacing 3 MB Free /
# 10 MB Paid after compression. Error 10027 past it.
DEFAULT_MAX_SCRIPT_BYTES = 64 * 1024 * 1024
MAX_TAGS = 8
MAX_SCRIPT_NAME = 63
_SCRIPT_NAME = re.compile(r"^[a-z0-9_][a-z0-9-_]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ApiProblem(Exception):
    """A request Cloudflare would refuse: HTTP status, Cloudflare code and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclasses.dataclass(frozen=True)
class ParsedUpload:
    """A validated upload: metadata, modules in part order, and tags (``None``: unset)."""

    metadata: dict[str, Any]
    modules: tuple[ModuleRow, ...]
    tags: tuple[str, ...] | None


def _invalid(message: str, code: int = 10021) -> ApiProblem:
    return ApiProblem(400, code, message)


def check_script_name(name: str) -> None:
    if not _SCRIPT_NAME.match(name) or len(name) > MAX_SCRIPT_NAME:
        raise _invalid(
            f"Invalid Worker name {name!r}: use lowercase letters, digits, '-' and '_' "
            f"(pattern ^[a-z0-9_][a-z0-9-_]*$), at most {MAX_SCRIPT_NAME} characters.",
            10016,
        )


def check_tags(tags: Any) -> tuple[str, ...]:
    """Validate a tag list as Cloudflare documents it: at most 8, no ',' or '&'."""
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _invalid("Tags must be a JSON array of strings.")
    if len(set(tags)) > MAX_TAGS:
        raise _invalid(f"A script can have at most {MAX_TAGS} tags; got {len(set(tags))}.")
    for tag in tags:
        if not tag.strip():
            raise _invalid("Tags must not be empty.")
        if "," in tag or "&" in tag:
            raise _invalid(f"Tag {tag!r} contains ',' or '&', which tags must not contain.")
    return tuple(dict.fromkeys(tags))


def parse_tag_filter(raw: str) -> list[tuple[str, bool]]:
    """Parse ``tags=a:yes,b:no`` into ``[("a", True), ("b", False)]``."""
    filters: list[tuple[str, bool]] = []
    for item in raw.split(","):
        tag, sep, mode = item.rpartition(":")
        if not sep or not tag or mode not in ("yes", "no"):
            raise _invalid(f"Invalid tag filter {item!r}: use <tag>:yes or <tag>:no.")
        filters.append((tag, mode == "yes"))
    return filters


def _check_module_name(name: str) -> None:
    bad = (
        not name
        or len(name) > 256
        or name.startswith("/")
        or "\\" in name
        or any(seg in ("", ".", "..") for seg in name.split("/"))
        or any(ord(c) < 32 or c == '"' for c in name)
    )
    if bad:
        raise _invalid(
            f"Invalid module name {name!r}: use a relative path without '.', '..' or empty "
            "segments."
        )


def check_bindings(bindings: Any) -> None:
    if not isinstance(bindings, list):
        raise _invalid("metadata.bindings must be a list.")
    for binding in bindings:
        if not isinstance(binding, dict) or not isinstance(binding.get("type"), str):
            raise _invalid("Every binding must be an object with a 'type'.")
        if not isinstance(binding.get("name"), str) or not binding["name"]:
            raise _invalid("Binding without a name.", 10052)


def check_metadata(metadata: dict[str, Any]) -> None:
    if "compatibility_date" in metadata:
        date = metadata["compatibility_date"]
        if not isinstance(date, str) or not _DATE.match(date):
            raise _invalid(f"compatibility_date must be YYYY-MM-DD, got {date!r}.")
    flags = metadata.get("compatibility_flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise _invalid("compatibility_flags must be a list of strings.")
    keep = metadata.get("keep_bindings", [])
    if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
        raise _invalid("keep_bindings must be a list of binding types.")
    check_bindings(metadata.get("bindings", []))


def parse_upload(parts: Sequence[Part], *, max_bytes: int) -> ParsedUpload:
    """Check an upload's parts the way Cloudflare does and return it.

    Raises:
        ApiProblem: 10026 unparseable metadata, 10021 validation, 10027 too large.
    """
    # Cloudflare identifies modules by *file name* (the SDKs' docs: modules are "referenced
    # in the metadata as main_module or body_part by filename"): the Python SDK names every
    # module part `files`, wrangler names each part after its file. A part without a file
    # name is identified by its field name.
    meta_parts = [p for p in parts if p.name == "metadata"]
    if len(meta_parts) != 1:
        raise _invalid("The upload must contain exactly one 'metadata' part.")
    try:
        metadata = json.loads(meta_parts[0].content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _invalid(f"Could not parse the metadata part as JSON: {exc}.", 10026)
    if not isinstance(metadata, dict):
        raise _invalid("The metadata part must be a JSON object.")
    modules: list[ModuleRow] = []
    for part in parts:
        if part.name == "metadata":
            continue
        name = part.filename or part.name
        _check_module_name(name)
        if part.content_type not in ALLOWED_CONTENT_TYPES:
            raise _invalid(
                f"Module {name!r} has content type {part.content_type!r}; allowed: "
                + ", ".join(sorted(ALLOWED_CONTENT_TYPES))
                + "."
            )
        if any(m.name == name for m in modules):
            raise _invalid(f"Module {name!r} appears twice.")
        modules.append(ModuleRow(name, part.content_type, part.content))
    if not modules:
        raise _invalid("No modules in the upload: at least one module part is required.")
    entry_key = "main_module" if "main_module" in metadata else "body_part"
    entry = metadata.get(entry_key)
    if not isinstance(entry, str) or not entry:
        raise _invalid("metadata.main_module (or body_part) must name the entry module.")
    if entry not in {m.name for m in modules}:
        raise _invalid(
            f"metadata.{entry_key} is {entry!r}, which is not one of the uploaded parts: "
            + ", ".join(repr(m.name) for m in modules)
            + "."
        )
    check_metadata(metadata)
    tags = check_tags(metadata["tags"]) if metadata.get("tags") is not None else None
    size = sum(len(m.content) for m in modules)
    if size > max_bytes:
        raise _invalid(
            f"The Worker is {size} bytes, over the size limit of {max_bytes} bytes.", 10027
        )
    return ParsedUpload(metadata=metadata, modules=tuple(modules), tags=tags)


RAW_SCRIPT_NAME = "worker.js"


def parse_raw_script(body: bytes, *, max_bytes: int) -> ParsedUpload:
    """A body sent as ``application/javascript``: one service-worker script, no metadata.

    Cloudflare evaluates it as JavaScript; a multipart body sent under that type (the TS
    SDK 7.x upload, cloudflare-typescript#2799) fails at its first line, ``--boundary``,
    with the SyntaxError Cloudflare reports there.
    """
    if body.lstrip().startswith(b"--"):
        raise _invalid(
            "Uncaught SyntaxError: Invalid left-hand side expression in prefix operation\n"
            f"  at {RAW_SCRIPT_NAME}:1:4"
        )
    if len(body) > max_bytes:
        raise _invalid(
            f"The Worker is {len(body)} bytes, over the size limit of {max_bytes} bytes.", 10027
        )
    module = ModuleRow(RAW_SCRIPT_NAME, "application/javascript", body)
    return ParsedUpload(metadata={"body_part": RAW_SCRIPT_NAME}, modules=(module,), tags=None)
