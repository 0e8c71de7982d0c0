"""Malformed and hostile eyeball requests get clean answers: a 4xx with a JSON body (or the
customer's own answer where the request is odd but legal), never a 5xx or a stack trace,
and spoofed internal headers never reach customer code.

Requests are written as raw bytes over a socket: most of them no HTTP client will send.
Some are refused by the local edge (``local/runtime/edge.mjs``, standing in for Cloudflare's
network) before the dispatcher runs; the rest reach the dispatcher in workerd.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from .harness import CUSTOMER_TOKEN, Fleet, Stack, start_stack

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
    pytest.mark.workerd,
]

FLEET = Fleet.create(scripts=2, customers=1, seed=1)
# A JavaScript or workerd stack frame, an exception's name, or the thrower's secret detail.
STACK_TRACE = re.compile(r"\bat \S+ \(|\.m?js:\d|\.c\+\+|workerd/|\w*Error: |7f3a")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with start_stack(FLEET) as running:
        yield running


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        assert self.headers.get("content-type", "").startswith("application/json"), self.headers
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Answer({self.status}, {self.text[:300]!r})"


def send(stack: Stack, raw: bytes, *, method: str = "GET") -> Answer:
    """Write ``raw`` to the eyeball port and parse the one answer (10 s at most)."""
    with socket.create_connection(("127.0.0.1", stack.runtime.port), timeout=10) as sock:
        sock.sendall(raw)
        res = http.client.HTTPResponse(sock, method=method)
        res.begin()
        body = res.read()
        return Answer(res.status, {k.lower(): v for k, v in res.getheaders()}, body)


def request(
    target: bytes | str, *headers: bytes | str, method: bytes = b"GET", host: bytes = b"x"
) -> bytes:
    t = target.encode() if isinstance(target, str) else target
    lines = [method + b" " + t + b" HTTP/1.1", b"Host: " + host]
    lines += [h.encode() if isinstance(h, str) else h for h in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def assert_clean_error(answer: Answer, status: int, error: str) -> None:
    assert answer.status == status, answer
    assert answer.json()["error"] == error, answer
    assert answer.headers.get("cache-control") == "no-store"
    assert not STACK_TRACE.search(answer.text), answer


def echoed(answer: Answer) -> dict[str, Any]:
    """What the echo script saw (its JSON), after checking it answered."""
    assert answer.status == 200, answer
    assert answer.headers.get("x-wfp-script") == "echo", answer.headers
    seen: dict[str, Any] = answer.json()
    return seen


MANY_SMALL = tuple(f"X-H{i}: v" for i in range(600))
BIG_TOTAL = tuple(f"X-Big{i}: {'b' * 1024}" for i in range(40))

# (id, raw request, expected status, expected JSON error code). Decisions:
# - sizes: one 64 KiB header, >32 KiB of headers or >500 fields -> 431 (local edge limits);
# - methods workerd cannot serve and tokens that are no method -> 400 (a 501 would count
#   as a platform failure in every 5xx alert, and the eyeball is at fault); CONNECT -> 405;
# - request targets that are not origin-form paths (except http(s) absolute-form, which
#   RFC 9112 requires servers to accept) -> 400; a Host that is no host -> 400;
# - framing that allows request smuggling (Content-Length with chunked, bad lengths) -> 400;
# - path tricks are answered by the dispatcher's routing rules: 400 for a name that cannot
#   be a script, 404 for a name that is none.
REFUSED: list[tuple[str, bytes, int, str]] = [
    ("64 KiB header", request("/echo/", "X-Big: " + "a" * 65536), 431, "headers_too_large"),
    ("over 32 KiB of headers", request("/echo/", *BIG_TOTAL), 431, "headers_too_large"),
    ("600 header fields", request("/echo/", *MANY_SMALL), 431, "headers_too_large"),
    ("40 KiB request target", request("/" + "a" * 40_000 + "/"), 431, "headers_too_large"),
    ("CONNECT", request("127.0.0.1:80", method=b"CONNECT"), 405, "method_not_allowed"),
    ("CONNECT to a path", request("/echo/", method=b"CONNECT"), 405, "method_not_allowed"),
    ("lower-case method", request("/echo/", method=b"get"), 400, "bad_request"),
    ("garbage method token", request("/echo/", method=b"FOO@BAR"), 400, "bad_request"),
    ("unknown method", request("/echo/", method=b"BREW"), 400, "bad_request"),
    ("method workerd lacks", request("/echo/", method=b"SOURCE"), 400, "bad_request"),
    ("not HTTP at all", b"HELLO\r\n\r\n", 400, "bad_request"),
    ("HTTP/9.9", b"GET /echo/ HTTP/9.9\r\nHost: x\r\n\r\n", 400, "bad_request"),
    ("space in target", request("/echo/a b"), 400, "bad_request"),
    ("raw NUL in target", request(b"/\x00/"), 400, "bad_request"),
    ("raw UTF-8 in target", request("/échø/".encode()), 400, "bad_request"),
    ("asterisk-form", request("*", method=b"OPTIONS"), 400, "bad_request"),
    ("absolute-form ftp", request("ftp://x/echo/"), 400, "bad_request"),
    ("absolute-form userinfo", request("http://u:p@x/echo/"), 400, "bad_request"),
    ("no Host", b"GET /echo/ HTTP/1.1\r\n\r\n", 400, "bad_request"),
    ("Host with a path", request("/echo/", host=b"a b/c"), 400, "bad_request"),
    ("Host with a bad port", request("/echo/", host=b"x:99999"), 400, "bad_request"),
    ("space in a header name", request("/echo/", "Bad Header: v"), 400, "bad_request"),
    ("obsolete line folding", request("/echo/", "X-A: v", "  folded"), 400, "bad_request"),
    (
        "Content-Length with chunked",
        request("/echo/", "Content-Length: 4", "Transfer-Encoding: chunked", method=b"POST")
        + b"0\r\n\r\n",
        400,
        "bad_request",
    ),
    (
        "bad Content-Length",
        request("/echo/", "Content-Length: abc", method=b"POST"),
        400,
        "bad_request",
    ),
    (
        "negative Content-Length",
        request("/echo/", "Content-Length: -1", method=b"POST"),
        400,
        "bad_request",
    ),
    (
        "bad chunk size",
        request("/echo/", "Transfer-Encoding: chunked", method=b"POST") + b"zz\r\n\r\n",
        400,
        "bad_request",
    ),
    ("encoded dot-dot slash", request("/..%2fecho/"), 400, "bad_request"),
    ("encoded NUL", request("/%00/"), 400, "bad_request"),
    ("encoded unicode name", request("/%C3%A9cho/"), 400, "bad_request"),
    ("invalid UTF-8 escape", request("/%ff%fe/"), 400, "bad_request"),
    ("64-character name", request("/" + "a" * 64 + "/"), 400, "bad_request"),
    ("upper-case name", request("/ECHO/"), 400, "bad_request"),
    ("63-character unknown name", request("/" + "a" * 63 + "/"), 404, "script_not_found"),
    ("empty first segment", request("//echo/"), 404, "not_found"),
    ("root", request("/"), 404, "not_found"),
    (
        "odd method on the customer API",
        request("/_platform/v1/scripts", method=b"PROPFIND"),
        405,
        "method_not_allowed",
    ),
    ("unknown platform endpoint", request("/_platform/../_platform/x"), 404, "not_found"),
    ("dot-dot around a token script", request("/_platform/%2e%2e/private/"), 401, "token_required"),
]


@pytest.mark.parametrize(
    ("raw", "status", "error"),
    [pytest.param(raw, status, error, id=name) for name, raw, status, error in REFUSED],
)
def test_malformed_request_gets_a_clean_4xx(
    stack: Stack, raw: bytes, status: int, error: str
) -> None:
    method = raw.split(b" ", 1)[0].decode("latin-1")
    assert_clean_error(send(stack, raw, method=method), status, error)


@pytest.mark.parametrize(
    ("raw", "method", "path"),
    [
        pytest.param(request("/echo/", method=b"PROPFIND"), "PROPFIND", "/echo/", id="PROPFIND"),
        pytest.param(request("/echo/", method=b"TRACE"), "TRACE", "/echo/", id="TRACE"),
        pytest.param(request("/echo/", method=b"PURGE"), "PURGE", "/echo/", id="PURGE"),
        pytest.param(request("/%2e%2e/echo/"), "GET", "/echo/", id="encoded dot-dot"),
        pytest.param(request("/_platform/../echo/"), "GET", "/echo/", id="out of _platform"),
        pytest.param(request("/echo/", *MANY_SMALL[:400]), "GET", "/echo/", id="400 headers"),
        pytest.param(request("/echo/", "Content-Length: 0"), "GET", "/echo/", id="GET CL 0"),
        pytest.param(
            request("/echo/", "Content-Length: 0", method=b"DELETE"),
            "DELETE",
            "/echo/",
            id="DELETE CL 0",
        ),
    ],
)
def test_odd_but_legal_request_reaches_customer_code_as_sent(
    stack: Stack, raw: bytes, method: str, path: str
) -> None:
    # Methods are the customer's API; dot segments are resolved before routing (WHATWG),
    # so they can only select a script that the plain path could select too.
    seen = echoed(send(stack, raw))
    assert seen["method"] == method
    assert seen["url"] == f"http://x{path}"


def test_head_with_content_length_zero_is_served(stack: Stack) -> None:
    answer = send(stack, request("/echo/", "Content-Length: 0", method=b"HEAD"), method="HEAD")
    assert answer.status == 200, answer
    assert answer.headers["x-wfp-script"] == "echo"


def test_absolute_form_is_answered_like_the_same_request_with_that_host(stack: Stack) -> None:
    # RFC 9112 3.2.2: the target's authority replaces Host, so this reaches nothing that a
    # Host header could not reach.
    seen = echoed(send(stack, request("http://other.example/echo/?q=1")))
    assert seen["url"] == "http://other.example/echo/?q=1"
    assert seen["headers"]["host"] == "other.example"
    health = send(stack, request("http://other.example/_platform/health"))
    assert health.status == 200 and health.json()["status"] == "ok"


SPOOFED = (
    "X-Customer-Token: wrong-token",
    "X-Admin-Token: guess",
    "X-WFP-Customer: edge",
    "X-WFP-Script: private",
    "X-Platform-User: root",
    "Cf-Access-Jwt-Assertion: forged.jwt.value",
    "Cf-Access-Authenticated-User-Email: admin@example.com",
    "Cf-Access-Client-Id: forged-id",
    "Cf-Access-Client-Secret: forged-secret",
    "CF-Worker: evil.example",
    "CF-EW-Via: 15",
    "CF-Connecting-IP: 203.0.113.7",
    "CF-IPCountry: XX",
    "CF-Ray: 0123456789abcdef-XXX",
    'CF-Visitor: {"scheme":"https"}',
    "True-Client-IP: 203.0.113.8",
    "MF-Original-URL: http://x/_platform/health",
    "MF-Route-Override: other",
    "X-Forwarded-For: 198.51.100.1",
)


def test_spoofed_internal_and_edge_headers_never_reach_customer_code(stack: Stack) -> None:
    seen = echoed(send(stack, request("/echo/", *SPOOFED)))
    headers: dict[str, str] = seen["headers"]
    leaked = sorted(
        name
        for name in headers
        if name.startswith(("x-wfp-", "x-platform-", "cf-access-", "mf-"))
        or name in {"x-customer-token", "x-admin-token", "cf-worker", "cf-ew-via", "cf-ray"}
        or name in {"cf-ipcountry", "cf-visitor", "true-client-ip"}
    )
    assert leaked == []
    assert "forged" not in json.dumps(seen) and "203.0.113" not in json.dumps(seen)
    # Only the edge says who is connecting; an eyeball's list is kept and extended.
    assert headers["cf-connecting-ip"] == "127.0.0.1"
    assert headers["x-forwarded-for"] == "198.51.100.1, 127.0.0.1"
    # The miniflare URL override did not turn this into a platform request.
    assert seen["url"] == "http://x/echo/"


def test_wrong_customer_token_is_refused_on_a_token_script(stack: Stack) -> None:
    answer = send(stack, request("/private/", "X-Customer-Token: wrong-token"))
    assert_clean_error(answer, 403, "token_invalid")
    assert_clean_error(send(stack, request("/private/")), 401, "token_required")


def test_right_customer_token_opens_a_token_script_and_is_removed_first(stack: Stack) -> None:
    answer = send(stack, request("/private/", f"X-Customer-Token: {CUSTOMER_TOKEN}"))
    assert answer.status == 200, answer
    seen = answer.json()
    assert "x-customer-token" not in seen["headers"]
    assert CUSTOMER_TOKEN not in answer.text


def test_throwing_script_fails_with_a_clean_502_even_for_a_browser(stack: Stack) -> None:
    answer = send(stack, request("/thrower/", "Accept: text/html"))
    assert_clean_error(answer, 502, "script_error")


def test_workerd_never_logged_an_uncaught_exception(stack: Stack) -> None:
    # Runs last in this module: every request above reached workerd cleanly or not at all.
    for raw in (r for _, r, _, _ in REFUSED):
        send(stack, raw, method=raw.split(b" ", 1)[0].decode("latin-1"))
    assert not [line for line in stack.logs if "Uncaught exception" in line], stack.logs[-10:]
