"""What every rule family receives: the validated files and a place to report problems."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from pathlib import PurePosixPath

from wfp_reconcile.config.model import Customer, Platform
from wfp_reconcile.config.yamlread import Loc, YamlDoc
from wfp_reconcile.errors import ConfigProblem

__all__ = ["CustomerEntry", "PlatformEntry", "RuleContext"]


@dataclasses.dataclass(frozen=True)
class PlatformEntry:
    path: str
    platform: Platform
    doc: YamlDoc


@dataclasses.dataclass(frozen=True)
class CustomerEntry:
    path: str
    """Repository-relative path of ``customer.yaml``."""
    customer: Customer
    doc: YamlDoc

    @functools.cached_property
    def directory(self) -> PurePosixPath:
        # Cached: asked once per script by the loader and the bundle rules (20,000 times at
        # 10,000 scripts); cached_property writes __dict__, which a frozen dataclass allows.
        return PurePosixPath(self.path).parent


class RuleContext:
    """The repository as the rules see it, and the problems they found so far.

    A rule family reads ``platform``, ``customers`` and ``sizes`` and calls ``at``
    for each problem; it never raises and never reads files.
    """

    def __init__(
        self, platform: PlatformEntry, customers: list[CustomerEntry], sizes: Mapping[str, int]
    ) -> None:
        self.platform = platform
        self.customers = customers
        self.sizes = sizes
        """Byte size of every module that could be read, by repository path."""
        self.problems: list[ConfigProblem] = []

    def at(self, path: str, doc: YamlDoc, loc: Loc, message: str, *, key: bool = False) -> None:
        """Report a problem at the value (or, with ``key``, the key) found at ``loc``."""
        pos = doc.key_pos(loc) if key else doc.value_pos(loc)
        self.problems.append(ConfigProblem(path, pos.line, pos.column, message))

    def where(self, path: str, doc: YamlDoc, loc: Loc) -> str:
        """``path:line`` of the key at ``loc``, for messages that point at a second place."""
        return f"{path}:{doc.key_pos(loc).line}"
