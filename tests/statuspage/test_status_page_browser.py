"""The status page at /_platform/ in a real headless Chromium, on the real local stack:
the example repository applied to the API emulator, served by workerd."""

from __future__ import annotations

import dataclasses
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
from wfp_reconcile.config.model import Access, Customer, PlatformRepo, Script
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


def with_mallory(repo: PlatformRepo) -> PlatformRepo:
    """The example repository plus a hostile customer whose script is mallory.mjs."""
    mallory = Customer(
        id="mallory",
        name="Mallory",
        plan="free",
        scripts={MALLORY_SCRIPT: Script(main_module="mallory.mjs", access=Access.PUBLIC)},
    )
    files = {**repo.files, "customers/mallory/mallory.mjs": (HERE / "mallory.mjs").read_bytes()}
    return dataclasses.replace(repo, customers=(*repo.customers, mallory), files=files)


MALLORY_SCRIPT = "mallory"


@pytest.fixture
def dispatcher_url(emulator: EmulatorServer, emulator_client: CloudflareClient) -> Iterator[str]:
    repo = with_mallory(load_repo_dir(ROOT, env={}))
    emulator_client.ensure_namespace(repo.platform.namespace)
    planned = plan_repo(repo, emulator_client)
    result = apply_plan(planned.plan, repo, emulator_client, allow_deletes=None, verify_state=False)
    assert result.ok, result.failed
    settings = RuntimeSettings(
        emulator_url=emulator.url,
        emulator_secret=emulator.internal_secret,
        account_id=repo.platform.account_id,
        dispatcher_name=repo.platform.dispatcher.name,
        port=0,
        default_compat_date=repo.platform.compatibility_date,
    )
    with run_runtime(settings) as runtime:
        yield runtime.url


def browse(base: str, driver: str = "browse.mjs") -> dict[str, Any]:
    args = {
        "base": base,
        "token": DEMO_TOKEN,
        "script": MALLORY_SCRIPT if driver == "attack.mjs" else "basic-hello",
        "victim": "basic-hello",
        "chromium": CHROMIUM,
    }
    done = subprocess.run(
        ["node", str(HERE / driver), json.dumps(args)],
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
    repo = with_mallory(load_repo_dir(ROOT, env={}))

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


def test_same_origin_customer_code_cannot_reach_the_status_page(dispatcher_url: str) -> None:
    seen = browse(dispatcher_url, "attack.mjs")
    assert seen["login"]["status"] == 200
    assert seen["customer_page"]["status"] == 200

    # No service worker, neither for the whole origin nor for the script's own path.
    assert seen["registrations"] == ["refused", "refused"]
    assert seen["registered"] == []

    # A popup of the status page is cut off from the customer page that opened it, even
    # though that page asked for the same opener policy; fetch() gets no page either.
    assert seen["popup"] in ("blocked", "closed"), seen["popup"]
    assert seen["fetch"]["status"] == 401
    assert "basic-hello" not in seen["fetch"]["body"]

    # Planted wfp_admin cookies: none from response headers, and the script's own does not
    # lock the admin out.
    declared = sum(len(c.scripts) for c in with_mallory(load_repo_dir(ROOT, env={})).customers)
    assert seen["admin_again"] == {"status": 200, "title": "Platform status", "rows": declared}
    admin_cookies = [c for c in seen["cookies"] if c["name"].lower() == "wfp_admin"]
    assert {"name": "wfp_admin", "path": "/_platform", "value": "<admin>"} in admin_cookies
    assert not [c for c in admin_cookies if c["value"].startswith("planted-by-header")]
    assert {"name": "mallory_session", "path": "/mallory/", "value": "1"} in seen["cookies"]

    # The WebSocket handshake ran, and neither its 101's cookies, nor an image of the
    # sign-out URL, nor a same-origin POST without the page's proof signed the admin out.
    assert seen["sabotage"] == {"socket": "open", "img": "done", "post": 403}
    assert not [c for c in admin_cookies if c["value"] == "planted-by-websocket"]

    # The admin's own sign-out button does (what is left is the script's planted cookie,
    # which opens nothing).
    assert seen["signed_out"] == {"title": "Signed out"}
    assert seen["after_sign_out"] == {"status": 403, "admin_cookie": False}

    # Other customers' pages are still their own.
    assert seen["victim"]["status"] == 200
    assert seen["victim"]["text"] == "Hello! This module is provided by the platform"
