"""Issue 11 item 2: the dispatcher routes exactly what is deployed and ours after the apply.

Each attack was reproduced against the landed code: a name the plan marks as a conflict
was still routed, with the claiming customer's access mode, tokens and limits, to someone
else's code; ``apply --customer A`` uploaded a manifest routing names never created. The
workerd tests curl through the real dispatcher on the local stack.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator

import httpx
import pytest

from wfp_reconcile.bundle import Module, ScriptUpload
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.local.emulator import EmulatorServer
from wfp_reconcile.local.runtime import RuntimeSettings, run_runtime
from wfp_reconcile.status import Drift, read_status

from .conftest import ACCOUNT, PlatformRepoBuilder
from .outcome_check import deployed_manifest

NS = "test-ns"
DISPATCHER = "test-dispatcher"
OTHER_TEAM = "billing of another team: card numbers here"

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")


def _other_team_script() -> ScriptUpload:
    source = f'export default {{ fetch() {{ return new Response("{OTHER_TEAM}"); }} }};\n'
    return ScriptUpload(
        metadata={"main_module": "b.mjs", "compatibility_date": "2024-09-01", "tags": ["team-x"]},
        modules=(Module("b.mjs", source.encode(), "application/javascript+module"),),
    )


def _apply(run, root, *extra: str) -> tuple[int, str, str]:
    return run("apply", "--repo", str(root), "--auto-approve", *extra)


@pytest.fixture
def eyeballs(cf: EmulatorServer) -> Iterator[httpx.Client]:
    settings = RuntimeSettings(
        emulator_url=cf.url,
        account_id=ACCOUNT,
        dispatcher_name=DISPATCHER,
        port=0,
        default_compat_date="2024-09-01",
        emulator_secret=cf.internal_secret,
    )
    with run_runtime(settings) as runtime, httpx.Client(base_url=runtime.url, timeout=30) as c:
        yield c


def _eventually(client: httpx.Client, path: str, status: int) -> httpx.Response:
    deadline = time.monotonic() + 20
    while True:
        res = client.get(path)
        if res.status_code == status or time.monotonic() > deadline:
            return res
        time.sleep(0.2)


def _routed(cf: EmulatorServer) -> set[str]:
    manifest = deployed_manifest(cf, ACCOUNT, DISPATCHER)
    assert manifest is not None
    return set(manifest["scripts"])


def test_another_teams_script_under_a_declared_name_is_not_routed(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client
):
    emulator_client.ensure_namespace(NS)
    emulator_client.upload_script(NS, "billing", _other_team_script())
    platform_repo.customer("acme", {"billing": {"access": "public"}, "shop": {}})

    code, out, err = _apply(run, platform_repo.root)
    assert code == 0, err
    assert "! script billing" in out
    assert _routed(cf) == {"shop"}


@pytest.mark.workerd
@needs_node
def test_curl_through_the_dispatcher_never_reaches_another_teams_script(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client, eyeballs
):
    emulator_client.ensure_namespace(NS)
    emulator_client.upload_script(NS, "billing", _other_team_script())
    platform_repo.customer("acme", {"billing": {"access": "public"}, "shop": {}})
    assert _apply(run, platform_repo.root)[0] == 0

    res = eyeballs.get("/billing/")
    assert OTHER_TEAM not in res.text
    assert res.status_code == 404 and res.json()["error"] == "script_not_found"
    assert eyeballs.get("/shop/").status_code == 200


@pytest.mark.workerd
@needs_node
def test_a_protected_token_only_script_of_another_customer_does_not_become_public(
    platform_repo: PlatformRepoBuilder, cf, run, eyeballs
):
    token_sha = "0" * 64
    platform_repo.customer(
        "globex",
        {"vault": {"access": "token", "protect": True}, "site": {}},
        tokens=[{"name": "main", "sha256": token_sha}],
    )
    platform_repo.customer("acme", ["shop"])
    assert _apply(run, platform_repo.root)[0] == 0
    assert eyeballs.get("/vault/").status_code == 401
    # globex retires vault (protected: it stays deployed); acme claims the name as public.
    platform_repo.customer("globex", ["site"], tokens=[{"name": "main", "sha256": token_sha}])
    platform_repo.customer("acme", {"shop": {}, "vault": {"access": "public"}})

    code, out, err = _apply(run, platform_repo.root)
    assert code == 0, err
    assert "! script vault" in out and "deployed for customer globex" in out
    assert "vault" not in _routed(cf)
    res = _eventually(eyeballs, "/vault/", 404)  # the runtime picks the new manifest up
    assert res.status_code == 404, res.text  # never globex's code behind acme's access mode


def test_apply_for_one_customer_routes_no_name_that_was_never_created(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client
):
    platform_repo.customer("acme", ["a1"])
    platform_repo.customer("globex", ["g1", "g2"])

    code, _, err = _apply(run, platform_repo.root, "--customer", "acme")
    assert code == 0, err
    assert {s.id for s in emulator_client.list_scripts(NS)} == {"a1"}
    assert _routed(cf) == {"a1"}

    assert _apply(run, platform_repo.root)[0] == 0
    assert _routed(cf) == {"a1", "g1", "g2"}


def test_status_calls_a_script_deployed_for_another_customer_a_conflict_as_plan_does(
    platform_repo: PlatformRepoBuilder, cf, run, emulator_client
):
    platform_repo.customer("globex", {"vault": {"protect": True}, "site": {}})
    assert _apply(run, platform_repo.root)[0] == 0
    platform_repo.customer("globex", ["site"])
    platform_repo.customer("acme", ["vault"])

    code, out, _ = run("plan", "--repo", str(platform_repo.root))
    assert "! script vault" in out
    report = read_status(load_repo_dir(platform_repo.root), emulator_client)
    acme = next(c for c in report.customers if c.id == "acme")
    assert [(s.name, s.state) for s in acme.scripts] == [("vault", Drift.CONFLICT)]
