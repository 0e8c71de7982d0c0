"""A small platform repository with one customer site, written fresh for each test."""

from __future__ import annotations

from pathlib import Path

import pytest

PLATFORM_YAML = """\
account_id: "0123456789abcdef0123456789abcdef"
namespace: test-ns
compatibility_date: "2025-04-01"
"""

SITE_YAML = """\
id: shop
name: Shop
plan: basic
scripts:
  shop-site:
    main_module: worker.mjs
    assets:
      directory: public
      binding: ASSETS
      not_found_handling: 404-page
"""

OTHER_YAML = """\
id: other
name: Other
plan: basic
scripts:
  other-site:
    main_module: worker.mjs
    assets:
      directory: public
"""

WORKER = """\
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/api/hello")) return Response.json({ hello: "from the worker" });
    return env.ASSETS ? env.ASSETS.fetch(request) : new Response("no assets", { status: 500 });
  },
};
"""


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def site_repo(root: Path) -> Path:
    write(
        root,
        {
            "platform.yaml": PLATFORM_YAML,
            "customers/shop/customer.yaml": SITE_YAML,
            "customers/shop/worker.mjs": WORKER,
            "customers/shop/public/index.html": "<h1>Shop</h1>\n",
            "customers/shop/public/style.css": "h1 { color: teal; }\n",
            "customers/shop/public/404.html": "<h1>Not here</h1>\n",
            "customers/shop/public/docs/index.html": "<h1>Docs</h1>\n",
            "customers/other/customer.yaml": OTHER_YAML,
            "customers/other/worker.mjs": WORKER,
            "customers/other/public/style.css": "h1 { color: teal; }\n",
        },
    )
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return site_repo(tmp_path / "repo")
