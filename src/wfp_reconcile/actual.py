"""Actual state: the namespace's inventory, read from script tags.

Reading is the only I/O of planning. The common case costs one list call per
1000 managed scripts plus one for the regular Workers; tags are read per script
only when the list omits them, and unmanaged scripts are looked up only for the
names the repository wants to create.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol, TypeVar

from wfp_reconcile.cloudflare import ScriptInfo
from wfp_reconcile.desired import NS_PREFIX, PROTECT_TAG, namespace_tag, parse_fingerprint_tag
from wfp_reconcile.errors import NotFoundError, WfpError

__all__ = ["ActualState", "ActualWorker", "StateReader", "fetch_actual"]

# Above this many names to probe, one listing of unmanaged scripts is cheaper.
_PROBE_LIMIT = 20

_R = TypeVar("_R")


class StateReader(Protocol):
    """The read-only part of the Cloudflare client that planning needs."""

    def list_scripts(
        self, namespace: str, *, tags: Sequence[tuple[str, bool]] = (), page_size: int = 1000
    ) -> Iterable[ScriptInfo]: ...

    def get_script_tags(self, namespace: str, name: str) -> tuple[str, ...]: ...

    def list_workers(self) -> Sequence[ScriptInfo]: ...

    def get_worker_tags(self, name: str) -> tuple[str, ...]: ...

    def map_concurrent(
        self, fn: Callable[[str], _R], items: Iterable[str]
    ) -> Sequence[_R | WfpError]: ...


@dataclasses.dataclass(frozen=True)
class ActualWorker:
    """One deployed Worker as its tags describe it."""

    name: str
    tags: tuple[str, ...]
    managed: bool

    @property
    def fingerprint(self) -> str | None:
        return parse_fingerprint_tag(self.tags)

    @property
    def protected(self) -> bool:
        return PROTECT_TAG in self.tags

    def customer(self, known_customers: Iterable[str] = ()) -> str | None:
        """The customer tag: the one tag that names a known customer, else a best guess."""
        known = set(known_customers)
        for tag in self.tags:
            if tag in known:
                return tag
        # Tags are written as [management, customer, plan-*, fp-*, ...].
        return self.tags[1] if len(self.tags) > 1 else None


@dataclasses.dataclass(frozen=True)
class ActualState:
    """What the account holds that matters to one plan."""

    namespace: str
    scripts: Mapping[str, ActualWorker]
    """Managed customer scripts in the namespace, by name."""
    unmanaged: Mapping[str, ActualWorker]
    """Scripts without the management tag whose names the repository declares."""
    workers: Mapping[str, ActualWorker]
    """Regular Workers (dispatcher, outbound) by name, managed or not."""
    tags_from_list: bool
    """False when the list omitted tags and they were read per script."""
    read_calls: int
    namespace_exists: bool = True

    def digest(self) -> str:
        """Identifies what was seen; a saved plan is stale when this changes."""
        h = hashlib.sha256(b"ns" if self.namespace_exists else b"no-ns")
        for label, group in (("s", self.scripts), ("u", self.unmanaged), ("w", self.workers)):
            for name in sorted(group):
                worker = group[name]
                h.update(f"{label}\0{name}\0{int(worker.managed)}\0".encode())
                h.update("\0".join(sorted(worker.tags)).encode() + b"\n")
        return h.hexdigest()


def _tags_or_none(reader: StateReader, namespace: str, name: str) -> tuple[str, ...] | None:
    try:
        return reader.get_script_tags(namespace, name)
    except NotFoundError:
        return None


def _collect(results: Sequence[object], names: Sequence[str]) -> dict[str, tuple[str, ...] | None]:
    out: dict[str, tuple[str, ...] | None] = {}
    for name, result in zip(names, results, strict=True):
        if isinstance(result, WfpError):
            raise result
        out[name] = result if isinstance(result, tuple) else None
    return out


def fetch_actual(
    reader: StateReader,
    *,
    namespace: str,
    management_tag: str,
    declared_scripts: Sequence[str],
    declared_workers: Sequence[str],
) -> ActualState:
    """Read the inventory of the namespace and the regular Workers.

    Args:
        reader: The Cloudflare client (or anything with the same read methods).
        namespace: The dispatch namespace.
        management_tag: Only scripts carrying it are managed.
        declared_scripts: Customer script names the repository declares; those not
            managed are probed so that an unmanaged script is reported as a conflict.
        declared_workers: Regular Worker names (dispatcher and outbound Workers).

    Returns:
        The actual state.
    """
    calls = 0
    managed_filter = [(management_tag, True)]
    listed: list[ScriptInfo] = []
    namespace_exists = True
    try:
        for info in reader.list_scripts(namespace, tags=managed_filter):
            listed.append(info)
    except NotFoundError:
        # A new platform: the namespace is created by apply before anything else.
        namespace_exists = False
    calls += max(1, -(-len(listed) // 1000))
    tags_from_list = all(info.tags is not None for info in listed)
    missing_tags = [info.id for info in listed if info.tags is None]
    fetched: dict[str, tuple[str, ...] | None] = {}
    if missing_tags:
        results = reader.map_concurrent(
            lambda name: _tags_or_none(reader, namespace, name), missing_tags
        )
        fetched = _collect(results, missing_tags)
        calls += len(missing_tags)
    scripts: dict[str, ActualWorker] = {}
    for info in listed:
        tags = info.tags if info.tags is not None else fetched.get(info.id)
        if tags is None:  # deleted between the list and the tags read
            continue
        scripts[info.id] = ActualWorker(info.id, tuple(tags), management_tag in tags)

    unmanaged: dict[str, ActualWorker] = {}
    to_probe = sorted(set(declared_scripts) - set(scripts)) if namespace_exists else []
    if len(to_probe) > _PROBE_LIMIT:
        calls += 1
        for info in reader.list_scripts(namespace, tags=[(management_tag, False)]):
            if info.id in to_probe:
                unmanaged[info.id] = ActualWorker(info.id, tuple(info.tags or ()), False)
    elif to_probe:
        results = reader.map_concurrent(
            lambda name: _tags_or_none(reader, namespace, name), to_probe
        )
        calls += len(to_probe)
        for name, tags in _collect(results, to_probe).items():
            if tags is not None:
                unmanaged[name] = ActualWorker(name, tags, management_tag in tags)

    # Regular Workers live in the account, shared by every platform in it: ours carry
    # the management tag *and* this namespace's tag. Another platform's Worker with a
    # name we declare is a conflict, and one we do not declare is none of our business.
    ns_tag = namespace_tag(namespace)

    def ours(name: str, tags: Sequence[str]) -> bool:
        if management_tag not in tags:
            return False
        if ns_tag in tags:
            return True
        # Deployed before Workers carried a namespace tag: ours only if we declare it and it
        # names no other namespace; the next upload adds the tag. Never deleted on a guess.
        return name in declared_workers and not any(t.startswith(NS_PREFIX) for t in tags)

    workers: dict[str, ActualWorker] = {}
    listed_workers = reader.list_workers()
    calls += 1
    for info in listed_workers:
        if info.tags is not None and (ours(info.id, info.tags) or info.id in declared_workers):
            workers[info.id] = ActualWorker(info.id, tuple(info.tags), ours(info.id, info.tags))
    listed_names = {info.id for info in listed_workers}
    for name in declared_workers:
        if name in workers or name not in listed_names:
            continue
        try:
            tags = reader.get_worker_tags(name)
        except NotFoundError:
            continue
        finally:
            calls += 1
        workers[name] = ActualWorker(name, tags, ours(name, tags))
    return ActualState(
        namespace=namespace,
        scripts=scripts,
        unmanaged=unmanaged,
        workers=workers,
        tags_from_list=tags_from_list,
        read_calls=calls,
        namespace_exists=namespace_exists,
    )
