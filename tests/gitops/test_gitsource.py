from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from wfp_reconcile.config.source import WorkTreeSource
from wfp_reconcile.errors import GitError
from wfp_reconcile.gitsource import (
    GitTreeSource,
    PathChange,
    changed_paths,
    dirty_paths,
    dirty_warning,
    head_commit,
    open_source,
    resolve_commit,
)

from .conftest import GitRepo

P = PurePosixPath


def test_ref_reads_committed_content_and_ignores_the_work_tree(repo: GitRepo) -> None:
    sha = repo.commit("one", {"platform.yaml": "namespace: committed\n"})
    repo.write({"platform.yaml": "namespace: edited\n", "customers/new/customer.yaml": "id: x\n"})

    source = open_source(repo.root, "HEAD")

    assert source.commit == sha
    assert source.read_bytes(P("platform.yaml")) == b"namespace: committed\n"
    assert source.kind(P("customers")) == "missing"
    assert source.list_dir(P(".")) == ["platform.yaml"]


def test_no_ref_reads_the_work_tree(repo: GitRepo) -> None:
    repo.commit("one", {"platform.yaml": "namespace: committed\n"})
    repo.write({"platform.yaml": "namespace: edited\n"})

    source = open_source(repo.root, None)

    assert isinstance(source, WorkTreeSource)
    assert source.commit is None
    assert source.read_bytes(P("platform.yaml")) == b"namespace: edited\n"


def test_an_older_revision_is_read_as_it_was(repo: GitRepo) -> None:
    first = repo.commit("one", {"a.txt": "first\n"})
    repo.commit("two", {"a.txt": "second\n", "b.txt": "b\n"})

    with GitTreeSource(repo.root, first) as source:
        assert source.read_bytes(P("a.txt")) == b"first\n"
        assert source.size(P("a.txt")) == len(b"first\n")
        assert source.kind(P("b.txt")) == "missing"
        assert source.label == f"{first}:{repo.root}"


def test_entry_kinds_match_the_work_tree_source(repo: GitRepo) -> None:
    repo.write({"dir/file.mjs": "x\n"})
    (repo.root / "dir" / "link.mjs").symlink_to("file.mjs")
    repo.commit("kinds")

    git_source = open_source(repo.root, "HEAD")
    disk_source = open_source(repo.root, None)

    for path in ("dir", "dir/file.mjs", "dir/link.mjs", "nope", "dir/file.mjs/x", "../x"):
        assert git_source.kind(P(path)) == disk_source.kind(P(path)), path
    assert git_source.read_link(P("dir/link.mjs")) == "file.mjs"
    assert git_source.list_dir(P("dir")) == disk_source.list_dir(P("dir"))


def test_reading_a_directory_or_missing_file_raises_oserror(repo: GitRepo) -> None:
    repo.commit("one", {"dir/a.txt": "a\n"})
    source = open_source(repo.root, "HEAD")

    with pytest.raises(FileNotFoundError):
        source.read_bytes(P("dir/missing.txt"))
    with pytest.raises(OSError):
        source.read_bytes(P("dir"))
    with pytest.raises(NotADirectoryError):
        source.list_dir(P("dir/a.txt"))


def test_a_submodule_is_reported_as_other(repo: GitRepo, tmp_path: Path) -> None:
    inner = GitRepo(tmp_path / "inner")
    inner_sha = inner.commit("inner", {"x.txt": "x\n"})
    repo.commit("one", {"a.txt": "a\n"})
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{inner_sha},vendored")
    repo.git("commit", "-q", "-m", "submodule")

    assert open_source(repo.root, "HEAD").kind(P("vendored")) == "other"


def test_a_platform_repository_in_a_subdirectory_reads_relative_paths(repo: GitRepo) -> None:
    repo.commit("one", {"infra/wfp/platform.yaml": "namespace: sub\n", "README": "top\n"})

    source = open_source(repo.root / "infra" / "wfp", "HEAD")

    assert source.list_dir(P(".")) == ["platform.yaml"]
    assert source.read_bytes(P("platform.yaml")) == b"namespace: sub\n"
    assert source.kind(P("../../README")) == "missing"


def test_a_bad_ref_names_the_ref_and_what_to_do(repo: GitRepo) -> None:
    repo.commit("one", {"a.txt": "a\n"})

    with pytest.raises(GitError) as info:
        open_source(repo.root, "no-such-branch")

    assert "'no-such-branch'" in info.value.message
    assert "fetch" in info.value.message


def test_ref_outside_a_git_repository_is_a_git_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()

    with pytest.raises(GitError, match="not inside a git repository"):
        open_source(plain, "HEAD")
    assert head_commit(plain) is None


def test_resolve_commit_and_head_commit_give_full_shas(repo: GitRepo) -> None:
    first = repo.commit("one", {"a.txt": "a\n"})
    repo.git("tag", "v1")
    second = repo.commit("two", {"a.txt": "b\n"})

    assert resolve_commit(repo.root, "v1") == first
    assert resolve_commit(repo.root, "HEAD~1") == first
    assert resolve_commit(repo.root, second[:10]) == second
    assert head_commit(repo.root) == second


def test_head_commit_is_none_before_the_first_commit(repo: GitRepo) -> None:
    assert head_commit(repo.root) is None


def test_dirty_paths_lists_staged_unstaged_and_untracked_but_not_ignored(repo: GitRepo) -> None:
    repo.commit("one", {"a.txt": "a\n", "b.txt": "b\n", ".gitignore": "*.log\n"})
    repo.write({"a.txt": "changed\n", "new/c.txt": "c\n", "debug.log": "x\n", "d.txt": "d\n"})
    repo.git("add", "d.txt")

    assert dirty_paths(repo.root) == ["a.txt", "d.txt", "new/c.txt"]


def test_dirty_warning_only_when_ref_is_given_and_tree_is_dirty(repo: GitRepo) -> None:
    repo.commit("one", {"platform.yaml": "a: 1\n"})
    assert dirty_warning(repo.root, "HEAD") is None

    repo.write({"platform.yaml": "a: 2\n"})

    assert dirty_warning(repo.root, None) is None
    warning = dirty_warning(repo.root, "HEAD")
    assert warning is not None
    assert "platform.yaml" in warning
    assert "--ref HEAD" in warning


def test_changed_paths_detects_renames_and_ignores_base_only_commits(repo: GitRepo) -> None:
    base = repo.commit(
        "base",
        {
            "customers/acme/customer.yaml": "id: acme\n",
            "customers/acme/big.mjs": "x\n" * 200,
            "platform.yaml": "a: 1\n",
        },
    )
    repo.git("checkout", "-q", "-b", "feature")
    repo.git("mv", "customers/acme", "customers/zeta")
    head = repo.commit("rename", {"customers/zeta/extra.mjs": "y\n"})
    repo.git("checkout", "-q", "main")
    main_tip = repo.commit("main moves on", {"platform.yaml": "a: 2\n"})

    changes = changed_paths(repo.root, main_tip, head)

    assert changes == [
        PathChange("customers/zeta/big.mjs", "renamed", "customers/acme/big.mjs"),
        PathChange("customers/zeta/customer.yaml", "renamed", "customers/acme/customer.yaml"),
        PathChange("customers/zeta/extra.mjs", "added"),
    ]
    assert changed_paths(repo.root, base, head) == changes


def test_changed_paths_in_a_subdirectory_are_relative_to_it_and_keep_outside_paths(
    repo: GitRepo,
) -> None:
    base = repo.commit("base", {"infra/platform.yaml": "a: 1\n", "other.txt": "o\n"})
    head = repo.commit("change", {"infra/platform.yaml": "a: 2\n", "other.txt": "p\n"})

    assert changed_paths(repo.root / "infra", base, head) == [
        PathChange("../other.txt", "modified"),
        PathChange("platform.yaml", "modified"),
    ]


def test_loader_reads_the_committed_revision_through_open_source(platform_repo: GitRepo) -> None:
    from wfp_reconcile.config import load_repo

    sha = platform_repo.commit("tip")
    platform_repo.write({"customers/acme/acme-shop.mjs": "// edited, not committed\n"})

    loaded = load_repo(open_source(platform_repo.root, "HEAD"), env={"CLOUDFLARE_ACCOUNT_ID": "a1"})

    assert loaded.commit == sha
    assert loaded.files["customers/acme/acme-shop.mjs"].startswith(b"export default")
    assert [c.id for c in loaded.customers] == ["acme", "bolt"]
