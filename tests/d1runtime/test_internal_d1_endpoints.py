"""The emulator's internal D1 endpoints that the local runtime's D1 bindings use."""

from __future__ import annotations

import httpx

from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.local.emulator import EmulatorServer

ACCOUNT = "0123456789abcdef0123456789abcdef"  # tests/conftest.py EMULATOR_ACCOUNT
DB_ID = "7c0e5a1b-3d2f-4e6a-9b8c-1d2e3f4a5b6c"


def ensure(http: httpx.Client, db: str = DB_ID, **body: str) -> httpx.Response:
    return http.put(f"/__emulator/d1/{ACCOUNT}/{db}", json=body or None)


def query(http: httpx.Client, body: object, kind: str = "query", db: str = DB_ID) -> httpx.Response:
    return http.post(f"/__emulator/d1/{ACCOUNT}/{db}/{kind}", json=body)


def test_put_creates_a_database_with_the_given_id_once(
    emulator: EmulatorServer, emulator_client: CloudflareClient
) -> None:
    with httpx.Client(base_url=emulator.url, headers=emulator.internal_headers) as http:
        first = ensure(http, name="customer-db")
        again = ensure(http, name="customer-db")

    assert first.status_code == 201
    assert first.json()["result"]["uuid"] == DB_ID
    assert again.status_code == 200
    assert [(d["uuid"], d["name"]) for d in emulator_client.list_d1_databases()] == [
        (DB_ID, "customer-db")
    ]


def test_put_without_a_name_names_the_database_after_its_id(emulator: EmulatorServer) -> None:
    with httpx.Client(base_url=emulator.url, headers=emulator.internal_headers) as http:
        created = ensure(http)

    assert created.json()["result"]["name"] == DB_ID


def test_put_refuses_an_id_that_is_not_a_uuid_and_a_name_taken_by_another_id(
    emulator: EmulatorServer,
) -> None:
    other = "00000000-1111-4222-8333-444444444444"
    with httpx.Client(base_url=emulator.url, headers=emulator.internal_headers) as http:
        bad = ensure(http, "platform-db")
        ensure(http, name="taken")
        clash = ensure(http, other, name="taken")

    assert bad.status_code == 400
    assert clash.status_code == 409
    assert "already exists" in clash.json()["errors"][0]["message"]


def test_query_runs_in_the_same_sqlite_as_the_cloudflare_api(
    emulator: EmulatorServer, emulator_client: CloudflareClient
) -> None:
    with httpx.Client(base_url=emulator.url, headers=emulator.internal_headers) as http:
        ensure(http)
        created = query(http, {"sql": "CREATE TABLE t (a INTEGER, b TEXT)"})
        inserted = query(
            http,
            {
                "batch": [
                    {"sql": "INSERT INTO t VALUES (?, ?)", "params": [1, "one"]},
                    {"sql": "INSERT INTO t VALUES (?, ?)", "params": [2, "two"]},
                ]
            },
        )
        raw = query(http, {"sql": "SELECT b, a FROM t ORDER BY a"}, "raw")

    assert created.json()["success"] is True
    assert [r["meta"]["changes"] for r in inserted.json()["result"]] == [1, 1]
    assert raw.json()["result"][0]["results"] == {
        "columns": ["b", "a"],
        "rows": [["one", 1], ["two", 2]],
    }
    assert emulator_client.d1_query(DB_ID, "SELECT count(*) AS n FROM t") == [{"n": 2}]


def test_query_errors_come_back_in_cloudflares_envelope(emulator: EmulatorServer) -> None:
    with httpx.Client(base_url=emulator.url, headers=emulator.internal_headers) as http:
        missing_db = query(http, {"sql": "SELECT 1"})
        ensure(http)
        bad_sql = query(http, {"sql": "SELECT * FROM nowhere"})
        bad_body = query(http, {"statement": "SELECT 1"})

    assert missing_db.status_code == 404
    assert bad_sql.status_code == 400
    error = bad_sql.json()["errors"][0]
    assert error["code"] == 7500
    assert "no such table: nowhere" in error["message"]
    assert bad_body.status_code == 400
    assert bad_body.json()["success"] is False


def test_script_queries_are_not_counted_as_api_requests(emulator: EmulatorServer) -> None:
    with httpx.Client(base_url=emulator.url, headers=emulator.internal_headers) as http:
        ensure(http)
        query(http, {"sql": "SELECT 1"})
        log = http.get("/__emulator/requests").json()

    assert log["total"] == 0
