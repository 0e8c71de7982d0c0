"""The local Workers runtime: workerd through miniflare, with the dispatch namespace
emulated by workerd's Worker Loader, reading code from the local API emulator."""

from __future__ import annotations

from .install import default_cache_root, ensure_installed, find_node, install_dir
from .process import MAX_COMPAT_DATE, RunningRuntime, RuntimeSettings, run_runtime

__all__ = [
    "MAX_COMPAT_DATE",
    "RunningRuntime",
    "RuntimeSettings",
    "default_cache_root",
    "ensure_installed",
    "find_node",
    "install_dir",
    "run_runtime",
]
