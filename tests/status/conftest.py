"""A small platform repository, applied to the emulator, to look at with `status`."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from wfp_reconcile.cli import main
from wfp_reconcile.local.emulator import EmulatorServer

ACCOUNT = "0123456789abcdef0123456789abcdef"
MODULE = 'export default { async fetch() { return new Response("%s"); } };\n'


@dataclasses.dataclass
class Repo:
    root: Path
    platform: dict[str, Any]
    run: Callable[..., tuple[int, str, str]]

    def write_platform(self) -> None:
        (self.root / "platform.yaml").write_text(yaml.safe_dump(self.platform, sort_keys=False))

    def customer(self, cid: str, scripts: list[str], **extra: Any) -> None:
        directory = self.root / "customers" / cid
        directory.mkdir(parents=True, exist_ok=True)
        for name in scripts:
            if not (directory / f"{name}.mjs").exists():
                (directory / f"{name}.mjs").write_text(MODULE % name)
        doc = {
            "id": cid,
            "name": cid.title(),
            "plan": "basic",
            **extra,
            "scripts": {name: {"main_module": f"{name}.mjs"} for name in scripts},
        }
        (directory / "customer.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))

    def touch(self, cid: str, script: str, text: str) -> None:
        (self.root / "customers" / cid / f"{script}.mjs").write_text(MODULE % text)

    def apply(self) -> None:
        code, _, err = self.run("apply", "--repo", str(self.root), "--auto-approve")
        assert code == 0, err

    def status(self, *args: str) -> tuple[int, str, str]:
        return self.run("status", "--repo", str(self.root), *args)

    def status_json(self, *args: str) -> dict[str, Any]:
        code, out, err = self.status("--format", "json", *args)
        assert code == 0, err
        return dict(json.loads(out))


@pytest.fixture
def repo(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> Repo:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", emulator.api_token)
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", emulator.api_base)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    root = tmp_path / "repo"
    root.mkdir()
    built = Repo(
        root=root,
        platform={
            "account_id": ACCOUNT,
            "namespace": "test-ns",
            "compatibility_date": "2024-09-01",
            "dispatcher": {"name": "test-dispatcher"},
            "safety": {"max_deletes": 10, "max_delete_fraction": 1.0},
        },
        run=run,
    )
    built.write_platform()
    return built
