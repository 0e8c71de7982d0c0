"""Smoke requests (``preflight: {path, expect}``) go through the generated dispatcher in
workerd, with the customer's outbound Worker in front of the script's fetch()."""

from __future__ import annotations

from pathlib import Path

import pytest

from wfp_reconcile.preflight import Reason
from wfp_reconcile.preflight.smoke import run_smoke, smoke_checks

from .conftest import load, requires_node, write_repo

pytestmark = [requires_node, pytest.mark.workerd]

OUTBOUND = """
export default {
  fetch(request, env) {
    return Response.json({ via: "egress", tier: env.tier ?? null });
  },
};
"""

APP = """
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/healthz")) {
      const upstream = await fetch("https://api.example.com/");
      const body = await upstream.json();
      const ok = body.via === "egress" && body.tier === "gold";
      return new Response("ok", { status: ok ? 200 : 500 });
    }
    return new Response("missing", { status: 404 });
  },
};
"""


def test_smoke_requests_through_the_dispatcher_and_the_outbound_worker(tmp_path: Path) -> None:
    root = write_repo(
        tmp_path,
        {
            "healthy": {"main_module": "app.mjs", "preflight": {"path": "/healthz"}},
            "wrong": {"main_module": "app.mjs", "preflight": {"path": "/other", "expect": 200}},
            "plain": {"main_module": "app.mjs"},
        },
        {"app.mjs": APP},
        platform={
            "outbound_workers": {
                "egress": {"main_module": "platform/egress.mjs", "parameters": ["tier"]}
            }
        },
        customer_doc={"outbound": {"worker": "egress", "params": {"tier": "gold"}}},
    )
    (root / "platform" / "egress.mjs").write_text(OUTBOUND)
    repo = load(root)
    checks = smoke_checks(repo)
    assert [(c.script, c.path, c.expect) for c in checks] == [
        ("healthy", "/healthz", 200),
        ("wrong", "/other", 200),
    ]
    findings = run_smoke(repo, checks)
    assert [(f.name, f.reason, f.path) for f in findings] == [
        ("wrong", Reason.SMOKE, "customers/acme/customer.yaml")
    ]
    assert "answered 404, expected 200" in findings[0].message


def test_a_bad_smoke_request_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    from wfp_reconcile.errors import ConfigError

    root = write_repo(
        tmp_path,
        {"app": {"main_module": "app.mjs", "preflight": {"path": "healthz", "expect": 99}}},
        {"app.mjs": APP},
    )
    with pytest.raises(ConfigError) as caught:
        load(root)
    problems = [(p.path, p.line) for p in caught.value.problems]
    assert len(problems) == 2
    assert all(path == "customers/acme/customer.yaml" and line > 0 for path, line in problems)
    text = " ".join(p.message for p in caught.value.problems)
    assert "path" in text and "expect" in text
