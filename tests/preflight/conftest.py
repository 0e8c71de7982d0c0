"""One pre-flight workerd for the whole test session, and small platform repositories."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import yaml

from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.preflight import PreflightSession

requires_node = pytest.mark.skipif(
    shutil.which("node") is None, reason="Node.js is not installed (CI installs it)"
)
__all__ = ["requires_node", "write_repo"]

HELLO = "export default { fetch() { return new Response('hello'); } };\n"
ACCOUNT = "0123456789abcdef0123456789abcdef"


def write_repo(
    root: Path,
    scripts: Mapping[str, Mapping[str, object]],
    files: Mapping[str, str],
    *,
    platform: Mapping[str, object] | None = None,
    customer_doc: Mapping[str, object] | None = None,
) -> Path:
    """A platform with one customer ``acme`` whose scripts are ``scripts`` (customer.yaml
    entries) and whose files are ``files`` (paths under customers/acme/)."""
    doc = {
        "account_id": ACCOUNT,
        "namespace": "preflight-test",
        "compatibility_date": "2024-09-23",
        "platform_modules": ["platform/platform_module.mjs"],
        "dispatcher": {"name": "pf-dispatcher"},
        **(platform or {}),
    }
    (root / "platform").mkdir(parents=True, exist_ok=True)
    (root / "platform.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    (root / "platform" / "platform_module.mjs").write_text("export const platformThing = 1;\n")
    customer = root / "customers" / "acme"
    customer.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (customer / name).parent.mkdir(parents=True, exist_ok=True)
        (customer / name).write_text(text)
    body = {"id": "acme", "name": "Acme", "plan": "basic", **(customer_doc or {})}
    body["scripts"] = dict(scripts)
    (customer / "customer.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
    return root


def load(root: Path) -> PlatformRepo:
    return load_repo_dir(root, env={})


@pytest.fixture(scope="session")
def preflight_session() -> Iterator[PreflightSession]:
    """workerd starts once per test session: start-up is the expensive part."""
    with PreflightSession() as session:
        yield session
