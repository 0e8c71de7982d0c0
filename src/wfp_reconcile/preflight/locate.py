"""workerd's message -> a finding at ``path:line:col`` in the repository (pure).

workerd names modules by their names in the bundle (``index.mjs:3:1``); a bundle's module
table maps those names back to repository files. An unresolved import has no position in
workerd's message, so the import's specifier is found in the importing module's source.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections.abc import Mapping

from wfp_reconcile.local.runtime.preflight_process import DEFAULT_MEMORY_MB, MEMORY_ENV
from wfp_reconcile.quoting import one_line

from .model import Finding, Reason

__all__ = ["ModuleSource", "WorkerRef", "locate_failure", "missing_handler"]

_AT = re.compile(r"^\s*at (?:.*\()?(?P<module>[^\s():]+):(?P<line>\d+)(?::(?P<col>\d+))?\)?\s*$")
_NO_SUCH = re.compile(
    r'No such module "(?P<missing>[^"]+)"\.\s*imported from "(?P<importer>[^"]+)"'
)
_SPECIFIER = re.compile(r"""(?P<q>["'`])(?P<spec>[^"'`\n]+)(?P=q)""")
_NODE_BUILTINS = frozenset(
    "assert async_hooks buffer child_process cluster console constants crypto dgram "
    "diagnostics_channel dns domain events fs http http2 https inspector module net os path "
    "perf_hooks process punycode querystring readline repl stream string_decoder sys timers "
    "tls trace_events tty url util v8 vm wasi worker_threads zlib".split()
)
_NODE_FLAGS = ("nodejs_compat", "nodejs_compat_v2", "nodejs_als")


@dataclasses.dataclass(frozen=True)
class ModuleSource:
    """A bundle module: where it lives in the repository and its bytes."""

    path: str
    content: bytes


@dataclasses.dataclass(frozen=True)
class WorkerRef:
    """The Worker a finding belongs to, and where its configuration is declared."""

    kind: str
    name: str
    customer: str | None
    config_path: str
    """The YAML file that declares the Worker (flags, modules)."""
    main_module: str
    compatibility_flags: tuple[str, ...]


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _resolves_to(importer: str, specifier: str, missing: str) -> bool:
    if specifier == missing:
        return True
    if specifier.startswith(("./", "../")):
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))
        return joined == missing
    return False


def _find_specifier(source: bytes, importer: str, missing: str) -> tuple[int, int]:
    text = source.decode("utf-8", errors="replace")
    for match in _SPECIFIER.finditer(text):
        if _resolves_to(importer, match.group("spec"), missing):
            return _position(text, match.start())
    return 0, 0


def _is_node_builtin(name: str) -> bool:
    bare = name.removeprefix("node:")
    return name.startswith("node:") or bare.split("/")[0] in _NODE_BUILTINS


_NO_MEMORY = re.compile(r"allocation failed|could not allocate|out of memory", re.IGNORECASE)
"""V8's words for an allocation refused (array buffers, WebAssembly memories, the heap)."""


def _headline(message: str) -> str:
    lines = [line for line in message.splitlines() if line.strip()]
    kept = [line.strip() for line in lines if not _AT.match(line)]
    return " ".join(kept) if kept else message.strip()


def locate_failure(
    worker: WorkerRef, stage: str, message: str, modules: Mapping[str, ModuleSource]
) -> Finding:
    """The finding for a Worker workerd refused to load or start.

    Args:
        worker: The Worker and its declared configuration.
        stage: ``startup`` (the code failed) or ``load`` (workerd refused the configuration).
        message: workerd's message without its "Failed to start Worker:" prefix.
        modules: bundle module name -> its repository file.
    """

    def finding(path: str, line: int, column: int, reason: Reason, text: str) -> Finding:
        # The message is the customer's own (a thrown error's): it is printed in the
        # report and in apply's summary, so it must not start lines of its own there.
        return Finding(
            kind=worker.kind,
            name=worker.name,
            customer=worker.customer,
            path=path,
            line=line,
            column=column,
            reason=reason,
            message=one_line(text),
        )

    if stage != "startup":
        return finding(worker.config_path, 0, 0, Reason.CONFIG, message.strip())
    no_such = _NO_SUCH.search(message)
    if no_such:
        missing, importer = no_such.group("missing"), no_such.group("importer")
        source = modules.get(importer)
        path = source.path if source else worker.config_path
        line, column = _find_specifier(source.content, importer, missing) if source else (0, 0)
        headline = _headline(message)
        if _is_node_builtin(missing) and not set(_NODE_FLAGS) & set(worker.compatibility_flags):
            hint = (
                f"'{missing}' is a Node.js module: add the compatibility flag nodejs_compat "
                f"to compatibility_flags in {worker.config_path} (and import it as "
                f"'node:{missing.removeprefix('node:')}')."
            )
            return finding(path, line, column, Reason.COMPAT, f"{headline} {hint}")
        hint = (
            f"'{missing}' is not in the bundle: fix the import, or list the file under "
            f"modules: in {worker.config_path}."
        )
        return finding(path, line, column, Reason.IMPORT, f"{headline} {hint}")
    headline = _headline(message)
    if _NO_MEMORY.search(headline):
        # Over pre-flight's memory cap (local.runtime.preflight_process): far over the
        # 128 MB Cloudflare gives an isolate, which would fail the same code there.
        headline = (
            f"{headline} Cloudflare gives a Worker's isolate 128 MB of memory: allocate "
            f"less in the global scope (pre-flight caps its runtime at {MEMORY_ENV}, "
            f"{DEFAULT_MEMORY_MB} MB by default)."
        )
    reason = Reason.STARTUP
    if "SyntaxError" in headline:
        reason = Reason.IMPORT if "does not provide an export" in headline else Reason.SYNTAX
    for raw in message.splitlines():
        at = _AT.match(raw)
        if at and at.group("module") in modules:
            source = modules[at.group("module")]
            column = int(at.group("col") or 0)
            # workerd prints a compile error's column as V8 keeps it (0-based); stack
            # frames of thrown errors are 1-based, like editors' columns.
            if "SyntaxError" in headline and at.group("col"):
                column += 1
            return finding(source.path, int(at.group("line")), column, reason, headline)
    main = modules.get(worker.main_module)
    if "Incorrect type for map entry" in headline and main is not None:
        name = re.search(r"map entry '([^']+)'", headline)
        line, column = (0, 0)
        if name:
            line, column = _find_export(main.content, name.group(1))
        hint = "Every named export of the main module must be a class or an object of handlers."
        return finding(main.path, line, column, Reason.ENTRY, f"{headline} {hint}")
    return finding(main.path if main else worker.config_path, 0, 0, reason, headline)


def _find_export(source: bytes, name: str) -> tuple[int, int]:
    text = source.decode("utf-8", errors="replace")
    declared = r"(?:const|let|var|function\*?|class|async\s+function)"
    match = re.search(rf"\bexport\s+{declared}\s+{re.escape(name)}\b", text)
    if match is None:
        match = re.search(rf"\bexport\s*\{{[^}}]*\b{re.escape(name)}\b", text)
    return _position(text, match.start()) if match else (0, 0)


# The handler each kind of Worker must export: the dispatcher calls a customer script's
# fetch(), an outbound Worker intercepts fetch(), a tail Worker receives tail() events.
_NEEDED = {"script": "fetch", "outbound": "fetch", "dispatcher": "fetch", "tail": "tail"}


def missing_handler(
    worker: WorkerRef, has_default: bool, handlers: tuple[str, ...], main: ModuleSource | None
) -> Finding | None:
    """A finding when the main module lacks the default export the Worker's kind needs."""
    needed = _NEEDED.get(worker.kind, "fetch")
    if has_default and needed in handlers:
        return None
    path = main.path if main else worker.config_path
    if not has_default:
        text = (
            f"The main module {worker.main_module} has no default export: Cloudflare rejects "
            "the upload (no registered event handlers). Add `export default { "
            f"{needed}(...) {{ ... }} }}`."
        )
    else:
        text = (
            f"The default export of {worker.main_module} has no {needed}() handler, which a "
            f"{worker.kind} Worker needs (it has: {', '.join(handlers) or 'none'})."
        )
    return Finding(
        kind=worker.kind,
        name=worker.name,
        customer=worker.customer,
        path=path,
        line=0,
        column=0,
        reason=Reason.ENTRY,
        message=text,
    )
