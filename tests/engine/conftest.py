from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import yaml
from tests.cli_fixtures import point_cli_at, run  # noqa: F401 (the `run` fixture)

from wfp_reconcile.local.emulator import FaultConfig

ACCOUNT = "0123456789abcdef0123456789abcdef"
TEMPLATE = (
    'import { platformThing } from "./platform_module.mjs";\n'
    "export default {\n"
    "  async fetch(request, env, ctx) {\n"
    '    return new Response("Hello! " + platformThing + " %s");\n'
    "  }\n"
    "};\n"
)


@dataclasses.dataclass
class PlatformRepoBuilder:
    """Writes a platform repository into a directory, one customer at a time."""

    root: Path
    platform: dict[str, object]

    def write_platform(self) -> None:
        (self.root / "platform.yaml").write_text(yaml.safe_dump(self.platform, sort_keys=False))

    def customer(
        self,
        cid: str,
        scripts: dict[str, dict[str, object]] | list[str],
        *,
        plan: str = "basic",
        **extra: object,
    ) -> Path:
        directory = self.root / "customers" / cid
        directory.mkdir(parents=True, exist_ok=True)
        if isinstance(scripts, list):
            scripts = {name: {} for name in scripts}
        declared: dict[str, dict[str, object]] = {}
        for name, spec in scripts.items():
            main = f"{name}.mjs"
            if not (directory / main).exists():
                (directory / main).write_text(TEMPLATE % name)
            declared[name] = {"main_module": main, **spec}
        doc: dict[str, object] = {"id": cid, "name": cid.title(), "plan": plan, **extra}
        doc["scripts"] = declared
        (directory / "customer.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        return directory

    def remove_customer(self, cid: str) -> None:
        shutil.rmtree(self.root / "customers" / cid)

    def edit_customer(self, cid: str, **changes: object) -> None:
        path = self.root / "customers" / cid / "customer.yaml"
        doc = yaml.safe_load(path.read_text())
        doc.update(changes)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.fixture
def platform_repo(tmp_path: Path) -> PlatformRepoBuilder:
    root = tmp_path / "repo"
    (root / "platform" / "outbound").mkdir(parents=True)
    (root / "platform" / "platform_module.mjs").write_text(
        'const platformThing = "This module is provided by the platform"; '
        "export { platformThing };\n"
    )
    (root / "platform" / "outbound" / "egress.mjs").write_text(
        "export default { async fetch(request, env) { return fetch(request); } };\n"
    )
    builder = PlatformRepoBuilder(
        root=root,
        platform={
            "account_id": ACCOUNT,
            "namespace": "test-ns",
            "compatibility_date": "2024-09-01",
            "platform_modules": ["platform/platform_module.mjs"],
            "outbound_workers": {
                "egress": {
                    "main_module": "platform/outbound/egress.mjs",
                    "parameters": ["customer_id", "allow_hosts"],
                }
            },
            "dispatcher": {"name": "test-dispatcher"},
            "safety": {"max_deletes": 10, "max_delete_fraction": 0.5},
        },
    )
    builder.write_platform()
    return builder


# Shapes Cloudflare may answer "list scripts" in (issue 12): every engine test runs in each.
LIST_MODES: dict[str, dict[str, object]] = {
    "flat": {},
    "wrapped": {"list_shape": "wrapped"},
    "untagged": {"list_without_tags": True},
}


@pytest.fixture(params=sorted(LIST_MODES))
def list_mode(request: pytest.FixtureRequest) -> str:
    only = request.node.get_closest_marker("list_modes")
    if only is not None and request.param not in only.args:
        pytest.skip(f"compares list modes itself; not run in the {request.param!r} mode")
    return str(request.param)


@pytest.fixture
def cf(emulator, monkeypatch, list_mode, request):
    """The emulator in one list mode, with the CLI's environment pointing at it.

    Faults a test sets keep the list mode unless the test sets those fields itself. In the
    flat mode the platform also mirrors into a D1 database, so that the outcome check
    (outcome_check.py) compares the mirror's rows with the routes and the summary on every
    scenario of the suite.
    """
    mode = LIST_MODES[list_mode]
    set_faults = emulator.set_faults

    def with_mode(faults: FaultConfig) -> None:
        keep = {k: v for k, v in mode.items() if k not in faults.model_fields_set}
        set_faults(faults.model_copy(update=keep))

    with_mode(FaultConfig())
    monkeypatch.setattr(emulator, "set_faults", with_mode)
    point_cli_at(monkeypatch, emulator, ACCOUNT)
    if list_mode == MIRRORED and "platform_repo" in request.fixturenames:
        builder = request.getfixturevalue("platform_repo")
        client = request.getfixturevalue("emulator_client")
        database = client.create_d1_database("platform-db")["uuid"]
        builder.platform["d1"] = {"name": "platform-db", "database_id": str(database)}
        builder.write_platform()
    return emulator


MIRRORED = "flat"
"""The list mode whose platform has a D1 mirror."""


# After every successful CLI apply: dispatcher routes, D1 rows and the summary agree.

from .outcome_check import outcome_invariant  # noqa: E402, F401
