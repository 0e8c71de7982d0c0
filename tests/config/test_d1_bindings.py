"""D1 bindings of customer scripts: declared in customer.yaml, uploaded as ``d1`` bindings."""

from __future__ import annotations

from pathlib import Path

import pytest

from wfp_reconcile.cli import main
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.desired import build_desired
from wfp_reconcile.errors import ConfigError

DB_ID = "0f4b5e2a-9c1d-4e7f-8a6b-3c2d1e0f9a8b"
OTHER_ID = "11111111-2222-4333-8444-555555555555"
B = "customers/beta/customer.yaml"


def declare(repo: Path, lines: str) -> None:
    path = repo / B
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("    main_module: hello.mjs", "    main_module: hello.mjs\n" + lines, 1),
        encoding="utf-8",
    )


def bindings(repo: Path, env: dict[str, str] | None = None) -> list[dict[str, object]]:
    desired = build_desired(load_repo_dir(repo, env=env or {}))
    script = desired.script("beta-hello")
    assert script is not None
    result: list[dict[str, object]] = script.upload.metadata["bindings"]
    return result


def test_d1_binding_is_uploaded_in_cloudflare_wire_format(repo: Path) -> None:
    declare(repo, f"    d1:\n      DB: {DB_ID}\n")

    assert bindings(repo) == [{"type": "d1", "name": "DB", "id": DB_ID}]


def test_d1_bindings_and_vars_are_sorted_by_name_whatever_the_yaml_order(repo: Path) -> None:
    declare(repo, f"    d1:\n      ZDB: {OTHER_ID}\n      ADB: {DB_ID}\n    vars:\n      MID: m\n")

    assert [b["name"] for b in bindings(repo)] == ["ADB", "MID", "ZDB"]
    assert bindings(repo)[0] == {"type": "d1", "name": "ADB", "id": DB_ID}


def test_changing_the_database_changes_the_config_fingerprint_only(repo: Path) -> None:
    declare(repo, f"    d1:\n      DB: {DB_ID}\n")
    before = build_desired(load_repo_dir(repo, env={})).script("beta-hello")
    (repo / B).write_text((repo / B).read_text().replace(DB_ID, OTHER_ID))
    after = build_desired(load_repo_dir(repo, env={})).script("beta-hello")

    assert before is not None and after is not None
    assert before.fingerprint.code == after.fingerprint.code
    assert before.fingerprint.config != after.fingerprint.config


def test_database_id_is_read_from_a_d1_environment_variable(repo: Path) -> None:
    declare(repo, "    d1:\n      DB: ${D1_BETA_DB}\n      OLD: ${D1_UNSET:-" + OTHER_ID + "}\n")

    found = bindings(repo, {"D1_BETA_DB": DB_ID})

    assert found == [
        {"type": "d1", "name": "DB", "id": DB_ID},
        {"type": "d1", "name": "OLD", "id": OTHER_ID},
    ]


def test_a_bad_value_from_the_environment_is_not_repeated_in_the_error(repo: Path) -> None:
    declare(repo, "    d1:\n      DB: ${D1_LEAKY}\n")
    secret = "not-a-uuid-but-secret-3f9a7c"

    with pytest.raises(ConfigError) as caught:
        load_repo_dir(repo, env={"D1_LEAKY": secret})

    text = str(caught.value) + repr(caught.value)
    assert "must be a D1 database id" in text
    assert secret not in text


def test_customer_files_cannot_read_other_environment_variables(repo: Path) -> None:
    declare(repo, "    d1:\n      DB: ${CLOUDFLARE_API_TOKEN}\n")

    with pytest.raises(ConfigError) as caught:
        load_repo_dir(repo, env={"CLOUDFLARE_API_TOKEN": DB_ID})

    assert "only variables whose names start with D1_" in str(caught.value)
    assert DB_ID not in str(caught.value)


def test_variables_are_not_expanded_outside_d1_values(repo: Path) -> None:
    declare(repo, "    vars:\n      NOTE: ${D1_BETA_DB}\n")

    assert bindings(repo, {"D1_BETA_DB": DB_ID}) == [
        {"type": "plain_text", "name": "NOTE", "text": "${D1_BETA_DB}"}
    ]


def test_editing_a_customer_file_accepts_d1_references_whatever_the_shell_has(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("D1_BETA_DB", raising=False)
    declare(repo, "    d1:\n      DB: ${D1_BETA_DB}\n")

    assert main(["new", "script", "beta", "beta-extra", "--repo", str(repo)]) == 0
    assert "DB: ${D1_BETA_DB}" in (repo / B).read_text()


def test_editing_a_customer_file_refuses_a_reference_customers_may_not_use(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    declare(repo, "    d1:\n      DB: ${HOME}\n")
    before = (repo / B).read_text()

    assert main(["new", "script", "beta", "beta-extra", "--repo", str(repo)]) == 1
    assert "only variables whose names start with D1_" in capsys.readouterr().err
    assert (repo / B).read_text() == before
