"""A small platform repository with custom hostnames, written to disk for each test."""

from __future__ import annotations

from pathlib import Path

import pytest

ZONE = "023e105f4ecef8ad9ca31a8372d0c353"

PLATFORM_YAML = f"""\
account_id: "0123456789abcdef0123456789abcdef"
namespace: test-ns
compatibility_date: "2024-09-23"
dispatcher:
  routing: host
  domain: apps.platform.example
custom_hostnames:
  zone_id: "{ZONE}"
  zone_name: platform.example
  fallback_origin: customers.platform.example
  ssl:
    method: txt
    min_tls_version: "1.2"
"""

ALPHA_YAML = """\
id: alpha
name: Alpha
plan: basic
scripts:
  alpha-shop:
    main_module: shop.mjs
  alpha-blog:
    main_module: shop.mjs
hostnames:
  shop.example.com: alpha-shop
"""

BETA_YAML = """\
id: beta
name: Beta
plan: basic
scripts:
  beta-site:
    main_module: shop.mjs
"""

SCRIPT = 'export default { fetch(r) { return new Response("shop " + new URL(r.url).host); } };\n'


def write_repo(root: Path) -> Path:
    files = {
        "platform.yaml": PLATFORM_YAML,
        "customers/alpha/customer.yaml": ALPHA_YAML,
        "customers/alpha/shop.mjs": SCRIPT,
        "customers/beta/customer.yaml": BETA_YAML,
        "customers/beta/shop.mjs": SCRIPT,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo")


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
