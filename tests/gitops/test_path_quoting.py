"""Issue 11, item 9: a file name cannot inject GitHub workflow commands into any output.

A git file name may hold a newline; printed raw, the part after it is a line of its
own, and a line starting with ``::`` is a workflow command (``::error::``,
``::add-mask::``, ``::stop-commands::``) for the owners job that prints it.
"""

from __future__ import annotations

import json

import pytest

from wfp_reconcile.cli import main
from wfp_reconcile.quoting import quote_path

from .conftest import GitRepo, customer_yaml, module

EVIL = "customers/acme/x\n::error title=pwned::owned\r::add-mask::y\u2028z.mjs"


def _no_command_lines(text: str) -> None:
    for line in text.splitlines():  # splitlines breaks on \r and U+2028 too
        assert not line.lstrip().startswith("::") or line.startswith("::error file="), line


@pytest.fixture
def evil_head(platform_repo: GitRepo) -> str:
    platform_repo.git("checkout", "-q", "-b", "evil")
    sha = platform_repo.commit(
        "evil",
        {
            EVIL: module("x"),
            "customers/bolt\n::error::dir/customer.yaml": customer_yaml("bolt", ["x"], []),
        },
    )
    platform_repo.git("checkout", "-q", "main")
    return sha


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_changed_quotes_paths(
    platform_repo: GitRepo, evil_head: str, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["changed", "--repo", str(platform_repo.root), "--base", "main", "--head", evil_head]

    assert main([*args, "--format", fmt]) == 0

    out = capsys.readouterr().out
    _no_command_lines(out)
    if fmt == "json":
        paths = [c["path"] for c in json.loads(out)["changes"]]
        assert EVIL in paths  # JSON keeps the real name, escaped by JSON itself
    else:
        assert quote_path(EVIL) in out


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_check_owners_quotes_paths(
    platform_repo: GitRepo,
    evil_head: str,
    fmt: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    args = ["check-owners", "--repo", str(platform_repo.root), "--base", "main"]

    assert main([*args, "--head", evil_head, "--actor", "mallory", "--format", fmt]) == 1

    captured = capsys.readouterr()
    _no_command_lines(captured.out + captured.err)


def test_validate_quotes_a_directory_name_with_a_newline(
    repo: GitRepo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "0123456789abcdef0123456789abcdef")
    repo.write(
        {
            "platform.yaml": "account_id: ${CLOUDFLARE_ACCOUNT_ID}\nnamespace: n\n"
            "compatibility_date: '2025-01-01'\n",
            "customers/acme/customer.yaml": customer_yaml("acme", [], ["acme-web"]),
            "customers/acme/acme-web.mjs": module("a"),
            "customers/evil\n::error::injected/w.mjs": module("e"),
        }
    )

    assert main(["validate", "--repo", str(repo.root)]) == 1

    err = capsys.readouterr().err
    _no_command_lines(err)
    assert 'error: "customers/evil\\n::error::injected": customer directory has no' in err


def test_ordinary_paths_are_printed_as_they_are() -> None:
    assert quote_path("customers/acme/ünïcode name.mjs") == "customers/acme/ünïcode name.mjs"
    assert quote_path('a"b') == '"a\\"b"'
    assert quote_path("a\tb\x1b") == '"a\\tb\\x1b"'
