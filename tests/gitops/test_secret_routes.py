"""Issue 11, item 5: a credential cannot reach any output, by whatever route.

First line: ``${VAR}`` may not name a credential (refused with a position). Last line:
every credential value in the environment is redacted from everything the CLI prints
and posts, so even a value an admin pasted into a file, or one that came back in an
error message, a file name or a comment body, is replaced by ``***``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx
import yaml

from wfp_reconcile.cli import main
from wfp_reconcile.config.envvars import is_credential_name
from wfp_reconcile.local.emulator import EmulatorServer, run_emulator

from .conftest import GitRepo, customer_yaml, module, platform_yaml
from .fake_github import API, REPO, FakeGitHub

API_TOKEN = "SEKRET-route-api-token-8c7b6a5948372615"
GH_TOKEN = "ghs_SEKRETrouteGithubTokenQWERTYzxcvbn"
AGE_IDENTITY = "AGE-SECRET-KEY-1SEKRETROUTEIDENTITYQWERTYUIOPASDFG"
SECRETS = (API_TOKEN, GH_TOKEN, AGE_IDENTITY)
ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "0123456789abcdef0123456789abcdef"


def _write_base(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "platform.yaml").write_text(yaml.safe_dump(platform_yaml(["root-admin"])))
    acme = root / "customers" / "acme"
    acme.mkdir(parents=True)
    (acme / "customer.yaml").write_text(
        yaml.safe_dump(customer_yaml("acme", ["alice"], ["acme-web"]))
    )
    (acme / "acme-web.mjs").write_text(module("acme"))


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        for i in range(len(secret) - 12 + 1):
            assert secret[i : i + 12] not in text, f"{secret[:8]}… leaked"


@pytest.mark.parametrize(
    "name",
    [
        "CLOUDFLARE_API_TOKEN",
        "CLOUDFLARE_API_KEY",
        "GITHUB_TOKEN",
        "ACTIONS_RUNTIME_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "WFP_AGE_IDENTITY",
        "WFP_AGE_IDENTITY_FILE",
    ],
)
@pytest.mark.parametrize("form", ["${%s}", "${%s:-x}", "prefix-${%s}"])
def test_a_reference_may_not_name_a_credential(
    name: str,
    form: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
    _write_base(tmp_path)
    doc = yaml.safe_load((tmp_path / "platform.yaml").read_text())
    doc["namespace"] = form % name
    (tmp_path / "platform.yaml").write_text(yaml.safe_dump(doc))
    monkeypatch.setenv(name, API_TOKEN)

    assert main(["validate", "--repo", str(tmp_path)]) == 1

    err = capsys.readouterr().err
    line = next(
        i for i, text in enumerate(yaml.safe_dump(doc).splitlines(), 1) if "namespace" in text
    )
    assert re.search(rf"error: platform\.yaml:{line}:\d+: namespace: .*names a credential", err)
    _assert_clean(err)


def test_a_customer_d1_reference_may_not_name_a_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
    _write_base(tmp_path)
    path = tmp_path / "customers" / "acme" / "customer.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["scripts"]["acme-web"]["d1"] = {"DB": "${D1_API_KEY}"}
    path.write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("D1_API_KEY", API_TOKEN)

    assert main(["validate", "--repo", str(tmp_path)]) == 1

    err = capsys.readouterr().err
    assert "customers/acme/customer.yaml:" in err and "names a credential" in err
    _assert_clean(err)


def test_every_secret_the_workflows_pass_is_a_credential_name() -> None:
    names: set[str] = set()
    for workflow in (ROOT / ".github" / "workflows").glob("*.yml"):
        names |= set(re.findall(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)", workflow.read_text()))
    assert "CLOUDFLARE_API_TOKEN" in names
    # The account id is passed as a secret only to keep it out of logs; it is no credential
    # and platform.yaml reads it as ${CLOUDFLARE_ACCOUNT_ID} (it is redacted from nothing).
    assert {n for n in names if not is_credential_name(n)} <= {"CLOUDFLARE_ACCOUNT_ID"}


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with run_emulator(None, api_token=API_TOKEN) as emulator:
        yield emulator


@pytest.fixture
def secret_env(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", API_TOKEN)
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", server.api_base)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    monkeypatch.setenv("WFP_AGE_IDENTITY", AGE_IDENTITY)
    return server


def test_a_secret_pasted_into_the_repository_is_redacted_from_every_plan_format(
    tmp_path: Path, secret_env: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_base(tmp_path)
    doc = yaml.safe_load((tmp_path / "platform.yaml").read_text())
    doc["namespace"] = API_TOKEN  # an admin pasted the token where the namespace goes
    (tmp_path / "platform.yaml").write_text(yaml.safe_dump(doc))
    r = ["--repo", str(tmp_path)]

    outputs = []
    for args in (
        ["validate", *r],
        ["validate", *r, "--format", "json"],
        ["validate", *r, "--format", "github"],
        ["plan", *r],
        ["plan", *r, "--format", "json"],
        ["plan", *r, "--format", "markdown"],
        ["--debug", "plan", *r],
    ):
        main(args)
        captured = capsys.readouterr()
        outputs.append(captured.out + captured.err)

    joined = "\n".join(outputs)
    assert "***" in joined
    _assert_clean(joined)


def test_a_secret_in_an_error_message_is_redacted(
    tmp_path: Path, secret_env: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_base(tmp_path)
    doc = yaml.safe_load((tmp_path / "platform.yaml").read_text())
    doc["account_id"] = f"{GH_TOKEN}/../x"  # echoed back by the URL-segment rule
    doc["management_tag"] = AGE_IDENTITY
    (tmp_path / "platform.yaml").write_text(yaml.safe_dump(doc))
    path = tmp_path / "customers" / "acme" / "customer.yaml"
    acme = yaml.safe_load(path.read_text())
    acme["scripts"]["acme-web"]["tags"] = [AGE_IDENTITY]  # "tag '…' is the management tag"
    path.write_text(yaml.safe_dump(acme))

    for fmt in ("text", "json", "github"):
        assert main(["validate", "--repo", str(tmp_path), "--format", fmt]) == 1
        captured = capsys.readouterr()
        assert "***" in captured.out + captured.err
        _assert_clean(captured.out + captured.err)


def test_a_secret_in_a_file_name_is_redacted_from_changed_and_check_owners(
    tmp_path: Path, secret_env: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = GitRepo(tmp_path / "platform")
    _write_base(repo.root)
    base = repo.commit("base")
    repo.commit("leak", {f"customers/acme/{API_TOKEN}.mjs": "export {};\n"})
    args = ["--repo", str(repo.root), "--base", base, "--head", "HEAD"]

    for command in (
        ["changed", *args],
        ["changed", *args, "--format", "json"],
        ["check-owners", *args, "--actor", "mallory"],
        ["check-owners", *args, "--actor", "mallory", "--format", "json"],
        ["check-owners", *args, "--actor", "mallory", "--format", "github"],
    ):
        main(command)
        captured = capsys.readouterr()
        assert "***" in captured.out + captured.err, command
        _assert_clean(captured.out + captured.err)


def test_a_secret_in_a_comment_summary_output_or_issue_is_redacted(
    tmp_path: Path,
    secret_env: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary, outputs, event = tmp_path / "summary.md", tmp_path / "out.txt", tmp_path / "e.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    for name, value in {
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": API,
    }.items():
        monkeypatch.setenv(name, value)
    body = tmp_path / "body.md"
    body.write_text(f"# Plan\n\nnamespace {API_TOKEN}\n`{GH_TOKEN}` and {AGE_IDENTITY}\n")

    with respx.mock(assert_all_called=False) as router:
        fake = FakeGitHub(router)
        assert main(["github", "comment", "--body-file", str(body), "--pr", "7"]) == 0
        assert main(["github", "summary", str(body), "--code", "--title", API_TOKEN]) == 0
        assert (
            main(["github", "drift-issue", "--status", "drift", "--body-file", str(body)])
            + main(["github", "drift-issue", "--status", "drift", "--body-file", str(body)])
            == 0
        )
        assert main(["github", "comment", "--body-file", str(body), "--pr", "7"]) == 0

    posted = json.dumps([fake.comments, fake.issues])
    assert "***" in posted
    written = summary.read_text() + outputs.read_text()
    captured = capsys.readouterr()
    for text in (posted, written, captured.out + captured.err):
        _assert_clean(text)
    assert fake.auth_headers == {f"Bearer {GH_TOKEN}"}  # the token itself was still used
