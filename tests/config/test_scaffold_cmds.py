from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from wfp_reconcile.cli import main
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.config.scaffold import script_template

from .conftest import snapshot

ROOT = Path(__file__).resolve().parents[2]
ENV = {"CLOUDFLARE_ACCOUNT_ID": "ab" * 16}


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the project's example platform repository."""
    dest = tmp_path / "example"
    dest.mkdir()
    shutil.copy(ROOT / "platform.yaml", dest)
    for name in ("platform", "customers", "schemas"):
        shutil.copytree(ROOT / name, dest / name)
    return dest


def test_token_create_prints_a_token_whose_hash_is_stored(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "create", "advanced", "ci", "--repo", str(example)]) == 0
    token = capsys.readouterr().out.strip()
    assert len(token) == 64 and int(token, 16) >= 0
    repo = load_repo_dir(example, env={})
    stored = {t.name: t.sha256 for t in repo.customer("advanced").tokens}
    assert stored["ci"] == hashlib.sha256(token.encode()).hexdigest()


def test_token_create_keeps_comments_and_order(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = example / "customers/advanced/customer.yaml"
    before = path.read_text()
    assert main(["token", "create", "advanced", "ci", "--repo", str(example)]) == 0
    token = capsys.readouterr().out.strip()
    after = path.read_text()
    digest = hashlib.sha256(token.encode()).hexdigest()
    added = f"  - name: ci\n    sha256: {digest}\n"
    # The only change is the new entry, right after the existing token.
    anchor = before.index("\n\n# Per-invocation limits") + 1
    assert after == before[:anchor] + added + before[anchor:]
    assert token not in after


def test_token_create_into_an_empty_flow_list_writes_block_style(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "customer", "gamma", "--repo", str(example)]) == 0
    assert main(["token", "create", "gamma", "deploy", "--repo", str(example)]) == 0
    text = (example / "customers/gamma/customer.yaml").read_text()
    assert "tokens:\n  - name: deploy\n    sha256: " in text
    assert "# Add scripts with `wfp-reconcile new script gamma NAME`.\nscripts: {}" in text
    capsys.readouterr()


def test_token_create_refuses_a_duplicate_name_and_writes_nothing(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(example)
    assert main(["token", "create", "basic", "demo", "--repo", str(example)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        "error: customers/basic/customer.yaml: a token named 'demo' already exists; choose "
        "another name, or remove the old entry first to replace it"
    ) in captured.err
    assert snapshot(example) == before


def test_token_create_for_an_unknown_customer_names_the_missing_file(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(example)
    assert main(["token", "create", "nobody", "ci", "--repo", str(example)]) == 1
    assert (
        "error: customers/nobody/customer.yaml: not found: is 'nobody' a customer? Create it "
        "with `wfp-reconcile new customer nobody`"
    ) in capsys.readouterr().err
    assert snapshot(example) == before


def test_new_platform_creates_a_repository_that_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "acme-platform"
    assert main(["new", "platform", str(dest)]) == 0
    repo = load_repo_dir(dest, env=ENV)
    assert repo.platform.namespace == "acme-platform"
    assert [c.id for c in repo.customers] == ["example"]
    assert repo.files["customers/example/example-hello.mjs"] == script_template().encode()
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "ab" * 16)
    assert main(["validate", "--repo", str(dest)]) == 0
    assert "OK: 1 customer, 1 script" in capsys.readouterr().out


def test_new_platform_requires_the_account_id_from_the_environment(tmp_path: Path) -> None:
    dest = tmp_path / "p"
    assert main(["new", "platform", str(dest)]) == 0
    with pytest.raises(Exception, match="CLOUDFLARE_ACCOUNT_ID not set"):
        load_repo_dir(dest, env={})


def test_new_platform_refuses_a_non_empty_directory(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(example)
    assert main(["new", "platform", str(example)]) == 1
    assert "already exists and is not an empty directory" in capsys.readouterr().err
    assert snapshot(example) == before


def test_new_customer_and_script_scaffold_from_the_default_template(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--repo", str(example)]
    assert main(["new", "customer", "gamma", "--name", "Gamma Inc.", *args]) == 0
    assert main(["new", "script", "gamma", "gamma-hello", *args]) == 0
    repo = load_repo_dir(example, env={})
    gamma = repo.customer("gamma")
    assert (gamma.name, gamma.plan) == ("Gamma Inc.", "basic")
    assert gamma.scripts["gamma-hello"].main_module == "gamma-hello.mjs"
    content = repo.files["customers/gamma/gamma-hello.mjs"].decode()
    assert 'import { platformThing } from "./platform_module.mjs";' in content
    assert 'new Response("Hello! " + platformThing)' in content
    capsys.readouterr()


def test_new_script_keeps_the_customer_files_comments(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = example / "customers/advanced/customer.yaml"
    before = path.read_text()
    assert main(["new", "script", "advanced", "advanced-extra", "--repo", str(example)]) == 0
    after = path.read_text()
    assert after == before + "  advanced-extra:\n    main_module: advanced-extra.mjs\n"
    capsys.readouterr()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["new", "script", "basic", "advanced-hello"],
            "error: customers/basic/customer.yaml: script name 'advanced-hello' is already "
            "used in customers/advanced/customer.yaml",
            id="script-name-taken-by-another-customer",
        ),
        pytest.param(
            ["new", "script", "basic", "egress"],
            "error: customers/basic/customer.yaml: script name 'egress' is already used in "
            "platform.yaml (outbound Worker)",
            id="script-name-of-an-outbound-worker",
        ),
        pytest.param(
            ["new", "script", "basic", "Bad Name"],
            "error: customers/basic/customer.yaml: 'Bad Name' is not a valid script name",
            id="script-name-invalid",
        ),
        pytest.param(
            ["new", "customer", "basic"],
            "error: customers/basic: already exists; choose another customer id",
            id="customer-exists",
        ),
        pytest.param(
            ["new", "customer", "Gamma"],
            "error: customers/Gamma: 'Gamma' is not a valid customer id",
            id="customer-id-invalid",
        ),
        pytest.param(
            ["new", "customer", "fp-gamma"],
            "error: customers/fp-gamma: 'fp-gamma' is reserved for the reconciler's own tags",
            id="customer-id-reserved",
        ),
        pytest.param(
            ["token", "create", "basic", "bad name"],
            "error: customers/basic/customer.yaml: 'bad name' is not a valid token name",
            id="token-name-invalid",
        ),
    ],
)
def test_scaffolding_refuses_bad_names_and_writes_nothing(
    example: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(example)
    assert main([*args, "--repo", str(example)]) == 1
    assert message in capsys.readouterr().err
    assert snapshot(example) == before


def test_new_script_refuses_to_overwrite_an_existing_module(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (example / "customers/basic/basic-two.mjs").write_text("// mine\n")
    before = snapshot(example)
    assert main(["new", "script", "basic", "basic-two", "--repo", str(example)]) == 1
    assert "error: customers/basic/basic-two.mjs: already exists; not overwriting" in (
        capsys.readouterr().err
    )
    assert snapshot(example) == before


def test_new_commands_outside_a_platform_repository_say_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "customer", "gamma", "--repo", str(tmp_path)]) == 1
    assert "not found: run this in a platform repository or pass --repo DIR" in (
        capsys.readouterr().err
    )
    assert list(tmp_path.iterdir()) == []


def test_schema_into_a_path_that_is_a_file_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("x")
    assert main(["schema", "--out", str(blocker / "sub")]) == 1
    assert "cannot be written" in capsys.readouterr().err
