"""Names, limits and module lists that several rule families (and the loader) share."""

from __future__ import annotations

import functools
from pathlib import PurePosixPath

from wfp_reconcile.config.files import check_path_syntax
from wfp_reconcile.config.model import OutboundWorker, Platform, Script, TailWorker

__all__ = [
    "MAX_TAGS",
    "PROTECT_TAG",
    "RESERVED_PARAM_NAMES",
    "RESERVED_PARAM_PREFIXES",
    "RESERVED_TAG_PREFIXES",
    "outbound_modules",
    "own_tag_count",
    "reserved_param_reason",
    "script_modules",
]

MAX_TAGS = 8
"""Cloudflare's limit of tags per script."""
PROTECT_TAG = "protected"
RESERVED_TAG_PREFIXES = ("fp-", "plan-", "as-")
"""The reconciler's own tags: ``fp-<fingerprint>``, ``plan-<plan>``, ``as-<assets digest>``."""
RESERVED_PARAM_NAMES = frozenset({"customer_id"})
"""Outbound parameters the dispatcher always sets itself (an outbound Worker may list them)."""
RESERVED_PARAM_PREFIXES = ("__", "cf_", "wfp_")


def own_tag_count(script: Script) -> int:
    """How many tags the reconciler puts on a script before the user's own."""
    # management tag, customer id, plan-<plan>, fp-<fingerprint>, maybe protected, and
    # as-<assets digest> on a script with static assets
    return 4 + (1 if script.protect else 0) + (1 if script.assets is not None else 0)


def reserved_param_reason(name: str) -> str | None:
    """Why an outbound parameter name is reserved, or None."""
    if name in RESERVED_PARAM_NAMES:
        return f"'{name}' is reserved: the dispatcher always sets it itself"
    for prefix in RESERVED_PARAM_PREFIXES:
        if name.startswith(prefix):
            return f"'{name}' is reserved: names starting with '{prefix}' belong to the platform"
    return None


def script_modules(
    customer_dir: PurePosixPath, script: Script, platform: Platform
) -> list[tuple[str, str]]:
    """``(name in the bundle, repository path)`` of every module a script uploads.

    Customer modules keep their path relative to the customer directory; platform
    modules are named by their file name, which is what customer code imports
    (``./platform_module.mjs``).
    """
    prefix = f"{customer_dir}/"
    modules = [
        # A normalized relative path joins as a string to what the path object would make
        # (asked for each of 10,000 scripts); anything else keeps pathlib's reading of it.
        (raw, prefix + raw if check_path_syntax(raw) is None else str(customer_dir / raw))
        for raw in (script.main_module, *script.modules)
    ]
    modules += [(_file_name(path), path) for path in platform.platform_modules]
    return modules


@functools.lru_cache(maxsize=256)
def _file_name(path: str) -> str:
    """``PurePosixPath(path).name``, once per platform module instead of once per script."""
    return PurePosixPath(path).name


def outbound_modules(worker: OutboundWorker | TailWorker) -> list[tuple[str, str]]:
    """``(name in the bundle, repository path)`` of an outbound or tail Worker's modules."""
    return [(PurePosixPath(path).name, path) for path in (worker.main_module, *worker.modules)]
