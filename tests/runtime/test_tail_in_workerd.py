"""Trace events in real workerd: the runtime hands each invocation of a Worker that names
tail consumers to the tail Worker (the example repo's platform/tail/trace.mjs)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from wfp_reconcile.config.model import (
    Customer,
    Platform,
    PlatformRepo,
    Script,
    TailWorker,
)
from wfp_reconcile.desired import DesiredState, build_desired
from wfp_reconcile.local.runtime import RuntimeSettings, run_runtime

from .conftest import InternalEndpoints, requires_node

pytestmark = [requires_node, pytest.mark.workerd]

ACCOUNT = "acc"
NAMESPACE = "ns"
TRACE = (Path(__file__).parents[2] / "platform" / "tail" / "trace.mjs").read_bytes()
FILES = {
    "platform/tail/trace.mjs": TRACE,
    "customers/acme/ok.mjs": b"""
export default { fetch() { console.log("hello from ok"); return new Response("ok"); } };
""",
    "customers/acme/boom.mjs": b"""
export default { fetch() { throw new TypeError("kaboom"); } };
""",
    "customers/quiet/quiet.mjs": b"""
export default { fetch() { return new Response("quiet"); } };
""",
}


class Logs:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()

    def append(self, line: str) -> None:
        with self._cond:
            self.lines.append(line)
            self._cond.notify_all()

    def records(self, prefix: str) -> list[dict[str, Any]]:
        with self._cond:
            return [json.loads(x.split(prefix, 1)[1]) for x in self.lines if prefix in x]

    def wait_for(self, prefix: str, pred: Any, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for rec in self.records(prefix):
                if pred(rec):
                    return rec
            with self._cond:
                self._cond.wait(timeout=0.1)
        raise AssertionError(f"no matching {prefix!r} line in:\n" + "\n".join(self.lines[-40:]))


LOGS = Logs()


def make_repo() -> PlatformRepo:
    platform = Platform(
        account_id=ACCOUNT,
        namespace=NAMESPACE,
        compatibility_date="2026-01-01",
        tail_workers={"trace": TailWorker(main_module="platform/tail/trace.mjs")},
    )
    acme = Customer(
        id="acme",
        name="Acme",
        plan="pro",
        scripts={"ok": Script(main_module="ok.mjs"), "boom": Script(main_module="boom.mjs")},
    )
    quiet = Customer(
        id="quiet",
        name="Quiet",
        plan="free",
        tail=False,
        scripts={"quiet": Script(main_module="quiet.mjs")},
    )
    return PlatformRepo(platform=platform, customers=(acme, quiet), files=FILES, commit="abc")


@pytest.fixture(scope="module")
def desired() -> DesiredState:
    return build_desired(make_repo())


@pytest.fixture(scope="module")
def http(endpoints: InternalEndpoints, desired: DesiredState) -> Iterator[httpx.Client]:
    for worker in desired.outbound:
        endpoints.put_worker(ACCOUNT, worker.name, worker.upload_with_tags())
    for worker in desired.scripts:
        endpoints.put_namespaced(ACCOUNT, NAMESPACE, worker.name, worker.upload_with_tags())
    assert desired.dispatcher is not None
    endpoints.put_worker(ACCOUNT, desired.dispatcher.name, desired.dispatcher.upload_with_tags())
    settings = RuntimeSettings(
        emulator_url=endpoints.url,
        account_id=ACCOUNT,
        dispatcher_name=desired.dispatcher.name,
        port=0,
    )
    with (
        run_runtime(settings, on_log=LOGS.append) as runtime,
        httpx.Client(base_url=runtime.url, timeout=30) as client,
    ):
        yield client


def test_tail_worker_records_a_dispatched_request_with_script_customer_and_outcome(
    http: httpx.Client,
) -> None:
    assert http.get("/ok/").text == "ok"
    rec = LOGS.wait_for("wfp-trace ", lambda r: r["script"] == "ok")
    assert rec["customer"] == "acme"
    assert rec["role"] == "customer"
    assert rec["outcome"] == "ok"
    assert rec["status"] == 200
    assert rec["path"] == "/ok/"
    assert isinstance(rec["cpu_ms"], int | float)
    assert rec["exceptions"] == []


def test_tail_worker_records_the_exception_of_a_failing_script(http: httpx.Client) -> None:
    assert http.get("/boom/").status_code == 502
    rec = LOGS.wait_for("wfp-trace ", lambda r: r["script"] == "boom")
    assert rec["customer"] == "acme"
    assert rec["outcome"] == "exception"
    assert rec["exceptions"] == [{"name": "TypeError", "message": "kaboom"}]


def test_dispatcher_invocations_reach_the_tail_worker_too(
    http: httpx.Client, desired: DesiredState
) -> None:
    assert desired.dispatcher is not None
    http.get("/ok/?from=dispatcher-test")
    rec = LOGS.wait_for(
        "wfp-trace ",
        lambda r: r["role"] == "dispatcher" and r["path"] == "/ok/",
    )
    assert rec["script"] == desired.dispatcher.name
    assert rec["customer"] is None


def test_runtime_prints_one_summary_line_per_event_for_dev(http: httpx.Client) -> None:
    http.get("/ok/")
    line = LOGS.wait_for("wfp-tail ", lambda r: r["script"] == "ok")
    assert line["consumer"] == "trace"
    assert line["namespace"] == NAMESPACE
    assert "acme" in line["tags"]
    assert line["outcome"] == "ok"


def test_credentials_in_requests_never_reach_the_tail_worker_or_the_log(
    http: httpx.Client,
) -> None:
    http.get("/ok/?token=sekrit-query", headers={"X-Customer-Token": "sekrit-header"})
    LOGS.wait_for("wfp-tail ", lambda r: "token=REDACTED" in (r["url"] or ""))
    assert not any("sekrit" in line for line in LOGS.lines)


def test_customer_with_tail_false_produces_no_trace_events(http: httpx.Client) -> None:
    assert http.get("/quiet/").text == "quiet"
    # The dispatcher's own event for the same request proves delivery has happened.
    LOGS.wait_for("wfp-trace ", lambda r: r["role"] == "dispatcher" and r["path"] == "/quiet/")
    time.sleep(0.3)
    assert not [r for r in LOGS.records("wfp-trace ") if r["script"] == "quiet"]
