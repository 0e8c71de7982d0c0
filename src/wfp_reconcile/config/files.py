"""Module paths: where they may point, and reading them through a ``RepoSource``.

A path in the YAML names a file relative to a base directory (the customer's
directory for scripts, the repository root for platform code). It must stay
inside that base even through symlinks: a customer must not be able to upload
another customer's code or the platform's secrets by linking to them.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import PurePosixPath

from .source import EntryKind, Regular, RepoSource

__all__ = ["MAX_MODULE_BYTES", "KindCache", "ModuleRead", "check_path_syntax", "read_module"]

_MAX_LINK_HOPS = 20
MAX_MODULE_BYTES = 64 * 1024 * 1024
"""Far above Cloudflare's bundle limits; ``max_bundle_bytes`` is the real check."""


@dataclasses.dataclass(frozen=True)
class ModuleRead:
    """The outcome of reading one module: its bytes, or why it cannot be used."""

    path: str
    """Repository-relative path as declared (the key in ``PlatformRepo.files``)."""
    content: bytes | None
    error: str | None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NAME_MAX = 255
"""Bytes in one file name (ext4, APFS, XFS); a UTF-8 character has at most 4."""


def check_path_syntax(
    raw: str,
    *,
    noun: str = "module path",
    base: str = "its directory",
    stay: str = "modules must stay inside their directory",
) -> str | None:
    """Why ``raw`` is not an acceptable relative path, or None.

    One rule for every path a customer declares (modules, an assets directory); ``noun``,
    ``base`` and ``stay`` only word the message.
    """
    control = _CONTROL.search(raw)
    if control is not None:
        # A NUL cannot reach the file system at all (it raised from os.lstat) and no other
        # control character belongs in a file name; shown escaped, not written raw.
        shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", raw)
        return (
            f"{noun} '{shown}' contains the control character "
            f"\\x{ord(control.group()):02x}; name files with printable characters only"
        )
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        return f"{noun} '{raw}' is absolute; write it relative to {base}"
    if "\\" in raw:
        return f"{noun} '{raw}' contains '\\'; use '/' between directories"
    parts = raw.split("/")
    if ".." in parts:
        return f"{noun} '{raw}' contains '..'; {stay}"
    if any(part in ("", ".") for part in parts):
        return f"{noun} '{raw}' is not normalized; write it without './', '//' or a trailing '/'"
    if len(raw) > _NAME_MAX // 4 and any(len(part.encode()) > _NAME_MAX for part in parts):
        # The work tree's file system refuses such a name (ENAMETOOLONG) where a git tree
        # just has no entry: one answer for both.
        return f"{noun} '{raw}' has a name longer than {_NAME_MAX} bytes; shorten it"
    return None


KindCache = dict[tuple[str, ...], tuple[EntryKind, PurePosixPath]]
"""What ``RepoSource.kind`` said per path during one load, with the path object it was
asked with: the customer directories are on the way to every module, and asking again
for each of 10,000 modules cost a third of the loading time."""


def _resolve(
    source: RepoSource,
    parts: tuple[str, ...],
    base: PurePosixPath,
    kinds: KindCache,
) -> tuple[PurePosixPath | None, str | None]:
    """Follow symlinks component by component; the result must be a file inside ``base``."""
    pending = list(parts)
    current: list[str] = []
    hops = 0
    path = PurePosixPath()
    while pending:
        part = pending.pop(0)
        key = (*current, part)
        known = kinds.get(key)
        if known is None:
            asked = PurePosixPath(*key)
            known = kinds[key] = (source.kind(asked), asked)
        kind, path = known
        if kind == "symlink":
            hops += 1
            if hops > _MAX_LINK_HOPS:
                return None, "is a symlink loop"
            target = source.read_link(path)
            if target.startswith("/"):
                return None, f"is a symlink to '{target}', outside {base}/"
            combined: list[str] = list(current)
            for step in PurePosixPath(target).parts:
                if step == "..":
                    if not combined:
                        return None, f"is a symlink to '{target}', outside {base}/"
                    combined.pop()
                elif step != ".":
                    combined.append(step)
            # Re-walk from the root so links inside the target are followed too.
            pending = combined + pending
            current = []
            path = PurePosixPath()
            continue
        if kind == "missing" or (kind == "file" and pending):
            return None, "does not exist"
        if kind == "dir" and not pending:
            return None, "is a directory, not a file"
        if kind == "other":
            return None, "is not a regular file"
        current.append(part)
    # ``path`` names ``current``: the walk ends on a component it just appended, or on a
    # link that led back to the root.
    if base.parts and path.parts[: len(base.parts)] != base.parts:
        return None, f"is a symlink that leaves {base}/"
    return path, None


def _plain_dirs(source: RepoSource, dirs: tuple[str, ...], kinds: KindCache) -> bool:
    """Whether every prefix of ``dirs`` is a directory (no symlink on the way)."""
    for end in range(1, len(dirs) + 1):
        key = dirs[:end]
        known = kinds.get(key)
        if known is None:
            asked = PurePosixPath(*key)
            known = kinds[key] = (source.kind(asked), asked)
        if known[0] != "dir":
            return False
    return True


def _too_large(declared: str, size: int) -> ModuleRead:
    return ModuleRead(
        declared,
        None,
        f"module '{declared}' is {size} bytes, more than any Worker may upload "
        f"({MAX_MODULE_BYTES} bytes); make it smaller",
    )


def _outcome(declared: str, found: Regular) -> ModuleRead:
    """The module declared as ``declared``, read as ``found``."""
    if found.content is None:
        # Not read: a hostile tree may hold a file of many gigabytes.
        return _too_large(declared, found.size)
    if not found.content:
        return ModuleRead(declared, None, f"module '{declared}' is empty")
    return ModuleRead(declared, found.content, None)


def read_module(
    source: RepoSource, base: PurePosixPath, raw: str, kinds: KindCache | None = None
) -> ModuleRead:
    """Read the module ``raw`` (relative to ``base``) or say why it cannot be used.

    ``kinds`` may be shared by the reads of one load, which then asks the source about
    each directory once.
    """
    syntax = check_path_syntax(raw)
    if syntax is not None:
        return ModuleRead(str(base / raw) if base.parts else raw, None, syntax)
    # A normalized relative path (checked above): its parts are its '/'-separated names.
    parts = (*base.parts, *raw.split("/"))
    declared = "/".join(parts)
    kinds = {} if kinds is None else kinds
    try:
        # Nearly every module is a regular file below plain directories: one read of the
        # declared path then decides, and only links and mistakes take the walk below.
        if _plain_dirs(source, parts[:-1], kinds):
            found = source.read_regular(declared, MAX_MODULE_BYTES)
            if found is not None:
                return _outcome(declared, found)
        resolved, why = _resolve(source, parts, base, kinds)
        if resolved is None:
            return ModuleRead(declared, None, f"module '{declared}' {why}")
        # The link's target, read as the declared path is (a link to a link is walked).
        found = source.read_regular(str(resolved), MAX_MODULE_BYTES)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return ModuleRead(declared, None, f"module '{declared}' cannot be read: {reason}")
    if found is None:
        # Changed under the walk (a file swapped for something else): not read.
        return ModuleRead(declared, None, f"module '{declared}' is not a regular file")
    return _outcome(declared, found)
