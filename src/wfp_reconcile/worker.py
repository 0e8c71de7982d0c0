"""Worker primitives shared by the Worker kinds, the dispatcher and the mirror (pure).

A fingerprint is SHA-256 over everything that decides what runs: module names,
content types and bytes (the *code* half) and the normalized upload metadata
without tags (the *config* half). Tags are inventory, not behaviour, so a change
of plan or of user tags is a retag, never an upload.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from enum import StrEnum
from json.encoder import encode_basestring
from typing import Any

from wfp_reconcile.bundle import ScriptUpload
from wfp_reconcile.config.model import Customer, Limits, PlatformRepo, Script
from wfp_reconcile.secrets.declared import DeclaredSecret

__all__ = [
    "FP_PREFIX",
    "KEEP_BINDINGS",
    "NS_PREFIX",
    "PLAN_PREFIX",
    "PROTECT_TAG",
    "ActualWorker",
    "DesiredWorker",
    "Fingerprint",
    "WorkerKind",
    "effective_limits",
    "fingerprint_upload",
    "namespace_tag",
    "own_tags",
    "parse_fingerprint_tag",
    "tail_consumers",
]

# Secrets are set out of band (wrangler or the secrets API); without these an
# upload would silently drop them.
KEEP_BINDINGS = ("secret_key", "secret_text")
PROTECT_TAG = "protected"
FP_PREFIX = "fp-"
PLAN_PREFIX = "plan-"
NS_PREFIX = "ns-"
_HALF = 16  # hex characters kept of each half in the tag: 64 bits each


class WorkerKind(StrEnum):
    """The names of the Worker kinds (``wfp_reconcile.kinds`` registers them)."""

    TAIL = "tail"
    """A regular Worker that consumes trace events (applied first: others name it)."""
    OUTBOUND = "outbound"
    """A regular Worker used as an outbound (egress) Worker."""
    SCRIPT = "script"
    """A customer script in the dispatch namespace."""
    DISPATCHER = "dispatcher"
    """The platform's dispatch Worker (a regular Worker)."""


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """The two halves of a content fingerprint, as hex digests."""

    code: str
    config: str

    # Cached (the halves never change): plans read them several times per script.
    # cached_property writes the instance __dict__, which a frozen dataclass allows.
    @functools.cached_property
    def tag(self) -> str:
        return f"{FP_PREFIX}{self.code[:_HALF]}{self.config[:_HALF]}"

    @functools.cached_property
    def short(self) -> str:
        """The form stored in tags and compared against the namespace."""
        return self.tag.removeprefix(FP_PREFIX)


def parse_fingerprint_tag(tags: Iterable[str]) -> str | None:
    """The short fingerprint carried by a tag set, if any."""
    for tag in tags:
        if tag.startswith(FP_PREFIX) and len(tag) == len(FP_PREFIX) + 2 * _HALF:
            return tag.removeprefix(FP_PREFIX)
    return None


@dataclasses.dataclass(frozen=True)
class DesiredWorker:
    """One Worker as the repository wants it."""

    kind: WorkerKind
    """The kind's name (``Change.kind`` and the registry use its value)."""
    name: str
    customer: str | None
    upload: ScriptUpload
    """Metadata and modules, without tags (``upload_with_tags`` adds them)."""
    fingerprint: Fingerprint
    tags: tuple[str, ...]
    protect: bool = False
    suspended: bool = False
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Settings applied by their own calls after the upload (the dispatcher's
    ``workers_dev``); part of the config fingerprint."""
    assets: Any = None
    """A script's static site (``wfp_reconcile.assets.desired.ScriptAssets``), uploaded
    before the script; covered by the fingerprint through its manifest module."""
    secrets: tuple[DeclaredSecret, ...] | None = None
    """Declared secrets (ciphertext only), decrypted into the upload by apply; None: the
    script declares none and keeps its out-of-band secrets (``wfp_reconcile.secrets``)."""

    def upload_with_tags(self) -> ScriptUpload:
        return ScriptUpload(
            metadata={**self.upload.metadata, "tags": list(self.tags)},
            modules=self.upload.modules,
        )

    @property
    def config_summary(self) -> Mapping[str, Any]:
        """The metadata fields shown in plans (no module bytes)."""
        return {k: v for k, v in self.upload.metadata.items() if k != "keep_bindings"}

    def digest_line(self) -> bytes:
        """What the desired-state digest records of this Worker."""
        head = f"{self.kind}\0{self.name}\0{self.fingerprint.tag}\0".encode()
        return head + "\0".join(self.tags).encode() + b"\n"


@dataclasses.dataclass(frozen=True)
class ActualWorker:
    """One deployed Worker as its tags describe it."""

    name: str
    tags: tuple[str, ...]
    managed: bool

    @functools.cached_property
    def fingerprint(self) -> str | None:
        return parse_fingerprint_tag(self.tags)

    @property
    def protected(self) -> bool:
        return PROTECT_TAG in self.tags

    def customer(self, known_customers: Collection[str] = ()) -> str | None:
        """The customer tag: the one tag that names a known customer, else a best guess."""
        # Asked per script with every customer id: a set passed in is used as it is
        # (copying 10,000 ids for each of 100,000 scripts would be quadratic).
        for tag in self.tags:
            if tag in known_customers:
                return tag
        # Tags are written as [management, customer, plan-*, fp-*, ...].
        return self.tags[1] if len(self.tags) > 1 else None

    def digest_line(self) -> bytes:
        """What the actual-state digest records of this Worker."""
        head = f"{self.name}\0{int(self.managed)}\0".encode()
        return head + "\0".join(sorted(self.tags)).encode() + b"\n"


# What json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) builds
# on every call; one encoder serves the 30,000 calls of a 10,000-script plan.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical(value: Any) -> bytes:
    return _CANONICAL.encode(value).encode()


def _canonical_pair(first: str, second: str) -> bytes:
    """``_canonical([first, second])`` without an encoder per call (two per script)."""
    return f"[{encode_basestring(first)},{encode_basestring(second)}]".encode()


def fingerprint_upload(
    upload: ScriptUpload, settings: Mapping[str, Any] | None = None
) -> Fingerprint:
    """Fingerprint of an upload's modules (code) and its metadata minus tags (config), with
    the ``settings`` applied beside the upload (when any) in the config half."""
    code = hashlib.sha256()
    for module in sorted(upload.modules, key=lambda m: m.name):
        code.update(_canonical_pair(module.name, module.content_type))
        code.update(module.digest)
    metadata: dict[str, Any] = {k: v for k, v in upload.metadata.items() if k != "tags"}
    if settings:
        metadata = {"metadata": metadata, "settings": dict(settings)}
    config = hashlib.sha256(_canonical(metadata))
    return Fingerprint(code=code.hexdigest(), config=config.hexdigest())


def own_tags(
    management_tag: str, customer: str, plan: str, fp: Fingerprint, *, protect: bool
) -> tuple[str, ...]:
    """The tags the reconciler puts on every customer script it manages."""
    tags = [management_tag, customer, f"{PLAN_PREFIX}{plan}", fp.tag]
    if protect:
        tags.append(PROTECT_TAG)
    return tuple(tags)


def namespace_tag(namespace: str) -> str:
    """The tag that ties a regular Worker to the platform of one dispatch namespace.

    Regular Workers live in the account, not the namespace: two platforms in one account
    (staging and production, say) share the management tag, so without this tag one
    would see, and delete, the other's dispatcher and outbound Workers.
    """
    return f"{NS_PREFIX}{namespace}"


def tail_consumers(names: Iterable[str]) -> list[dict[str, str]]:
    """Upload metadata naming tail Workers (regular Workers of the same account)."""
    return [{"service": name} for name in names]


def effective_limits(repo: PlatformRepo, customer: Customer, script: Script) -> Limits:
    """Script limits over customer limits over the platform's defaults."""
    limits = repo.platform.default_limits
    if customer.limits is not None:
        limits = customer.limits.over(limits)
    if script.limits is not None:
        limits = script.limits.over(limits)
    return limits
