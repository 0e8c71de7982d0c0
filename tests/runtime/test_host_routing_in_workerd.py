"""Customer hostnames through the generated dispatcher in real workerd, behind the local
edge: the Host header picks the script, unknown hosts get a clean 404, and the platform's
own paths stay path-routed on other hosts."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from wfp_reconcile.config.model import (
    Customer,
    CustomHostnames,
    Platform,
    PlatformRepo,
    Script,
)
from wfp_reconcile.desired import build_desired
from wfp_reconcile.dispatcher import build_dispatcher_upload
from wfp_reconcile.local.runtime import RuntimeSettings, run_runtime

from .conftest import InternalEndpoints, requires_node

pytestmark = [requires_node, pytest.mark.workerd]

ACCOUNT = "acc"
NAMESPACE = "ns"
LOGS: list[str] = []

FILES = {
    "customers/shop/site.mjs": b"""
export default {
  fetch(request) {
    const url = new URL(request.url);
    return Response.json({ script: "shop-site", host: url.host, path: url.pathname,
                           admin: request.headers.get("x-admin-token") });
  },
};
""",
    "customers/other/other.mjs": b"""
export default { fetch() { return new Response("other"); } };
""",
}


def make_repo() -> PlatformRepo:
    platform = Platform(
        account_id=ACCOUNT,
        namespace=NAMESPACE,
        compatibility_date="2026-01-01",
        custom_hostnames=CustomHostnames(
            zone_id="023e105f4ecef8ad9ca31a8372d0c353", fallback_origin="customers.platform.test"
        ),
    )
    shop = Customer(
        id="shop",
        name="Shop",
        plan="free",
        scripts={"shop-site": Script(main_module="site.mjs")},
        hostnames={"shop.example.com": "shop-site"},
    )
    other = Customer(
        id="other", name="Other", plan="free", scripts={"other": Script(main_module="other.mjs")}
    )
    return PlatformRepo(platform=platform, customers=(shop, other), files=FILES, commit="c1")


@pytest.fixture(scope="module")
def http(endpoints: InternalEndpoints) -> Iterator[httpx.Client]:
    repo = make_repo()
    desired = build_desired(repo)
    for worker in desired.scripts:
        endpoints.put_namespaced(ACCOUNT, NAMESPACE, worker.name, worker.upload_with_tags())
    assert desired.dispatcher is not None
    fingerprints = {w.name: w.fingerprint.short for w in desired.scripts}
    routes = {"shop.example.com": "shop-site"}
    upload = build_dispatcher_upload(repo, fingerprints, "c1", hostnames=routes)
    endpoints.put_worker(ACCOUNT, desired.dispatcher.name, upload)
    settings = RuntimeSettings(
        emulator_url=endpoints.url,
        account_id=ACCOUNT,
        dispatcher_name=desired.dispatcher.name,
        port=0,
    )
    with (
        run_runtime(settings, on_log=LOGS.append) as runtime,
        httpx.Client(base_url=runtime.url, timeout=30) as c,
    ):
        yield c


def test_the_host_header_reaches_the_customers_script(http: httpx.Client) -> None:
    res = http.get("/cart?x=1", headers={"Host": "shop.example.com"})
    assert res.status_code == 200, LOGS
    assert res.json() == {
        "script": "shop-site",
        "host": "shop.example.com",
        "path": "/cart",
        "admin": None,
    }
    assert res.headers["x-wfp-script"] == "shop-site"


def test_platform_paths_on_a_customer_hostname_are_the_scripts(http: httpx.Client) -> None:
    res = http.get("/_platform/health", headers={"Host": "shop.example.com", "X-Admin-Token": "t"})
    assert res.status_code == 200
    assert res.json()["script"] == "shop-site" and res.json()["admin"] is None


def test_other_hosts_keep_path_routing_and_unknown_paths_404(http: httpx.Client) -> None:
    assert http.get("/other/").text == "other"
    res = http.get("/", headers={"Host": "unknown.example.com"})
    assert res.status_code == 404 and res.json()["error"] == "not_found"
    # A host that names another customer's script is not a route to it.
    wrong = http.get("/", headers={"Host": "other.example.com"})
    assert wrong.status_code == 404
