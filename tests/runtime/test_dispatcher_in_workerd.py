"""The generated dispatch Worker, unchanged, in real workerd with the emulated namespace.

One runtime serves the whole module (start-up is the expensive part). Bundles are the
engine's desired uploads, served through a stand-in of the emulator's internal endpoints.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from wfp_reconcile.config.model import (
    Access,
    Customer,
    Limits,
    OutboundRef,
    OutboundWorker,
    Platform,
    PlatformRepo,
    Script,
    Token,
)
from wfp_reconcile.desired import DesiredState, build_desired
from wfp_reconcile.local.runtime import RuntimeSettings, run_runtime

from .conftest import InternalEndpoints, js_upload, requires_node

pytestmark = [requires_node, pytest.mark.workerd]

ACCOUNT = "acc"
NAMESPACE = "ns"
LOGS: list[str] = []
PLATFORM_MESSAGE = "Hello! This module is provided by the platform"

FILES = {
    "platform/platform_module.mjs": (
        b'export const platformThing = "This module is provided by the platform";\n'
    ),
    "platform/egress.mjs": b"""
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.hostname.endsWith("blocked.example")) {
      return new Response("blocked by egress", { status: 403 });
    }
    return Response.json({ via: "egress", customer_id: env.customer_id ?? null,
                           tier: env.tier ?? null, url: request.url });
  },
};
""",
    "customers/basic/hello.mjs": b"""
import { platformThing } from "./platform_module.mjs";
export default { fetch() { return new Response("Hello! " + platformThing); } };
""",
    "customers/basic/thrower.mjs": b"""
export default { fetch() { throw new Error("database password is hunter2"); } };
""",
    "customers/basic/fetcher.mjs": b"""
export default {
  async fetch(request) {
    const target = new URL(request.url).searchParams.get("to");
    const res = await fetch(target);
    return new Response(await res.text(), { status: res.status });
  },
};
""",
    "customers/basic/headers.mjs": b"""
export default { fetch(request) { return Response.json(Object.fromEntries(request.headers)); } };
""",
    "customers/basic/private.mjs": b"""
export default { fetch() { return new Response("private ok"); } };
""",
    "customers/basic/cookies.mjs": b"""
export default {
  fetch() {
    const headers = new Headers({ "service-worker-allowed": "/",
                                  "cross-origin-opener-policy": "same-origin" });
    headers.append("set-cookie", "wfp_admin=junk; Path=/_platform/");
    headers.append("set-cookie", "Wfp_Admin=junk2; HttpOnly");
    headers.append("set-cookie", "a=1; Path=/cookies/");
    headers.append("set-cookie", "b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT");
    return new Response("cookies", { headers });
  },
};
""",
    "customers/basic/socket.mjs": b"""
export default {
  fetch(request) {
    if (request.headers.get("upgrade") !== "websocket") {
      return new Response("no upgrade", { status: 426 });
    }
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (event) => server.send("echo:" + event.data));
    const headers = new Headers({ "service-worker-allowed": "/" });
    headers.append("set-cookie", "wfp_admin=; Path=/_platform; Max-Age=0");
    headers.append("set-cookie", "WFP_ADMIN=planted; Path=/_platform/");
    headers.append("set-cookie", "chat=1; Path=/socket/");
    return new Response(null, { status: 101, webSocket: client, headers });
  },
};
""",
    "customers/gone/gone.mjs": b"""
export default { fetch() { return new Response("gone ok"); } };
""",
    "customers/other/other.mjs": b"""
export default { fetch() { return new Response("other ok"); } };
""",
}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_repo() -> PlatformRepo:
    platform = Platform(
        account_id=ACCOUNT,
        namespace=NAMESPACE,
        compatibility_date="2026-01-01",
        platform_modules=("platform/platform_module.mjs",),
        outbound_workers={
            "egress": OutboundWorker(main_module="platform/egress.mjs", parameters=("tier",))
        },
        default_limits=Limits(cpu_ms=50, subrequests=10),
    )
    basic = Customer(
        id="basic",
        name="Basic",
        plan="free",
        tokens=(Token(name="main", sha256=_sha("basic-token")),),
        outbound=OutboundRef(worker="egress", params={"tier": "gold"}),
        scripts={
            "hello": Script(main_module="hello.mjs"),
            "thrower": Script(main_module="thrower.mjs"),
            "fetcher": Script(main_module="fetcher.mjs"),
            "headers": Script(main_module="headers.mjs"),
            "private": Script(main_module="private.mjs", access=Access.TOKEN),
            "cookies": Script(main_module="cookies.mjs"),
            "socket": Script(main_module="socket.mjs"),
        },
    )
    gone = Customer(
        id="gone",
        name="Gone",
        plan="free",
        suspended=True,
        tokens=(Token(name="main", sha256=_sha("gone-token")),),
        scripts={"gone": Script(main_module="gone.mjs")},
    )
    other = Customer(
        id="other",
        name="Other",
        plan="pro",
        tokens=(Token(name="main", sha256=_sha("other-token")),),
        scripts={"other-hello": Script(main_module="other.mjs")},
    )
    return PlatformRepo(
        platform=platform, customers=(basic, gone, other), files=FILES, commit="c0ffee1"
    )


def deploy(endpoints: InternalEndpoints, desired: DesiredState) -> None:
    for worker in desired.outbound:
        endpoints.put_worker(ACCOUNT, worker.name, worker.upload_with_tags())
    for worker in desired.scripts:
        endpoints.put_namespaced(ACCOUNT, NAMESPACE, worker.name, worker.upload_with_tags())
    assert desired.dispatcher is not None
    endpoints.put_worker(ACCOUNT, desired.dispatcher.name, desired.dispatcher.upload_with_tags())


@pytest.fixture(scope="module")
def desired() -> DesiredState:
    return build_desired(make_repo())


@pytest.fixture(scope="module")
def http(endpoints: InternalEndpoints, desired: DesiredState) -> Iterator[httpx.Client]:
    deploy(endpoints, desired)
    settings = RuntimeSettings(
        emulator_url=endpoints.url,
        account_id=ACCOUNT,
        dispatcher_name=desired.dispatcher.name if desired.dispatcher else "",
        port=0,
    )
    with (
        run_runtime(settings, on_log=LOGS.append) as runtime,
        httpx.Client(base_url=runtime.url, timeout=30) as c,
    ):
        yield c


def test_template_script_returns_the_platform_module_message(http: httpx.Client) -> None:
    res = http.get("/hello/")
    assert (res.status_code, res.text) == (200, PLATFORM_MESSAGE), LOGS
    assert res.headers["x-wfp-script"] == "hello"
    assert res.headers["x-content-type-options"] == "nosniff"


def test_unknown_script_is_404_json(http: httpx.Client) -> None:
    res = http.get("/no-such-script/x")
    assert res.status_code == 404
    assert res.json()["error"] == "script_not_found"


def test_throwing_customer_code_is_502_without_stack_or_message(http: httpx.Client) -> None:
    res = http.get("/thrower/")
    assert res.status_code == 502
    assert res.json()["error"] == "script_error"
    assert "hunter2" not in res.text
    assert "thrower.mjs" not in res.text and " at " not in res.text


def test_outbound_worker_sees_customer_parameters(http: httpx.Client) -> None:
    res = http.get("/fetcher/", params={"to": "https://api.example.com/data"})
    assert res.status_code == 200
    body: dict[str, Any] = res.json()
    assert body == {
        "via": "egress",
        "customer_id": "basic",
        "tier": "gold",
        "url": "https://api.example.com/data",
    }


def test_outbound_worker_can_block_a_request(http: httpx.Client) -> None:
    res = http.get("/fetcher/", params={"to": "https://evil.blocked.example/"})
    assert res.status_code == 403
    assert res.text == "blocked by egress"


def test_customer_api_lists_own_scripts_with_fingerprints_and_commit(
    http: httpx.Client, desired: DesiredState
) -> None:
    res = http.get("/_platform/v1/scripts", headers={"X-Customer-Token": "basic-token"})
    assert res.status_code == 200
    body = res.json()
    assert body["customer"] == "basic"
    assert body["commit"] == "c0ffee1"
    listed = {s["name"]: s["fingerprint"] for s in body["scripts"]}
    expected = {w.name: w.fingerprint.short for w in desired.scripts if w.customer == "basic"}
    assert listed == expected


def test_customer_api_refuses_wrong_and_missing_tokens(http: httpx.Client) -> None:
    wrong = http.get("/_platform/v1/scripts", headers={"X-Customer-Token": "guess"})
    assert wrong.status_code == 403 and wrong.json()["error"] == "token_invalid"
    missing = http.get("/_platform/v1/scripts")
    assert missing.status_code == 401 and missing.json()["error"] == "token_required"


def test_token_script_requires_its_customers_token(http: httpx.Client) -> None:
    assert http.get("/private/").status_code == 401
    other = http.get("/private/", headers={"X-Customer-Token": "other-token"})
    assert other.status_code == 403
    own = http.get("/private/", headers={"X-Customer-Token": "basic-token"})
    assert own.status_code == 200 and own.text == "private ok"


def test_internal_headers_never_reach_customer_code(http: httpx.Client) -> None:
    res = http.get(
        "/headers/",
        headers={
            "X-Customer-Token": "basic-token",
            "X-Wfp-Customer": "other",
            "X-Platform-Role": "admin",
            "X-Visible": "yes",
        },
    )
    assert res.status_code == 200, LOGS
    seen = res.json()
    assert seen["x-visible"] == "yes"
    assert not {"x-customer-token", "x-wfp-customer", "x-platform-role"} & set(seen)


def test_health_endpoint_and_malformed_path(http: httpx.Client) -> None:
    assert http.get("/_platform/health").json()["status"] == "ok"
    bad = http.get("/Bad.Name/")
    assert bad.status_code == 400 and bad.json()["error"] == "bad_request"


def test_uploaded_change_is_served_without_restart(
    http: httpx.Client, endpoints: InternalEndpoints
) -> None:
    endpoints.put_namespaced(
        ACCOUNT,
        NAMESPACE,
        "other-hello",
        js_upload('export default { fetch() { return new Response("v2"); } };'),
    )
    deadline = time.monotonic() + 5
    while True:
        text = http.get("/other-hello/").text
        if text == "v2" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert text == "v2"


def test_customer_responses_lose_the_admin_cookie_and_origin_wide_headers(
    http: httpx.Client,
) -> None:
    res = http.get("/cookies/")
    assert (res.status_code, res.text) == (200, "cookies"), LOGS
    # workerd's Headers keep each Set-Cookie apart (getSetCookie), dates and all.
    assert res.headers.get_list("set-cookie") == [
        "a=1; Path=/cookies/",
        "b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
    ]
    assert "service-worker-allowed" not in res.headers
    assert "cross-origin-opener-policy" not in res.headers


def test_service_worker_script_fetches_are_refused_in_path_routing(http: httpx.Client) -> None:
    for path in ("/cookies", "/cookies/sw.js", "/_platform/"):
        res = http.get(path, headers={"Service-Worker": "script"})
        assert res.status_code == 403 and res.json()["error"] == "service_worker_refused"


def test_suspended_customers_token_is_refused_everywhere(http: httpx.Client) -> None:
    api = http.get("/_platform/v1/scripts", headers={"X-Customer-Token": "gone-token"})
    assert api.status_code == 403 and api.json()["error"] == "customer_suspended"
    assert http.get("/gone/").status_code == 403


def _websocket_upgrade(base_url: str, path: str) -> tuple[bytes, socket.socket]:
    """Sends a WebSocket handshake by hand; returns the response head and the open socket."""
    url = httpx.URL(base_url)
    sock = socket.create_connection((url.host, url.port or 80), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return head, sock


def _send_text_frame(sock: socket.socket, text: str) -> None:
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)


def _read_text_frame(sock: socket.socket) -> str:
    data = b""
    while len(data) < 2 or len(data) < 2 + (data[1] & 0x7F):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    assert data[0] == 0x81, data
    return data[2 : 2 + (data[1] & 0x7F)].decode()


def test_websocket_upgrades_lose_the_admin_cookie_and_still_work(http: httpx.Client) -> None:
    head, sock = _websocket_upgrade(str(http.base_url), "/socket/")
    with sock:
        status, *lines = head.split(b"\r\n\r\n")[0].decode().split("\r\n")
        assert status.startswith("HTTP/1.1 101"), (head, LOGS)
        headers = [tuple(line.split(": ", 1)) for line in lines]
        cookies = [value for name, value in headers if name.lower() == "set-cookie"]
        assert cookies == ["chat=1; Path=/socket/"]
        names = {name.lower() for name, _ in headers}
        assert "service-worker-allowed" not in names
        assert ("x-wfp-script", "socket") in {(n.lower(), v) for n, v in headers}
        _send_text_frame(sock, "hi")
        assert _read_text_frame(sock) == "echo:hi"
