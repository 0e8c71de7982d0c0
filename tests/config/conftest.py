from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

PLATFORM_YAML = """\
account_id: "0123456789abcdef0123456789abcdef"
namespace: test-ns
compatibility_date: "2024-09-23"
platform_modules:
  - platform/platform_module.mjs
outbound_workers:
  egress:
    main_module: platform/egress.mjs
    parameters:
      - allow_hosts
default_limits:
  cpu_ms: 50
max_bundle_bytes: 1000
"""

ALPHA_TOKEN_SHA = hashlib.sha256(b"alpha-demo").hexdigest()

ALPHA_YAML = f"""\
id: alpha
name: Alpha
plan: basic
tokens:
  - name: ci
    sha256: {ALPHA_TOKEN_SHA}
outbound:
  worker: egress
  params:
    allow_hosts: [a.example]
scripts:
  alpha-hello:
    main_module: hello.mjs
"""

BETA_YAML = """\
id: beta
name: Beta
plan: advanced
scripts:
  beta-hello:
    main_module: hello.mjs
"""

SMALL_SCRIPT = 'export default { fetch() { return new Response("hi"); } };\n'


def write_repo(root: Path) -> Path:
    """A small valid platform repository: two customers, one outbound Worker."""
    files = {
        "platform.yaml": PLATFORM_YAML,
        "platform/platform_module.mjs": "export const platformThing = 1;\n",
        "platform/egress.mjs": "export default { fetch(r) { return fetch(r); } };\n",
        "customers/alpha/customer.yaml": ALPHA_YAML,
        "customers/alpha/hello.mjs": SMALL_SCRIPT,
        "customers/beta/customer.yaml": BETA_YAML,
        "customers/beta/hello.mjs": SMALL_SCRIPT,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry under ``root``: file bytes, symlink targets and directories."""
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[key] = f"-> {path.readlink()}"
        elif path.is_dir():
            out[key] = "<dir>"
        else:
            out[key] = path.read_bytes()
    return out


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def unset(name: str) -> None:
        monkeypatch.delenv(name, raising=False)

    return unset
