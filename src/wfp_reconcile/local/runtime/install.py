"""Node.js discovery and the one-time ``npm ci`` of the pinned runtime packages.

The packages go to a cache directory named after the hash of the committed lock file, so
a new lock means a fresh install and concurrent runs never share a half-written tree.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path

from wfp_reconcile.errors import RuntimeSetupError

__all__ = [
    "MIN_NODE_MAJOR",
    "PACKAGE_FILES",
    "default_cache_root",
    "ensure_installed",
    "find_node",
    "install_dir",
    "install_lock",
    "runtime_file",
]

MIN_NODE_MAJOR = 20
PACKAGE_FILES = ("package.json", "package-lock.json")
_MARKER = ".wfp-installed"
_NODE_HELP = (
    "The local Workers runtime needs Node.js {min} or newer with npm "
    "(https://nodejs.org/ or your system's package manager)."
)


def runtime_file(name: str) -> Path:
    """Path of a file shipped in this package directory (launcher, worker, lock)."""
    return Path(str(resources.files("wfp_reconcile.local.runtime").joinpath(name)))


def find_node(env: Mapping[str, str] | None = None) -> Path:
    """The ``node`` executable, checked to be new enough."""
    path_var = (env or os.environ).get("PATH")
    node = shutil.which("node", path=path_var)
    if node is None:
        raise RuntimeSetupError("Node.js was not found on PATH. " + _help())
    try:
        out = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise RuntimeSetupError(f"Could not run '{node} --version' ({exc}). " + _help())
    match = re.match(r"v(\d+)\.", out.strip())
    if match is None or int(match.group(1)) < MIN_NODE_MAJOR:
        raise RuntimeSetupError(f"Node.js {out.strip() or '(unknown)'} is too old. " + _help())
    return Path(node)


def _help() -> str:
    return _NODE_HELP.format(min=MIN_NODE_MAJOR)


def _lock_hash() -> str:
    digest = hashlib.sha256()
    for name in PACKAGE_FILES:
        digest.update(runtime_file(name).read_bytes())
    return digest.hexdigest()[:16]


def default_cache_root(env: Mapping[str, str] | None = None) -> Path:
    """``$WFP_RUNTIME_CACHE``, else ``$XDG_CACHE_HOME/wfp-reconcile`` (``~/.cache/...``)."""
    env = os.environ if env is None else env
    if env.get("WFP_RUNTIME_CACHE"):
        return Path(env["WFP_RUNTIME_CACHE"]).expanduser()
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "wfp-reconcile"


def install_dir(cache_root: Path | None = None) -> Path:
    """Where the packages for the committed lock file are (or will be) installed."""
    return (cache_root or default_cache_root()) / f"runtime-{_lock_hash()}"


def _is_installed(target: Path) -> bool:
    return (target / _MARKER).is_file() and (target / "node_modules" / "miniflare").is_dir()


@contextlib.contextmanager
def install_lock(root: Path) -> Iterator[None]:
    """One installer at a time below ``root`` (parallel test workers, CI and dev)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".install.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_installed(cache_root: Path | None = None, *, timeout: float = 900) -> Path:
    """Install the pinned npm packages once (``npm ci``) and return their directory."""
    target = install_dir(cache_root)
    if _is_installed(target):
        return target
    find_node()
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeSetupError("npm was not found on PATH. " + _help())
    with install_lock(target.parent):
        if _is_installed(target):
            return target
        staging = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in PACKAGE_FILES:
            shutil.copyfile(runtime_file(name), staging / name)
        # Install scripts are not needed (workerd's binary comes from an optional dependency)
        # and running none keeps the install from executing package code.
        command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--omit=dev"]
        try:
            result = subprocess.run(
                command, cwd=staging, capture_output=True, text=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise RuntimeSetupError(f"'npm ci' for the local runtime did not finish: {exc}.")
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
            raise RuntimeSetupError(
                f"'npm ci' for the local runtime failed (exit {result.returncode}) in "
                f"{staging}:\n{tail}\nCheck network access to your npm registry, or set "
                "WFP_RUNTIME_CACHE to a directory with a finished install."
            )
        (staging / _MARKER).write_text("ok\n")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target
