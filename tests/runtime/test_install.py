"""Finding Node.js and installing the pinned runtime packages."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from wfp_reconcile.errors import RuntimeSetupError
from wfp_reconcile.local.runtime import default_cache_root, ensure_installed, find_node
from wfp_reconcile.local.runtime.install import install_dir, runtime_file


def _fake_executable(directory: Path, name: str, script: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_missing_node_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(RuntimeSetupError, match=r"Node\.js was not found.*Node\.js 20 or newer"):
        find_node({"PATH": str(tmp_path)})


def test_old_node_is_refused_with_its_version(tmp_path: Path) -> None:
    _fake_executable(tmp_path, "node", "echo v18.19.0")
    with pytest.raises(RuntimeSetupError, match=r"v18\.19\.0 is too old"):
        find_node({"PATH": str(tmp_path)})


def test_missing_npm_is_reported_before_installing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_executable(tmp_path / "bin", "node", "echo v20.1.0")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(RuntimeSetupError, match="npm was not found"):
        ensure_installed(tmp_path / "cache")


def test_failed_npm_ci_names_the_problem_and_leaves_no_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_executable(tmp_path / "bin", "node", "echo v20.1.0")
    _fake_executable(tmp_path / "bin", "npm", "echo 'npm error network unreachable' >&2; exit 1")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(RuntimeSetupError, match="network unreachable"):
        ensure_installed(tmp_path / "cache")
    assert not install_dir(tmp_path / "cache").exists()


def test_cache_dir_follows_env_and_lock_hash(tmp_path: Path) -> None:
    assert default_cache_root({"WFP_RUNTIME_CACHE": str(tmp_path)}) == tmp_path
    assert default_cache_root({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "wfp-reconcile"
    assert install_dir(tmp_path).name.startswith("runtime-")


def test_runtime_packages_are_pinned_exactly() -> None:
    package = json.loads(runtime_file("package.json").read_text())
    lock = json.loads(runtime_file("package-lock.json").read_text())
    for name, version in package["dependencies"].items():
        assert version[0].isdigit(), f"{name} must be pinned to an exact version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert all("integrity" in p for k, p in lock["packages"].items() if k)


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_installed_runtime_is_reused() -> None:
    first = ensure_installed()
    assert (first / "node_modules" / "miniflare").is_dir()
    assert ensure_installed() == first
