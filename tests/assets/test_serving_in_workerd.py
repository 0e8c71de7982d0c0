"""Static assets served through the dispatcher in real workerd, as Cloudflare routes them.

One emulator and one runtime for the module: a repository with three sites is loaded
from disk, applied through the engine (as ``wfp-reconcile dev`` does), and eyeball
requests go through the generated dispatcher with path routing (``/<script>/...``).
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from wfp_reconcile.cloudflare import ClientSettings, CloudflareClient
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.local.emulator import run_emulator
from wfp_reconcile.local.runtime import RuntimeSettings, run_runtime
from wfp_reconcile.local.runtime.devstack import apply_with_engine

from .conftest import PLATFORM_YAML, write

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
    pytest.mark.workerd,
]

ACCOUNT = "0123456789abcdef0123456789abcdef"

WORKER = """\
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/api/hello")) {
      return Response.json({ hello: "from the worker", path: url.pathname });
    }
    if (url.pathname.endsWith("/lost")) {
      return env.ASSETS.fetch(new URL("./no/such/page", request.url));
    }
    if (url.pathname.endsWith("/wrapped")) {
      // The ASSETS binding: the Worker fetches its own site and decorates it.
      const page = await env.ASSETS.fetch(new URL("./", request.url));
      return new Response((await page.text()) + "<!-- wrapped -->", page);
    }
    return new Response("worker: " + url.pathname, { status: 418 });
  },
};
"""

GUARD = """\
export default {
  async fetch(request, env) {
    if (request.headers.get("x-pass") !== "yes") return new Response("denied", { status: 401 });
    return env.ASSETS.fetch(request);
  },
};
"""


def _customer(cid: str, script: str, assets: str) -> str:
    return (
        f"id: {cid}\nname: {cid}\nplan: basic\nscripts:\n  {script}:\n"
        f"    main_module: worker.mjs\n    assets:\n      directory: public\n{assets}"
    )


def _repo(root: Path) -> Path:
    site = {
        "index.html": "<h1>Shop</h1>",
        "style.css": "h1{color:teal}",
        "404.html": "<h1>Lost</h1>",
    }
    site |= {"docs/index.html": "<h1>Docs</h1>", "about.html": "<h1>About</h1>"}
    write(
        root,
        {
            "platform.yaml": PLATFORM_YAML,
            "customers/shop/customer.yaml": _customer(
                "shop",
                "shop",
                "      binding: ASSETS\n      not_found_handling: 404-page\n"
                "      run_worker_first: ['/api/*']\n",
            ),
            "customers/shop/worker.mjs": WORKER,
            **{f"customers/shop/public/{k}": v for k, v in site.items()},
            "customers/app/customer.yaml": _customer(
                "app", "app", "      not_found_handling: single-page-application\n"
            ),
            "customers/app/worker.mjs": WORKER,
            "customers/app/public/index.html": "<div id=app>SPA</div>",
            "customers/blog/customer.yaml": _customer(
                "blog", "blog", "      not_found_handling: 404-page\n"
            ),
            "customers/blog/worker.mjs": WORKER,
            "customers/blog/public/index.html": "<h1>Blog</h1>",
            "customers/blog/public/404.html": "<h1>No such post</h1>",
            "customers/gated/customer.yaml": _customer(
                "gated", "gated", "      binding: ASSETS\n      run_worker_first: true\n"
            ),
            "customers/gated/worker.mjs": GUARD,
            "customers/gated/public/index.html": "<h1>Members</h1>",
        },
    )
    return root


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    repo = load_repo_dir(_repo(tmp_path_factory.mktemp("sites")), env={})
    with run_emulator(None, api_token=secrets.token_urlsafe(16)) as emulator:
        settings = ClientSettings(
            account_id=ACCOUNT,
            api_token=emulator.api_token,
            base_url=emulator.api_base,
            requests_per_window=1_000_000,
        )
        with CloudflareClient(settings) as api:
            api.ensure_namespace("test-ns")
            outcome = apply_with_engine(repo, api)
            assert outcome.ok, outcome.failed
        runtime_settings = RuntimeSettings(
            emulator_url=emulator.url,
            emulator_secret=emulator.internal_secret,
            account_id=ACCOUNT,
            dispatcher_name=repo.platform.dispatcher.name,
            port=0,
        )
        with (
            run_runtime(runtime_settings) as runtime,
            httpx.Client(base_url=runtime.url, timeout=30) as client,
        ):
            yield client


def test_a_page_and_its_stylesheet(http: httpx.Client) -> None:
    page = http.get("/shop/")
    assert page.status_code == 200 and page.text == "<h1>Shop</h1>"
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    css = http.get("/shop/style.css")
    assert css.text == "h1{color:teal}" and css.headers["content-type"] == "text/css; charset=utf-8"


def test_html_handling_auto_trailing_slash(http: httpx.Client) -> None:
    assert http.get("/shop/about").text == "<h1>About</h1>"
    for path, target in [
        ("/shop/about.html", "/shop/about"),
        ("/shop/docs", "/shop/docs/"),
        ("/shop/docs/index.html", "/shop/docs"),
        ("/shop", "/shop/"),
    ]:
        answer = http.get(path)
        assert (answer.status_code, answer.headers.get("location")) == (307, target), path
    assert http.get("/shop/docs/").text == "<h1>Docs</h1>"


def test_the_404_page_for_a_navigation(http: httpx.Client) -> None:
    answer = http.get("/blog/2019/gone", headers={"sec-fetch-mode": "navigate"})
    assert (answer.status_code, answer.text) == (404, "<h1>No such post</h1>")
    # Not a navigation (a fetch from page code): the Worker answers what no asset matches.
    fetched = http.get("/blog/2019/gone")
    assert (fetched.status_code, fetched.text) == (418, "worker: /blog/2019/gone")


def test_run_worker_first_rules_turn_off_navigation_detection(http: httpx.Client) -> None:
    answer = http.get("/shop/missing/page", headers={"sec-fetch-mode": "navigate"})
    assert (answer.status_code, answer.text) == (418, "worker: /shop/missing/page")


def test_the_assets_binding(http: httpx.Client) -> None:
    wrapped = http.get("/shop/wrapped")
    assert wrapped.text == "<h1>Shop</h1><!-- wrapped -->"
    lost = http.get("/shop/lost")
    assert (lost.status_code, lost.text) == (404, "<h1>Lost</h1>")


def test_worker_first_route(http: httpx.Client) -> None:
    answer = http.get("/shop/api/hello")
    assert answer.json() == {"hello": "from the worker", "path": "/shop/api/hello"}


def test_spa_fallback_for_navigation_and_worker_for_fetches(http: httpx.Client) -> None:
    nav = http.get("/app/settings/profile", headers={"sec-fetch-mode": "navigate"})
    assert (nav.status_code, nav.text) == (200, "<div id=app>SPA</div>")
    # A client-side fetch is not a navigation: the Worker gets it.
    api = http.get("/app/api/hello")
    assert api.json()["hello"] == "from the worker"


def test_run_worker_first_true_guards_every_asset(http: httpx.Client) -> None:
    assert http.get("/gated/").status_code == 401
    allowed = http.get("/gated/", headers={"x-pass": "yes"})
    assert (allowed.status_code, allowed.text) == (200, "<h1>Members</h1>")
