"""``wfp-reconcile dev`` creates the D1 databases that scripts declare, so the example
repository's D1 counter works offline."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.config.model import Customer, Platform, PlatformRepo, Script
from wfp_reconcile.errors import RuntimeSetupError
from wfp_reconcile.local.emulator import EmulatorServer
from wfp_reconcile.local.runtime.d1local import (
    ScriptDatabase,
    declared_databases,
    ensure_local_databases,
)
from wfp_reconcile.local.runtime.devstack import DevEvent, DevSettings, DevStack

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "0123456789abcdef0123456789abcdef"  # tests/conftest.py EMULATOR_ACCOUNT
ONE = "aaaaaaaa-0000-4000-8000-000000000001"
TWO = "bbbbbbbb-0000-4000-8000-000000000002"
DEMO_HITS = "5c0ffee0-d1d1-4d1d-8d1d-0000000000a2"


def repo_with(*scripts: tuple[str, dict[str, str]]) -> PlatformRepo:
    platform = Platform(account_id=ACCOUNT, namespace="ns", compatibility_date="2026-01-01")
    customer = Customer(
        id="acme",
        name="Acme",
        plan="pro",
        scripts={name: Script(main_module="m.mjs", d1=d1) for name, d1 in scripts},
    )
    return PlatformRepo(platform=platform, customers=(customer,), files={})


def test_declared_databases_lists_each_id_once_with_every_binding_that_uses_it() -> None:
    repo = repo_with(("b", {"DB": ONE}), ("a", {"MAIN": ONE, "LOGS": TWO}), ("c", {}))

    assert declared_databases(repo) == (
        ScriptDatabase(ONE, ("a.MAIN", "b.DB")),
        ScriptDatabase(TWO, ("a.LOGS",)),
    )


def test_missing_databases_are_created_once_with_their_declared_ids(
    emulator: EmulatorServer, emulator_client: CloudflareClient
) -> None:
    repo = repo_with(("a", {"MAIN": ONE, "LOGS": TWO}))

    first = ensure_local_databases(repo, emulator.url, secret=emulator.internal_secret)
    second = ensure_local_databases(repo, emulator.url, secret=emulator.internal_secret)

    assert [db.database_id for db in first] == [ONE, TWO]
    assert second == ()
    assert sorted(d["uuid"] for d in emulator_client.list_d1_databases()) == [ONE, TWO]


def test_a_database_the_emulator_refuses_is_a_setup_error_naming_the_binding(
    emulator: EmulatorServer, emulator_client: CloudflareClient
) -> None:
    # A database created through the API under the name dev would give this id.
    emulator_client.create_d1_database(ONE)

    with pytest.raises(RuntimeSetupError, match=rf"D1 database {ONE} \(bound as a.MAIN\)"):
        ensure_local_databases(
            repo_with(("a", {"MAIN": ONE})), emulator.url, secret=emulator.internal_secret
        )


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / "platform.yaml", repo)
    for name in ("platform", "customers"):
        shutil.copytree(ROOT / name, repo / name)
    return repo


@pytest.fixture
def stack(example_repo: Path, tmp_path: Path) -> Iterator[tuple[DevStack, list[DevEvent]]]:
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    events: list[DevEvent] = []
    settings = DevSettings(repo_dir=example_repo, port=0, state_dir=tmp_path / "state", env={})
    with DevStack(settings, on_event=events.append) as dev:
        yield dev, events


@pytest.mark.workerd
def test_dev_creates_the_example_counters_database_and_the_counter_counts(
    stack: tuple[DevStack, list[DevEvent]],
) -> None:
    dev, events = stack
    assert dev.runtime is not None and dev.emulator is not None

    with httpx.Client(base_url=dev.runtime.url, timeout=30) as http:
        first = http.get("/advanced-counter/")
        second = http.get("/advanced-counter/again")

    assert [e.message for e in events if e.kind == "d1"] == [
        f"Created local D1 database {DEMO_HITS} (bound as advanced-counter.HITS)."
    ]
    assert first.status_code == 200, first.text
    assert second.json() == {
        "script": "advanced-counter",
        "path": "/advanced-counter/again",
        "hits": first.json()["hits"] + 1,
    }
    repo = load_repo_dir(dev.settings.repo_dir, env={})
    assert dev.reload()  # re-applying finds the database and creates nothing
    assert len([e for e in events if e.kind == "d1"]) == 1
    assert repo.customer("advanced").scripts["advanced-counter"].d1 == {"HITS": DEMO_HITS}
