"""D1 bindings of customer scripts in real workerd, backed by the emulator's SQLite.

One emulator and one runtime per module: the repository below is applied through the
engine (as ``wfp-reconcile dev`` does) and eyeball requests go through the dispatcher.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from wfp_reconcile.cloudflare import ClientSettings, CloudflareClient
from wfp_reconcile.config.model import Customer, Platform, PlatformRepo, Script
from wfp_reconcile.local.emulator import EmulatorServer, run_emulator
from wfp_reconcile.local.runtime import RuntimeSettings, run_runtime
from wfp_reconcile.local.runtime.devstack import apply_with_engine

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
    pytest.mark.workerd,
]

ACCOUNT = "d1account"
NAMESPACE = "d1ns"
DB_ID = "5a0c9e4f-8b7d-4c3e-a2f1-0e9d8c7b6a50"
MISSING_DB = "99999999-8888-4777-8666-555555555555"

# Each path of this script exercises one part of the D1 client API and answers JSON.
D1_SCRIPT = (Path(__file__).parent / "counter.mjs").read_bytes()

CLASS_SCRIPT = b"""
import { WorkerEntrypoint } from "cloudflare:workers";
export default class extends WorkerEntrypoint {
  async fetch() {
    const row = await this.env.STORE.prepare("SELECT 40 + ? AS answer").bind(2).first();
    return Response.json({ answer: row.answer, greeting: this.env.GREETING });
  }
}
"""

MISSING_SCRIPT = b"""
export default {
  async fetch(request, env) {
    try {
      await env.DB.prepare("SELECT 1").all();
      return new Response("no error");
    } catch (error) {
      return new Response(error.message, { status: 500 });
    }
  },
};
"""


def make_repo() -> PlatformRepo:
    platform = Platform(account_id=ACCOUNT, namespace=NAMESPACE, compatibility_date="2026-01-01")
    acme = Customer(
        id="acme",
        name="Acme",
        plan="pro",
        scripts={
            "counter": Script(main_module="counter.mjs", d1={"DB": DB_ID}, vars={"MODE": "t"}),
            "classy": Script(
                main_module="classy.mjs", d1={"STORE": DB_ID}, vars={"GREETING": "hi"}
            ),
            "lost": Script(main_module="lost.mjs", d1={"DB": MISSING_DB}),
        },
    )
    files = {
        "customers/acme/counter.mjs": D1_SCRIPT,
        "customers/acme/classy.mjs": CLASS_SCRIPT,
        "customers/acme/lost.mjs": MISSING_SCRIPT,
    }
    return PlatformRepo(platform=platform, customers=(acme,), files=files, commit=None)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with run_emulator(None, api_token=secrets.token_urlsafe(16)) as server:
        yield server


@pytest.fixture(scope="module")
def api(emulator: EmulatorServer) -> Iterator[CloudflareClient]:
    settings = ClientSettings(
        account_id=ACCOUNT,
        api_token=emulator.api_token,
        base_url=emulator.api_base,
        requests_per_window=1_000_000,
    )
    with CloudflareClient(settings) as client:
        yield client


@pytest.fixture(scope="module")
def http(emulator: EmulatorServer, api: CloudflareClient) -> Iterator[httpx.Client]:
    repo = make_repo()
    created = httpx.put(
        f"{emulator.url}/__emulator/d1/{ACCOUNT}/{DB_ID}",
        headers=emulator.internal_headers,
        json={"name": "t"},
    )
    assert created.status_code == 201
    outcome = apply_with_engine(repo, api)
    assert outcome.ok, outcome.failed
    settings = RuntimeSettings(
        emulator_url=emulator.url,
        emulator_secret=emulator.internal_secret,
        account_id=ACCOUNT,
        dispatcher_name=repo.platform.dispatcher.name,
        port=0,
    )
    with (
        run_runtime(settings) as runtime,
        httpx.Client(base_url=runtime.url, timeout=30) as client,
    ):
        yield client


def get(http: httpx.Client, path: str) -> Any:
    response = http.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def test_upload_carries_the_d1_binding(emulator: EmulatorServer, http: httpx.Client) -> None:
    bundle = httpx.get(
        f"{emulator.url}/__emulator/bundles/{ACCOUNT}/{NAMESPACE}/counter",
        headers=emulator.internal_headers,
    ).json()

    assert bundle["bindings"] == [
        {"type": "d1", "name": "DB", "id": DB_ID},
        {"type": "plain_text", "name": "MODE", "text": "t"},
    ]


def test_script_writes_rows_and_reads_its_count_back(http: httpx.Client) -> None:
    first = get(http, "/counter/hit")
    second = get(http, "/counter/hit")

    assert second["n"] == first["n"] + 1
    assert second["changes"] == 1
    assert second["last_row_id"] > first["last_row_id"]
    assert second["success"] is True
    assert second["results"] == []


def test_rows_written_by_the_script_are_in_the_emulators_d1(
    http: httpx.Client, api: CloudflareClient
) -> None:
    n = get(http, "/counter/hit")["n"]

    rows = api.d1_query(DB_ID, "SELECT count(*) AS n FROM hits WHERE path = '/hit'")

    assert rows == [{"n": n}]


def test_all_returns_rows_meta_and_success(http: httpx.Client) -> None:
    get(http, "/counter/hit")
    get(http, "/counter/hit")

    result = get(http, "/counter/all")

    assert result["success"] is True
    assert result["results"] == [{"path": "/hit"}, {"path": "/hit"}]
    assert result["meta"]["rows_read"] == 2
    assert result["meta"]["changes"] == 0


def test_first_returns_a_row_a_column_or_null(http: httpx.Client) -> None:
    get(http, "/counter/hit")

    result = get(http, "/counter/first-row")

    assert result == {"row": {"path": "/hit", "seven": 7}, "none": None, "noneCol": None}


def test_raw_returns_arrays_in_column_order_with_optional_names(http: httpx.Client) -> None:
    get(http, "/counter/hit")

    result = get(http, "/counter/raw")

    assert result == {"plain": [["/hit", 7]], "named": [["path", "seven"], ["/hit", 7]]}


def test_batch_runs_statements_in_order_and_returns_each_result(http: httpx.Client) -> None:
    results = get(http, "/counter/batch")

    assert [r["success"] for r in results] == [True, True, True]
    assert [r["changes"] for r in results[:2]] == [1, 1]
    assert results[2]["results"][0]["n"] >= 2


def test_a_failing_batch_is_rolled_back_and_throws(
    http: httpx.Client, api: CloudflareClient
) -> None:
    result = get(http, "/counter/batch-rollback")

    assert result["threw"] is True
    assert result["message"].startswith("D1_ERROR: ")
    assert "no such table: nowhere" in result["message"]
    assert api.d1_query(DB_ID, "SELECT * FROM hits WHERE path = '/rolled-back'") == []


def test_exec_runs_several_statements_and_counts_them(
    http: httpx.Client, api: CloudflareClient
) -> None:
    result = get(http, "/counter/exec")

    assert result["count"] == 3
    assert isinstance(result["duration"], int | float)
    assert len(api.d1_query(DB_ID, "SELECT t FROM notes")) >= 2


def test_d1_errors_surface_as_exceptions_in_the_script(http: httpx.Client) -> None:
    result = get(http, "/counter/caught")

    assert result["sql"].startswith("D1_ERROR: no such table: nowhere")
    assert result["column"] == "D1_COLUMN_NOTFOUND: Column not found (nope)"
    assert result["type"].startswith("D1_TYPE_ERROR: Type 'undefined' not supported")


def test_an_uncaught_d1_error_is_a_502_from_the_dispatcher(http: httpx.Client) -> None:
    response = http.get("/counter/throw")

    assert response.status_code == 502
    assert "nowhere" not in response.text  # the dispatcher never shows a script's error


def test_env_holds_the_binding_and_the_vars_but_no_internal_names(http: httpx.Client) -> None:
    assert get(http, "/counter/env") == {"keys": ["DB", "MODE"], "hasPrepare": "function"}


def test_a_worker_entrypoint_class_gets_its_binding_too(http: httpx.Client) -> None:
    assert get(http, "/classy/") == {"answer": 42, "greeting": "hi"}


def test_a_database_missing_from_the_emulator_is_a_clear_error(http: httpx.Client) -> None:
    response = http.get("/lost/")

    assert response.status_code == 500
    assert response.text.startswith(f"D1_ERROR: D1 database {MISSING_DB} does not exist")
