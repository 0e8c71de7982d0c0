from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from wfp_reconcile.cli import main
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.config.schema import json_schemas
from wfp_reconcile.config.yamlread import read_yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FILES = [
    "platform.yaml",
    "customers/basic/customer.yaml",
    "customers/advanced/customer.yaml",
    "customers/studio/customer.yaml",
]


def test_example_repository_validates_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--repo", str(ROOT)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: 3 customers, 5 scripts, 1 outbound Worker")


def test_example_repository_uses_defaults_when_the_environment_is_empty() -> None:
    repo = load_repo_dir(ROOT, env={})
    assert repo.platform.account_id == "0123456789abcdef0123456789abcdef"
    assert repo.platform.namespace == "wfp-example"


def test_example_repository_takes_account_and_namespace_from_the_environment() -> None:
    env = {"CLOUDFLARE_ACCOUNT_ID": "f" * 32, "WFP_NAMESPACE": "staging"}
    repo = load_repo_dir(ROOT, env=env)
    assert (repo.platform.account_id, repo.platform.namespace) == ("f" * 32, "staging")


def test_example_repository_holds_the_bytes_of_every_module() -> None:
    repo = load_repo_dir(ROOT, env={})
    expected = {
        "platform/platform_module.mjs",
        "platform/outbound/egress.mjs",
        "platform/tail/trace.mjs",
        "customers/basic/basic-hello.mjs",
        "customers/advanced/advanced-hello.mjs",
        "customers/advanced/advanced-api.mjs",
        "customers/advanced/advanced-counter.mjs",
        "customers/advanced/lib/greeting.mjs",
        "customers/studio/studio-site.mjs",
        # The studio's static site (docs/assets.md): asset bytes are read with the modules.
        "customers/studio/public/index.html",
        "customers/studio/public/style.css",
        "customers/studio/public/404.html",
    }
    assert set(repo.files) == expected
    for path in expected:
        assert repo.files[path] == (ROOT / path).read_bytes()


def test_example_platform_module_is_the_example_projects_module() -> None:
    content = (ROOT / "platform/platform_module.mjs").read_text()
    assert content == (
        'const platformThing = "This module is provided by the platform"; export { platformThing };'
    )


def test_example_customers_match_the_example_projects_plans_and_demo_tokens() -> None:
    repo = load_repo_dir(ROOT, env={})
    basic, advanced = repo.customer("basic"), repo.customer("advanced")
    assert (basic.plan, advanced.plan) == ("basic", "advanced")
    assert basic.tokens[0].sha256 == hashlib.sha256(b"a1b2c3").hexdigest()
    assert advanced.tokens[0].sha256 == hashlib.sha256(b"d4e5f6").hexdigest()
    assert advanced.outbound is not None and advanced.outbound.worker == "egress"
    assert advanced.limits is not None and advanced.limits.cpu_ms == 200
    assert advanced.scripts["advanced-api"].access == "token"


def test_example_counter_binds_a_demo_d1_database_unless_the_environment_names_one() -> None:
    demo = load_repo_dir(ROOT, env={}).customer("advanced").scripts["advanced-counter"]
    real = "0f4b5e2a-9c1d-4e7f-8a6b-3c2d1e0f9a8b"
    chosen = load_repo_dir(ROOT, env={"D1_ADVANCED_HITS": real}).customer("advanced")
    assert demo.d1 == {"HITS": "5c0ffee0-d1d1-4d1d-8d1d-0000000000a2"}
    assert chosen.scripts["advanced-counter"].d1 == {"HITS": real}


def test_example_platform_ships_a_trace_worker_and_a_demo_admin_token_hash() -> None:
    platform = load_repo_dir(ROOT, env={}).platform
    trace = platform.tail_workers["trace"]
    assert trace.main_module == "platform/tail/trace.mjs"
    assert trace.all_scripts and trace.dispatcher
    assert platform.logpush is False
    demo = hashlib.sha256(b"wfp-demo-admin-token").hexdigest()
    assert platform.dispatcher.admin_token_sha256 == demo


def test_committed_schemas_are_what_the_schema_command_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", "--out", str(tmp_path)]) == 0
    for name in json_schemas():
        assert (tmp_path / name).read_text() == (ROOT / "schemas" / name).read_text()
    assert "platform.schema.json" in capsys.readouterr().out


@pytest.mark.parametrize("rel", EXAMPLE_FILES)
def test_schema_accepts_the_example_files(rel: str) -> None:
    text = (ROOT / rel).read_text()
    first = text.splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    schema_path = (ROOT / rel).parent / first.split("$schema=", 1)[1]
    schema = json.loads(schema_path.read_text())
    doc, problems = read_yaml(text)
    assert doc is not None and not problems
    jsonschema.Draft202012Validator(schema).validate(doc.data)


def test_schema_rejects_an_unknown_key_like_the_loader() -> None:
    schema = json_schemas()["customer.schema.json"]
    doc, _ = read_yaml("id: a\nname: A\nplan: basic\nscrips: {}\n")
    assert doc is not None
    with pytest.raises(jsonschema.ValidationError, match="scrips"):
        jsonschema.Draft202012Validator(schema).validate(doc.data)


@pytest.mark.parametrize("name", sorted(json_schemas()))
def test_every_schema_property_has_a_description_for_editors(name: str) -> None:
    schema = json_schemas()[name]
    objects = [schema, *schema.get("$defs", {}).values()]
    undocumented = [
        f"{obj.get('title')}.{prop}"
        for obj in objects
        for prop, body in obj.get("properties", {}).items()
        if not body.get("description")
    ]
    assert undocumented == []
