"""The status page at /_platform/ in a real headless Chromium, on the real local stack:
the example repository applied to the API emulator, served by workerd."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.engine import apply_plan, plan_repo
from wfp_reconcile.local.emulator import EmulatorServer
from wfp_reconcile.local.runtime import RuntimeSettings, run_runtime

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DEMO_TOKEN = "wfp-demo-admin-token"  # the example repository's documented demo token

pytestmark = [
    pytest.mark.workerd,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() or not (HERE / "node_modules" / "playwright-core").exists(),
        reason="Chromium or playwright-core missing: run scripts/install-browser-test",
    ),
]


@pytest.fixture
def dispatcher_url(emulator: EmulatorServer, emulator_client: CloudflareClient) -> Iterator[str]:
    repo = load_repo_dir(ROOT, env={})
    emulator_client.ensure_namespace(repo.platform.namespace)
    planned = plan_repo(repo, emulator_client)
    result = apply_plan(planned.plan, repo, emulator_client, allow_deletes=None, verify_state=False)
    assert result.ok, result.failed
    settings = RuntimeSettings(
        emulator_url=emulator.url,
        account_id=repo.platform.account_id,
        dispatcher_name=repo.platform.dispatcher.name,
        port=0,
        default_compat_date=repo.platform.compatibility_date,
    )
    with run_runtime(settings) as runtime:
        yield runtime.url


def browse(base: str) -> dict[str, Any]:
    args = {"base": base, "token": DEMO_TOKEN, "script": "basic-hello", "chromium": CHROMIUM}
    done = subprocess.run(
        ["node", str(HERE / "browse.mjs"), json.dumps(args)],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen


def test_status_page_in_headless_chromium(dispatcher_url: str) -> None:
    seen = browse(dispatcher_url)
    repo = load_repo_dir(ROOT, env={})

    # Refused without the token, and with a wrong one.
    assert seen["without_token"]["status"] == 401
    assert "token" in seen["without_token"]["text"].lower()
    assert seen["wrong_token"]["status"] == 403

    # With it: the token leaves the URL for an HttpOnly cookie, and the page renders.
    page = seen["with_token"]
    assert page["status"] == 200
    assert page["url"] == f"{dispatcher_url}/_platform/"
    assert page["title"] == "Platform status"
    assert seen["cookie"] == [{"httpOnly": True, "path": "/_platform", "sameSite": "Strict"}]
    declared = sorted(name for c in repo.customers for name in c.scripts)
    assert sorted(row["name"] for row in page["scripts"]) == declared
    assert all(row["href"] == f"/{row['name']}/" for row in page["scripts"])
    assert sorted(page["customers"]) == sorted(c.id for c in repo.customers)
    assert page["commit"] == "(work tree)"

    # Never a token hash, neither customers' nor the admin's.
    hashes = [t.sha256 for c in repo.customers for t in c.tokens]
    hashes.append(hashlib.sha256(DEMO_TOKEN.encode()).hexdigest())
    assert not [h for h in hashes if h in page["html"]]
    assert DEMO_TOKEN not in page["html"]

    # A link reaches the customer's script.
    assert seen["clicked"]["url"] == f"{dispatcher_url}/basic-hello/"
    assert seen["clicked"]["text"] == "Hello! This module is provided by the platform"

    # Customer code on the same origin cannot read the page with the admin's cookie.
    assert seen["same_origin_fetch"]["status"] == 401
    assert "basic-hello" not in seen["same_origin_fetch"]["body"]

    # Back on the page, the cookie still works; a new browser profile has none.
    assert seen["back"]["status"] == 200 and seen["back"]["rows"] == len(declared)
    assert seen["fresh_context"]["status"] == 401
