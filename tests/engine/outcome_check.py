"""One outcome: after every apply of the engine and D1 suites, the dispatcher's routes,
the D1 mirror's rows and the apply summary must describe the same set of scripts.

Installed as an autouse fixture by tests/engine/conftest.py and tests/d1/conftest.py: it
wraps the CLI's ``apply_plan`` and, after each successful apply (pre-flight's skips
allowed), reads back what was
really uploaded (the dispatcher's manifest module in the emulator's store) and written
(``deployed_scripts`` in D1), and compares both with the apply's inventory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from wfp_reconcile.cli import plan_cmds
from wfp_reconcile.dispatcher import MANIFEST_MODULE
from wfp_reconcile.local.emulator import EmulatorServer
from wfp_reconcile.local.emulator.store import REGULAR
from wfp_reconcile.render import render_apply_result


def deployed_manifest(emulator: EmulatorServer, account: str, name: str) -> dict[str, Any] | None:
    modules = emulator.state.store.get_modules(account, REGULAR, name)
    for module in modules:
        if module.name == MANIFEST_MODULE:
            manifest: dict[str, Any] = json.loads(module.content)
            return manifest
    return None


def check_after_apply(emulator: EmulatorServer, repo: Any, client: Any, result: Any) -> None:
    inventory = result.inventory
    assert inventory is not None, "apply_plan must report what is deployed and ours"
    scripts = inventory.of("script")
    owners = {name: c.id for c in repo.customers for name in c.scripts}
    served = {n for n, e in scripts.items() if owners.get(n) == e.customer}

    platform = repo.platform
    manifest = deployed_manifest(emulator, platform.account_id, platform.dispatcher.name)
    assert manifest is not None, "a successful apply leaves a dispatcher"
    assert set(manifest["scripts"]) == served
    for name in served:
        assert manifest["scripts"][name]["customer"] == scripts[name].customer
        assert manifest["scripts"][name]["fingerprint"] == scripts[name].fingerprint

    summary = render_apply_result(result)
    found = re.search(
        r"Deployed and ours: (\d+) customer scripts as declared(?:, (\d+) as)?", summary
    )
    assert found is not None, summary
    assert int(found[1]) + int(found[2] or 0) == len(scripts)

    if platform.d1 is not None and result.mirror is not None and result.mirror.ok:
        rows = client.d1_query(
            platform.d1.database_id, "SELECT script, customer_id, fingerprint FROM deployed_scripts"
        )
        assert {r["script"]: (r["customer_id"], r["fingerprint"]) for r in rows} == {
            n: (e.customer, e.fingerprint) for n, e in scripts.items()
        }


@pytest.fixture(autouse=True)
def outcome_invariant(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if "cf" not in request.fixturenames:
        yield
        return
    emulator: EmulatorServer = request.getfixturevalue("cf")
    real = plan_cmds.apply_plan
    broken: list[AssertionError] = []

    def checked(plan: Any, repo: Any, client: Any, **kwargs: Any) -> Any:
        result = real(plan, repo, client, **kwargs)
        # Skipped uploads (pre-flight) are not failures: everything else was applied.
        if result.ok or (result.skipped and not result.failed and not result.not_attempted):
            try:
                check_after_apply(emulator, repo, client, result)
            except AssertionError as exc:  # the CLI would turn it into exit code 3
                broken.append(exc)
        return result

    monkeypatch.setattr(plan_cmds, "apply_plan", checked)
    yield
    if broken:
        raise broken[0]
