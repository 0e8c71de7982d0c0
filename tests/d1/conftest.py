"""A platform repository with a D1 mirror, on a real emulator whose D1 is SQLite."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cli_fixtures import point_cli_at, run  # noqa: F401 (the `run` fixture)

from wfp_reconcile.cloudflare import CloudflareClient
from wfp_reconcile.local.emulator import EmulatorServer

ACCOUNT = "0123456789abcdef0123456789abcdef"
MODULE = 'export default { async fetch() { return new Response("%s"); } };\n'


@dataclasses.dataclass
class D1Repo:
    """A platform repository on disk whose platform.yaml names an emulated D1 database."""

    root: Path
    platform: dict[str, Any]
    database_id: str
    db_file: Path

    def write_platform(self) -> None:
        (self.root / "platform.yaml").write_text(yaml.safe_dump(self.platform, sort_keys=False))

    def customer(
        self, cid: str, scripts: dict[str, dict[str, Any]] | list[str], **extra: Any
    ) -> None:
        directory = self.root / "customers" / cid
        directory.mkdir(parents=True, exist_ok=True)
        if isinstance(scripts, list):
            scripts = {name: {} for name in scripts}
        declared = {}
        for name, spec in scripts.items():
            main_module = directory / f"{name}.mjs"
            if not main_module.exists():
                main_module.write_text(MODULE % name)
            declared[name] = {"main_module": main_module.name, **spec}
        doc = {"id": cid, "name": cid.title(), "plan": "basic", **extra, "scripts": declared}
        (directory / "customer.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))

    def edit_customer(self, cid: str, **changes: Any) -> None:
        path = self.root / "customers" / cid / "customer.yaml"
        doc = yaml.safe_load(path.read_text())
        doc.update(changes)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))

    def touch_module(self, cid: str, script: str, text: str) -> None:
        (self.root / "customers" / cid / f"{script}.mjs").write_text(MODULE % text)

    def remove_customer(self, cid: str) -> None:
        shutil.rmtree(self.root / "customers" / cid)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows read straight from the SQLite file behind the emulated database."""
        with sqlite3.connect(self.db_file) as conn:
            return conn.execute(sql).fetchall()

    def change_counter(self) -> int:
        """SQLite's file change counter: it grows with every committed write."""
        return int.from_bytes(self.db_file.read_bytes()[24:28], "big")


@pytest.fixture
def cf(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    point_cli_at(monkeypatch, emulator, ACCOUNT)
    return emulator


@pytest.fixture
def d1_repo(tmp_path: Path, cf: EmulatorServer, emulator_client: CloudflareClient) -> D1Repo:
    database_id = str(emulator_client.create_d1_database("platform-db")["uuid"])
    emulator_client.ensure_namespace("test-ns")
    root = tmp_path / "repo"
    (root / "platform" / "outbound").mkdir(parents=True)
    (root / "platform" / "outbound" / "egress.mjs").write_text(
        "export default { async fetch(request) { return fetch(request); } };\n"
    )
    repo = D1Repo(
        root=root,
        platform={
            "account_id": ACCOUNT,
            "namespace": "test-ns",
            "compatibility_date": "2024-09-01",
            "outbound_workers": {
                "egress": {
                    "main_module": "platform/outbound/egress.mjs",
                    "parameters": ["allow_hosts"],
                }
            },
            "dispatcher": {"name": "test-dispatcher"},
            "d1": {"name": "platform-db", "database_id": database_id},
            "default_limits": {"cpu_ms": 50, "subrequests": 20},
            "safety": {"max_deletes": 10, "max_delete_fraction": 1.0},
        },
        database_id=database_id,
        db_file=tmp_path / "emulator" / "d1" / f"{database_id}.sqlite3",
    )
    repo.write_platform()
    return repo


@pytest.fixture
def apply_repo(
    run: Callable[..., tuple[int, str, str]],  # noqa: F811 (the fixture imported above)
    d1_repo: D1Repo,
) -> Iterator[Callable[..., tuple[int, str, str]]]:
    def apply(*extra: str) -> tuple[int, str, str]:
        return run("apply", "--repo", str(d1_repo.root), "--auto-approve", *extra)

    yield apply


# After every successful CLI apply: dispatcher routes, D1 rows and the summary agree.
from tests.engine.outcome_check import outcome_invariant  # noqa: E402, F401
