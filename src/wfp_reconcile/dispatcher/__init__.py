"""The generated dispatch Worker: a JS template (package data) plus a manifest built from
the platform repository."""

from __future__ import annotations

from .manifest import build_manifest, manifest_bytes
from .upload import (
    MAIN_MODULE,
    MANIFEST_MODULE,
    build_dispatcher_upload,
    build_dispatcher_uploads,
    dispatcher_bindings,
)

__all__ = [
    "MAIN_MODULE",
    "MANIFEST_MODULE",
    "build_dispatcher_upload",
    "build_dispatcher_uploads",
    "build_manifest",
    "dispatcher_bindings",
    "manifest_bytes",
]
