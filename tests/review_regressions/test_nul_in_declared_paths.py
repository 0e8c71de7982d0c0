"""A control character in a declared path (found in review of the module fast path).

A module path with a NUL character (YAML's ``"\\0"`` escape in a double-quoted string)
reached ``os.lstat`` in ``WorkTreeSource``, which raises ``ValueError: embedded null
byte``: ``validate``/``plan``/``apply`` on the work tree ended in "Internal error" (exit 3)
while the same commit read with ``--ref`` was refused as a config error. Now the one path
rule (``check_path_syntax``) refuses every control character in a module path or an
assets directory, the same way from either source, and the work tree calls a name no file
can have missing, as a git tree does.
"""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath

import pytest
from tests.config.conftest import BETA_YAML, write_repo

from wfp_reconcile.cli import main
from wfp_reconcile.config.files import read_module
from wfp_reconcile.config.source import WorkTreeSource
from wfp_reconcile.gitsource.tree import GitTreeSource

NUL_MAIN = 'main_module: "hel\\0lo.mjs"'  # YAML escape: the value holds a NUL character


def _git_commit(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
        check=True,
    )


def _nul_repo(root: Path) -> Path:
    write_repo(root)
    path = root / "customers" / "beta" / "customer.yaml"
    path.write_text(BETA_YAML.replace("main_module: hello.mjs", NUL_MAIN))
    return root


def test_read_module_refuses_a_nul_in_the_path_as_the_git_source_does(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "repo")
    _git_commit(root)
    base = PurePosixPath("customers/beta")
    with GitTreeSource(root, "HEAD") as git_source:
        from_git = read_module(git_source, base, "hel\x00lo.mjs")
    assert from_git.content is None and from_git.error  # a config error from --ref

    from_disk = read_module(WorkTreeSource(root), base, "hel\x00lo.mjs")

    assert (from_disk.content, from_disk.error) == (from_git.content, from_git.error)
    assert "control character \\x00" in str(from_disk.error)
    assert "\x00" not in str(from_disk.error)  # shown escaped, never written raw


@pytest.mark.parametrize("char", ["\t", "\x1b", "\x7f"])
def test_other_control_characters_are_refused(tmp_path: Path, char: str) -> None:
    root = write_repo(tmp_path / "repo")
    found = read_module(WorkTreeSource(root), PurePosixPath("customers/beta"), f"a{char}b.mjs")
    assert found.content is None
    assert f"control character \\x{ord(char):02x}" in str(found.error)


def test_the_work_tree_calls_a_nul_name_missing(tmp_path: Path) -> None:
    source = WorkTreeSource(write_repo(tmp_path / "repo"))
    assert source.kind(PurePosixPath("customers/beta/hel\x00lo.mjs")) == "missing"
    assert source.read_regular("customers/beta/hel\x00lo.mjs", 1_000) is None


@pytest.mark.parametrize("ref", [None, "HEAD"], ids=["work-tree", "ref"])
def test_validate_reports_a_nul_module_path_as_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ref: str | None
) -> None:
    root = _nul_repo(tmp_path / "repo")
    _git_commit(root)
    args = ["validate", "--repo", str(root)] + (["--ref", ref] if ref else [])

    code = main(args)

    err = capsys.readouterr().err
    # Was, on the work tree: exit 3, "Internal error: ValueError: embedded null byte".
    assert "Internal error" not in err, err
    assert code == 1, err
    assert "error: customers/beta/customer.yaml" in err, err


def test_validate_reports_a_nul_asset_directory_as_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_repo(tmp_path / "repo")
    path = root / "customers" / "beta" / "customer.yaml"
    path.write_text(
        BETA_YAML.replace(
            "main_module: hello.mjs",
            'main_module: hello.mjs\n    assets:\n      directory: "pub\\0lic"',
        )
    )

    code = main(["validate", "--repo", str(root)])

    err = capsys.readouterr().err
    assert "Internal error" not in err, err
    assert code == 1, err
    assert "error: customers/beta/customer.yaml" in err, err


@pytest.mark.parametrize("name", ["a" * 256, "é" * 128, "d/" + "x" * 300 + ".mjs"])
def test_a_name_too_long_for_a_file_system_is_one_answer_from_either_source(
    tmp_path: Path, name: str
) -> None:
    root = write_repo(tmp_path / "repo")
    _git_commit(root)
    base = PurePosixPath("customers/beta")
    with GitTreeSource(root, "HEAD") as git_source:
        from_git = read_module(git_source, base, name)
    from_disk = read_module(WorkTreeSource(root), base, name)
    assert (from_disk.content, from_disk.error) == (from_git.content, from_git.error)
    assert "longer than 255 bytes" in str(from_disk.error)


def test_a_long_name_within_the_limit_is_still_read(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "repo")
    name = "é" * 125 + ".mjs"  # 254 bytes: within the limit, though over 255 // 4 characters
    (root / "customers" / "beta" / name).write_bytes(b"export default {};\n")
    found = read_module(WorkTreeSource(root), PurePosixPath("customers/beta"), name)
    assert found.error is None and found.content == b"export default {};\n"
