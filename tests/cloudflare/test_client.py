from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import httpx
import pytest
import respx
from tests.cloudflare.fakes import ACCOUNT, BASE, NS_PATH, FakeTime, envelope

from wfp_reconcile.bundle import Module, ScriptUpload
from wfp_reconcile.cloudflare import ClientSettings, CloudflareClient
from wfp_reconcile.cloudflare.pacing import TokenBucket
from wfp_reconcile.errors import (
    ApiConnectionError,
    ApiServerError,
    AuthError,
    NotFoundError,
    RateLimitError,
    ValidationError,
    WfpError,
)
from wfp_reconcile.local.emulator.formdata import parse_form_data

TOKEN = "cf-secret-token-abcdef0123456789"


def failure(code: int, message: str) -> dict[str, Any]:
    return {
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
        "result": None,
    }


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(fake_time: FakeTime):
    settings = ClientSettings(
        account_id=ACCOUNT,
        api_token=TOKEN,
        base_url=BASE,
        max_attempts=4,
        max_retry_seconds=60,
        backoff_base_seconds=0.5,
        backoff_max_seconds=8,
    )
    with CloudflareClient(settings, sleep=fake_time.sleep, clock=fake_time.clock) as c:
        yield c


def upload() -> ScriptUpload:
    return ScriptUpload(
        {"main_module": "index.mjs", "keep_bindings": ["secret_text", "secret_key"], "tags": ["t"]},
        (
            Module("index.mjs", b"export default {}", "application/javascript+module"),
            Module("lib/add.wasm", bytes(range(256)) * 4, "application/wasm"),
        ),
    )


# -- envelope and errors -----------------------------------------------------------------


@respx.mock
def test_successful_envelope_is_unwrapped_to_its_result(client):
    respx.get(NS_PATH).respond(json=envelope({"namespace_name": "ns", "script_count": 3}))
    assert client.get_namespace("ns") == {"namespace_name": "ns", "script_count": 3}


@pytest.mark.parametrize(
    ("status", "code", "error_class"),
    [
        pytest.param(403, 10000, AuthError, id="auth"),
        pytest.param(401, 10000, AuthError, id="unauthorized"),
        pytest.param(404, 10007, NotFoundError, id="not-found"),
        pytest.param(400, 10016, ValidationError, id="invalid-name"),
        pytest.param(400, 10021, ValidationError, id="validation"),
        pytest.param(400, 10027, ValidationError, id="too-large"),
        pytest.param(409, 10035, ValidationError, id="conflict"),
    ],
)
@respx.mock
def test_http_errors_map_to_typed_errors_carrying_codes(client, status, code, error_class):
    route = respx.get(NS_PATH).respond(status, json=failure(code, "remote says no"))
    with pytest.raises(error_class) as info:
        client.get_namespace("ns")
    assert info.value.status == status
    assert info.value.codes == (code,)
    assert "remote says no" in info.value.message
    assert f"code {code}" in info.value.message
    assert route.call_count == 1  # 4xx are never retried


@respx.mock
def test_success_false_with_http_200_is_an_error(client):
    respx.get(NS_PATH).respond(200, json=failure(10021, "bad metadata"))
    with pytest.raises(ValidationError) as info:
        client.get_namespace("ns")
    assert info.value.codes == (10021,)


@respx.mock
def test_not_found_code_maps_to_not_found_whatever_the_status(client):
    respx.get(NS_PATH).respond(400, json=failure(10007, "workers.api.error.script_not_found"))
    with pytest.raises(NotFoundError):
        client.get_namespace("ns")


@respx.mock
def test_non_json_error_body_is_reported_truncated(client):
    respx.get(NS_PATH).respond(400, text="x" * 5000)
    with pytest.raises(ValidationError) as info:
        client.get_namespace("ns")
    assert len(info.value.message) < 600


@respx.mock
def test_ensure_namespace_creates_it_on_404(client):
    respx.get(NS_PATH).respond(404, json=failure(10007, "not found"))
    create = respx.post(f"{BASE}/accounts/{ACCOUNT}/workers/dispatch/namespaces").respond(
        json=envelope({"namespace_name": "ns"})
    )
    assert client.ensure_namespace("ns") == {"namespace_name": "ns"}
    assert json.loads(create.calls.last.request.content) == {"name": "ns"}


# -- pagination --------------------------------------------------------------------------


@respx.mock
def test_list_scripts_follows_cursors_across_pages(client):
    pages = {
        None: (["a", "b"], "c1"),
        "c1": (["c", "d"], "c2"),
        "c2": (["e"], ""),
    }

    def answer(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        names, nxt = pages[cursor]
        items = [{"id": n, "etag": f"e-{n}", "tags": [n]} for n in names]
        return httpx.Response(200, json=envelope(items, result_info={"cursor": nxt}))

    route = respx.get(f"{NS_PATH}/scripts").mock(side_effect=answer)
    scripts = list(client.list_scripts("ns", tags=[("managed", True), ("x", False)], page_size=2))
    assert [s.id for s in scripts] == ["a", "b", "c", "d", "e"]
    assert scripts[0].tags == ("a",)
    assert route.call_count == 3
    params = route.calls[0].request.url.params
    assert params["tags"] == "managed:yes,x:no"
    assert params["limit"] == "2"


@respx.mock
def test_list_items_without_tags_have_tags_none(client):
    respx.get(f"{NS_PATH}/scripts").respond(json=envelope([{"id": "a"}], result_info={}))
    (only,) = list(client.list_scripts("ns"))
    assert only.tags is None


@respx.mock
def test_a_repeated_cursor_stops_instead_of_looping(client):
    respx.get(f"{NS_PATH}/scripts").respond(
        json=envelope([{"id": "a"}], result_info={"cursor": "same"})
    )
    with pytest.raises(WfpError, match="same cursor"):
        list(client.list_scripts("ns"))


def test_tag_filters_with_reserved_characters_are_refused(client):
    with pytest.raises(ValidationError, match="must not contain"):
        list(client.list_scripts("ns", tags=[("a,b", True)]))


# -- retries -----------------------------------------------------------------------------


@respx.mock
def test_5xx_is_retried_with_growing_backoff_then_succeeds(client, fake_time):
    route = respx.get(NS_PATH).mock(
        side_effect=[
            httpx.Response(502, text="bad gateway"),
            httpx.Response(503, json=failure(10002, "try later")),
            httpx.Response(200, json=envelope({"namespace_name": "ns"})),
        ]
    )
    assert client.get_namespace("ns")["namespace_name"] == "ns"
    assert route.call_count == 3
    assert len(fake_time.sleeps) == 2
    assert 0.25 <= fake_time.sleeps[0] <= 0.5
    assert 0.5 <= fake_time.sleeps[1] <= 1.0
    assert client.stats.retries == 2
    assert client.stats.server_errors == 2


@respx.mock
def test_5xx_gives_up_after_max_attempts(client):
    route = respx.get(NS_PATH).respond(500, json=failure(10002, "boom"))
    with pytest.raises(ApiServerError) as info:
        client.get_namespace("ns")
    assert route.call_count == 4
    assert info.value.status == 500


@respx.mock
def test_retries_stop_when_the_time_budget_is_spent(fake_time):
    settings = ClientSettings(
        account_id=ACCOUNT,
        api_token=TOKEN,
        base_url=BASE,
        max_attempts=50,
        max_retry_seconds=5,
        backoff_base_seconds=1,
        backoff_max_seconds=100,
    )
    route = respx.get(NS_PATH).respond(503)
    with CloudflareClient(settings, sleep=fake_time.sleep, clock=fake_time.clock) as c:
        with pytest.raises(ApiServerError):
            c.get_namespace("ns")
    assert sum(fake_time.sleeps) <= 5
    assert route.call_count < 50


@respx.mock
def test_429_waits_for_retry_after(client, fake_time):
    route = respx.get(NS_PATH).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}, json=failure(971, "slow down")),
            httpx.Response(200, json=envelope({"namespace_name": "ns"})),
        ]
    )
    client.get_namespace("ns")
    assert route.call_count == 2
    assert fake_time.sleeps == [7.0]
    assert client.stats.rate_limited == 1


@respx.mock
def test_retry_after_ms_takes_precedence(client, fake_time):
    respx.get(NS_PATH).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "1", "retry-after-ms": "250"}),
            httpx.Response(200, json=envelope({})),
        ]
    )
    client.get_namespace("ns")
    assert fake_time.sleeps == [0.25]


@respx.mock
def test_persistent_429_raises_rate_limit_error(client):
    respx.get(NS_PATH).respond(429, headers={"Retry-After": "1"})
    with pytest.raises(RateLimitError) as info:
        client.get_namespace("ns")
    assert info.value.status == 429


@respx.mock
def test_dropped_connections_are_retried_then_reported(client):
    route = respx.get(NS_PATH).mock(side_effect=httpx.RemoteProtocolError("peer closed"))
    with pytest.raises(ApiConnectionError) as info:
        client.get_namespace("ns")
    assert route.call_count == 4
    assert isinstance(info.value.__cause__, httpx.RemoteProtocolError)
    assert client.stats.connection_errors == 4


@respx.mock
def test_timeouts_are_retried(client):
    route = respx.get(NS_PATH).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=envelope({"a": 1}))]
    )
    assert client.get_namespace("ns") == {"a": 1}
    assert route.call_count == 2


@respx.mock
def test_d1_queries_are_not_retried_after_a_5xx(client):
    route = respx.post(f"{BASE}/accounts/{ACCOUNT}/d1/database/db1/query").respond(500)
    with pytest.raises(ApiServerError):
        client.d1_query("db1", "INSERT INTO t VALUES (1)")
    assert route.call_count == 1


@respx.mock
def test_d1_queries_are_retried_when_the_connection_was_refused(client):
    route = respx.post(f"{BASE}/accounts/{ACCOUNT}/d1/database/db1/query").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.Response(200, json=envelope([{"results": [{"n": 1}], "success": True}])),
        ]
    )
    assert client.d1_query("db1", "SELECT 1 AS n") == [{"n": 1}]
    assert route.call_count == 2


# -- requests the client builds ----------------------------------------------------------


@respx.mock
def test_upload_is_multipart_with_metadata_passed_through_untouched(client):
    route = respx.put(f"{NS_PATH}/scripts/hello").respond(
        json=envelope({"id": "hello", "etag": "abc", "tags": ["t"]})
    )
    info = client.upload_script("ns", "hello", upload())
    assert info.id == "hello" and info.etag == "abc" and info.tags == ("t",)
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    parts = parse_form_data(request.content, request.headers["content-type"])
    assert [p.name for p in parts] == ["metadata", "index.mjs", "lib/add.wasm"]
    assert json.loads(parts[0].content) == dict(upload().metadata)
    assert parts[0].content_type == "application/json"
    assert parts[1].content_type == "application/javascript+module"
    assert parts[2].content == bytes(range(256)) * 4
    assert parts[2].content_type == "application/wasm"


@respx.mock
def test_metadata_without_keep_bindings_is_not_given_one(client):
    route = respx.put(f"{NS_PATH}/scripts/hello").respond(json=envelope({"id": "hello"}))
    bare = ScriptUpload({"main_module": "a.mjs"}, (Module("a.mjs", b"", "text/plain"),))
    client.upload_script("ns", "hello", bare)
    request = route.calls.last.request
    parts = parse_form_data(request.content, request.headers["content-type"])
    assert json.loads(parts[0].content) == {"main_module": "a.mjs"}


@respx.mock
def test_put_tags_sends_a_json_array_matching_the_spec(client, openapi):
    route = respx.put(f"{NS_PATH}/scripts/s/tags").respond(json=envelope(["a", "b"]))
    assert client.put_script_tags("ns", "s", ["a", "b"]) == ("a", "b")
    request = route.calls.last.request
    body = json.loads(request.content)
    assert body == ["a", "b"]
    path = request.url.path.removeprefix("/client/v4")
    assert openapi.validate_request("PUT", path, "application/json", body)


@respx.mock
def test_namespace_create_and_d1_query_bodies_match_the_spec(client, openapi):
    create = respx.post(f"{BASE}/accounts/{ACCOUNT}/workers/dispatch/namespaces").respond(
        json=envelope({"namespace_name": "x"})
    )
    query = respx.post(f"{BASE}/accounts/{ACCOUNT}/d1/database/db/query").respond(
        json=envelope([{"results": [], "success": True}])
    )
    client.create_namespace("x")
    client.d1_query("db", "SELECT ?", ["1"])
    for route, method in ((create, "POST"), (query, "POST")):
        request = route.calls.last.request
        path = request.url.path.removeprefix("/client/v4")
        assert openapi.validate_request(
            method, path, "application/json", json.loads(request.content)
        )


@respx.mock
def test_path_segments_are_percent_encoded(client):
    route = respx.get(f"{BASE}/accounts/{ACCOUNT}/workers/dispatch/namespaces/a%2Fb").respond(
        json=envelope({})
    )
    client.get_namespace("a/b")
    assert route.called


@respx.mock
def test_get_worker_reads_the_account_list(client):
    respx.get(f"{BASE}/accounts/{ACCOUNT}/workers/scripts").respond(
        json=envelope([{"id": "other"}, {"id": "dispatcher", "etag": "e1", "tags": ["m"]}])
    )
    assert client.get_worker("dispatcher").etag == "e1"
    with pytest.raises(NotFoundError):
        client.get_worker("missing")


# -- secrets stay secret -----------------------------------------------------------------


@respx.mock
def test_token_never_appears_in_logs_errors_or_reprs(client, caplog):
    caplog.set_level(logging.DEBUG)
    respx.get(NS_PATH).respond(403, json=failure(10000, f"bad token Bearer {TOKEN} ({TOKEN})"))
    respx.get(f"{NS_PATH}/scripts").mock(side_effect=httpx.ConnectError(f"no route {TOKEN}"))
    errors: list[BaseException] = []
    for call in (lambda: client.get_namespace("ns"), lambda: list(client.list_scripts("ns"))):
        with pytest.raises(WfpError) as info:
            call()
        errors.append(info.value)
    assert caplog.records, "the client logs requests at debug level"
    texts = [r.getMessage() for r in caplog.records] + [str(e) for e in errors]
    texts += [repr(e) for e in errors] + [repr(client), repr(client.settings)]
    for text in texts:
        assert TOKEN not in text


def test_settings_from_env_reads_wrangler_variables():
    settings = ClientSettings.from_env(
        {
            "CLOUDFLARE_API_TOKEN": TOKEN,
            "CLOUDFLARE_ACCOUNT_ID": "acc",
            "CLOUDFLARE_API_BASE_URL": "http://127.0.0.1:9/client/v4/",
            "WFP_RATE_LIMIT": "600",
            "WFP_RATE_WINDOW": "60",
            "WFP_CONCURRENCY": "3",
            "WFP_MAX_ATTEMPTS": "2",
        }
    )
    assert settings.window_seconds == 60.0
    assert settings.max_attempts == 2
    assert settings.account_id == "acc"
    assert settings.base_url == "http://127.0.0.1:9/client/v4"
    assert settings.requests_per_window == 600
    assert settings.max_concurrency == 3
    assert TOKEN not in repr(settings)


def test_settings_account_argument_overrides_the_environment():
    env = {"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_ACCOUNT_ID": "env-acc"}
    assert ClientSettings.from_env(env, account_id="yaml-acc").account_id == "yaml-acc"


def test_missing_token_names_the_variable_to_set():
    with pytest.raises(AuthError, match="CLOUDFLARE_API_TOKEN"):
        ClientSettings.from_env({"CLOUDFLARE_ACCOUNT_ID": "acc"})


@pytest.mark.parametrize(
    ("var", "value"),
    [("WFP_RATE_LIMIT", "lots"), ("WFP_RATE_WINDOW", "0"), ("WFP_CONCURRENCY", "-1")],
)
def test_bad_pacing_variable_is_a_clear_error(var, value):
    env = {"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_ACCOUNT_ID": "a", var: value}
    with pytest.raises(ValidationError, match=var):
        ClientSettings.from_env(env)


# -- pacing and concurrency --------------------------------------------------------------


def test_token_bucket_never_exceeds_the_limit_in_any_window(fake_time):
    limit, window = 50, 10.0
    bucket = TokenBucket(limit, window, clock=fake_time.clock, sleep=fake_time.sleep)
    stamps = []
    for _ in range(300):
        bucket.acquire()
        stamps.append(fake_time.now)
    for i, start in enumerate(stamps):
        in_window = [t for t in stamps[i:] if t < start + window]
        assert len(in_window) <= limit
    # ...and it is not needlessly slow: 300 requests at 50 per 10 s take about a minute.
    assert stamps[-1] - stamps[0] <= 300 / (limit - bucket.capacity) * window + 1


@respx.mock
def test_client_requests_are_paced_by_the_bucket(fake_time):
    settings = ClientSettings(
        account_id=ACCOUNT, api_token=TOKEN, base_url=BASE, requests_per_window=20, window_seconds=2
    )
    respx.get(NS_PATH).respond(json=envelope({}))
    with CloudflareClient(settings, sleep=fake_time.sleep, clock=fake_time.clock) as c:
        for _ in range(40):
            c.get_namespace("ns")
        assert c.stats.requests == 40
        assert c.stats.by_kind == {"get_namespace": 40}
        assert c.stats.slept_seconds == pytest.approx(sum(fake_time.sleeps))
    assert sum(fake_time.sleeps) >= 3.0


@respx.mock
def test_a_429_holds_back_every_thread(fake_time):
    settings = ClientSettings(account_id=ACCOUNT, api_token=TOKEN, base_url=BASE)
    with CloudflareClient(settings, sleep=fake_time.sleep, clock=fake_time.clock) as c:
        c._transport.bucket.pause(30)
        respx.get(NS_PATH).respond(json=envelope({}))
        c.get_namespace("ns")
    assert fake_time.sleeps and sum(fake_time.sleeps) >= 30


def test_map_concurrent_bounds_threads_and_returns_failures_in_place():
    settings = ClientSettings(account_id=ACCOUNT, api_token=TOKEN, max_concurrency=3)
    active = 0
    peak = 0
    lock = threading.Lock()

    def work(n: int) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.01)
        with lock:
            active -= 1
        if n == 4:
            raise NotFoundError("item 4 is missing")
        return n * 10

    with CloudflareClient(settings) as c:
        results = c.map_concurrent(work, range(10))
    assert peak <= 3
    assert results[:4] == [0, 10, 20, 30]
    assert isinstance(results[4], NotFoundError)
    assert results[5:] == [50, 60, 70, 80, 90]


def test_map_concurrent_lets_bugs_propagate():
    settings = ClientSettings(account_id=ACCOUNT, api_token=TOKEN)

    def broken(_: int) -> int:
        raise KeyError("bug")

    with CloudflareClient(settings) as c, pytest.raises(KeyError):
        c.map_concurrent(broken, [1])
