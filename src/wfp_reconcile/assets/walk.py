"""Reading a script's asset directory through a ``RepoSource`` (work tree or git commit).

The rules are those of modules (``wfp_reconcile.config.files``): the directory is named
relative to the customer directory, without ``..``, absolute paths or symlinks that leave
it, so a customer can never publish another customer's files or the platform's. On top of
that, what wrangler checks before it uploads: Cloudflare's limits (files per script, bytes
per file), ``.assetsignore`` (gitignore syntax), and a Pages ``_worker.js`` that would
publish server code.
"""

from __future__ import annotations

import dataclasses
from pathlib import PurePosixPath

import pathspec

from wfp_reconcile.config.files import check_path_syntax, read_module
from wfp_reconcile.config.source import RepoSource

from .manifest import format_bytes

__all__ = ["ASSETS_IGNORE_FILE", "MAX_ASSET_BYTES", "MAX_ASSET_FILES", "AssetScan", "scan_assets"]

MAX_ASSET_FILES = 100_000
"""Files per script version: ``MAX_ASSET_COUNT`` of wrangler's workers-shared constants
(the older docs page says 20,000, the limit of free plans)."""
MAX_ASSET_BYTES = 25 * 1024 * 1024
"""Bytes per file: ``MAX_ASSET_SIZE`` (25 MiB), as the direct-upload guide says."""
ASSETS_IGNORE_FILE = ".assetsignore"
# Never uploaded (wrangler's createAssetsIgnoreFunction); _headers and _redirects are
# configuration files that wfp-reconcile does not support yet, so they are refused below.
_DEFAULT_IGNORES = (f"/{ASSETS_IGNORE_FILE}", "/_redirects", "/_headers")
_UNSUPPORTED = ("_headers", "_redirects")
_WORKER_JS = "_worker.js"


@dataclasses.dataclass(frozen=True)
class AssetScan:
    """The files of one asset directory, or why they cannot be used."""

    files: tuple[tuple[str, str, bytes], ...]
    """``(url_path, repo_path, content)``, sorted by URL path."""
    problems: tuple[str, ...]


def _directory_problem(raw: str) -> str | None:
    return check_path_syntax(
        raw,
        noun="assets directory",
        base="the customer directory",
        stay="it must stay inside the customer directory",
    )


def _check_directory(source: RepoSource, customer_dir: PurePosixPath, raw: str) -> str | None:
    syntax = _directory_problem(raw)
    if syntax is not None:
        return syntax
    current = customer_dir
    for part in PurePosixPath(raw).parts:
        current = current / part
        kind = source.kind(current)
        if kind == "symlink":
            return f"assets directory '{current}' goes through a symlink; name the real directory"
        if kind == "missing":
            return f"assets directory '{current}' does not exist; create it or fix the path"
        if kind != "dir":
            return f"assets directory '{current}' is not a directory"
    return None


def _walk(
    source: RepoSource, base: PurePosixPath, rel: PurePosixPath, out: list[tuple[str, str]],
    problems: list[str],
) -> None:  # fmt: skip
    for name in source.list_dir(base / rel):
        path = rel / name
        kind = source.kind(base / path)
        if kind == "dir":
            _walk(source, base, path, out, problems)
        elif kind in ("file", "symlink"):
            out.append((str(path), kind))
        else:
            problems.append(f"asset '{base / path}' is not a regular file; remove it")
        if len(out) > MAX_ASSET_FILES:
            return


def _ignore_spec(source: RepoSource, base: PurePosixPath) -> tuple[pathspec.GitIgnoreSpec, bool]:
    patterns = list(_DEFAULT_IGNORES)
    present = source.kind(base / ASSETS_IGNORE_FILE) == "file"
    if present:
        text = source.read_bytes(base / ASSETS_IGNORE_FILE).decode("utf-8", errors="replace")
        patterns += text.splitlines()
    return pathspec.GitIgnoreSpec.from_lines(patterns), present


def _read(
    source: RepoSource, base: PurePosixPath, rel: str, kind: str
) -> tuple[bytes | None, str | None]:
    repo_path = base / rel
    if kind == "symlink":
        # The module reader follows the link and refuses one that leaves the directory.
        result = read_module(source, base, rel)
        if result.error is not None:
            return None, result.error.replace("module '", "asset '", 1)
        assert result.content is not None
        content = result.content
    else:
        size = source.size(repo_path)
        if size > MAX_ASSET_BYTES:
            return None, _too_big(repo_path, size)
        try:
            content = source.read_bytes(repo_path)
        except OSError as exc:
            return None, f"asset '{repo_path}' cannot be read: {exc.strerror or type(exc).__name__}"
    if len(content) > MAX_ASSET_BYTES:
        return None, _too_big(repo_path, len(content))
    return content, None


def _too_big(path: PurePosixPath, size: int) -> str:
    return (
        f"asset '{path}' is {format_bytes(size)}; Cloudflare accepts files of at most "
        f"{format_bytes(MAX_ASSET_BYTES)}: make it smaller or list it in {ASSETS_IGNORE_FILE}"
    )


def scan_assets(source: RepoSource, customer_dir: PurePosixPath, directory: str) -> AssetScan:
    """Every file of ``customer_dir/directory`` that will be uploaded, or the problems.

    Nothing is read when the directory itself is wrong or holds more files than
    Cloudflare accepts (a hostile tree may hold millions).
    """
    problem = _check_directory(source, customer_dir, directory)
    if problem is not None:
        return AssetScan((), (problem,))
    base = customer_dir / directory
    found: list[tuple[str, str]] = []
    problems: list[str] = []
    _walk(source, base, PurePosixPath(), found, problems)
    spec, has_ignore_file = _ignore_spec(source, base)
    kept = [(rel, kind) for rel, kind in found if not spec.match_file(rel)]
    for name in _UNSUPPORTED:
        if any(rel == name for rel, _ in found):
            problems.append(
                f"'{base / name}' is not supported by wfp-reconcile yet (Cloudflare would "
                "apply it as configuration); remove it"
            )
    if not has_ignore_file:
        for rel, _ in kept:
            if rel == _WORKER_JS or rel.startswith(_WORKER_JS + "/"):
                problems.append(
                    f"'{base / rel}' looks like Pages server code and would be public; remove "
                    f"it, or list it in {base / ASSETS_IGNORE_FILE} (an empty "
                    f"{ASSETS_IGNORE_FILE} publishes it)"
                )
                break
    if len(kept) > MAX_ASSET_FILES:
        problems.append(
            f"assets directory '{base}' has more than {MAX_ASSET_FILES:,} files, Cloudflare's "
            f"limit per script; remove files or list them in {ASSETS_IGNORE_FILE}"
        )
        return AssetScan((), tuple(problems))
    files: list[tuple[str, str, bytes]] = []
    for rel, kind in kept:
        content, why = _read(source, base, rel, kind)
        if why is not None:
            problems.append(why)
        elif content is not None:
            files.append(("/" + rel, str(base / rel), content))
    files.sort(key=lambda f: f[0])
    return AssetScan(tuple(files), tuple(problems))
