"""Regression tests for the ownership review: what lands is what is checked."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from wfp_reconcile.cli import main
from wfp_reconcile.errors import GitError
from wfp_reconcile.gitsource import PathChange, changed_paths
from wfp_reconcile.owners import check_revisions, check_revisions_for

from .conftest import GitRepo, customer_yaml, module, platform_yaml


def branch(repo: GitRepo, name: str, files: dict[str, object], start: str = "main") -> str:
    repo.git("checkout", "-q", "-b", name, start)
    sha = repo.commit(name, files)
    repo.git("checkout", "-q", "main")
    return sha


def criss_cross(repo: GitRepo) -> tuple[str, str]:
    """A base and a head whose merge reverts bob's fix though the head's diff from one
    of its two merge bases (the one its dated commits make git pick) shows no bolt change.
    """
    g = repo.git
    g("checkout", "-q", "-b", "alice1")
    os.environ["GIT_COMMITTER_DATE"] = "2030-01-01T00:00:00Z"  # the author picks dates
    try:
        mb1 = repo.commit("alice v2", {"customers/acme/acme-shop.mjs": module("acme v2")})
    finally:
        del os.environ["GIT_COMMITTER_DATE"]
    g("checkout", "-q", "main")
    mb2 = repo.commit("bob's fix", {"customers/bolt/bolt-api.mjs": module("bolt security fix")})
    g("merge", "-q", "--no-ff", "-m", "merge alice1", "alice1")
    base = g("rev-parse", "HEAD")
    g("checkout", "-q", "-b", "alice2", mb1)
    g("merge", "-q", "--no-ff", "--no-commit", mb2)
    g("checkout", mb1, "--", "customers/bolt")  # keep bolt's files from before the fix
    g("commit", "-q", "-m", "merge main")
    head = g("rev-parse", "HEAD")
    g("checkout", "-q", "main")
    assert len(g("merge-base", "--all", base, head).split()) == 2
    return base, head


def test_criss_cross_merge_that_reverts_another_customer_fails(platform_repo: GitRepo) -> None:
    base, head = criss_cross(platform_repo)

    report = check_revisions(platform_repo.root, base, head, "alice")

    assert not report.passed
    assert [v.path for v in report.violations] == ["customers/bolt/bolt-api.mjs"]
    assert report.violations[0].owners == ("bob",)
    # The check saw exactly what the merge does.
    platform_repo.git("merge", "-q", "--no-ff", "-m", "merge PR", head)
    diff = platform_repo.git("diff", "--name-only", base, "HEAD")
    assert [c.path for c in report.changes] == diff.split()


def test_changed_paths_of_a_conflicting_merge_is_a_git_error(platform_repo: GitRepo) -> None:
    head = branch(platform_repo, "pr", {"customers/acme/acme-shop.mjs": module("branch")})
    platform_repo.commit("main", {"customers/acme/acme-shop.mjs": module("main")})

    with pytest.raises(GitError, match="conflicts"):
        changed_paths(platform_repo.root, "main", head)


def test_changes_main_already_has_are_not_changes_of_the_pull_request(
    platform_repo: GitRepo,
) -> None:
    same = {"customers/bolt/bolt-api.mjs": module("cherry-picked")}
    head = branch(platform_repo, "pr", {**same, "customers/acme/acme-shop.mjs": module("v2")})
    platform_repo.commit("bob lands the same change", same)

    assert changed_paths(platform_repo.root, "main", head) == [
        PathChange("customers/acme/acme-shop.mjs", "modified")
    ]
    assert check_revisions(platform_repo.root, "main", head, "alice").passed


def subdirectory_platform(tmp_path: Any) -> tuple[GitRepo, str]:
    repo = GitRepo(tmp_path / "mono")
    repo.commit(
        "base",
        {
            ".github/workflows/apply.yml": "on: push\njobs: {}\n",
            "infra/wfp/platform.yaml": platform_yaml(["root-admin"]),
            "infra/wfp/customers/acme/customer.yaml": customer_yaml("acme", ["alice"], ["shop"]),
            "infra/wfp/customers/acme/shop.mjs": module("acme"),
        },
    )
    head = branch(
        repo,
        "pr",
        {
            ".github/workflows/apply.yml": "on: pull_request_target\njobs: {}\n",
            "requirements.txt": "something-else\n",
            "infra/wfp/customers/acme/shop.mjs": module("v2"),
        },
    )
    return repo, head


def test_paths_outside_a_subdirectory_platform_need_an_admin(tmp_path: Any) -> None:
    repo, head = subdirectory_platform(tmp_path)

    report = check_revisions(repo.root / "infra/wfp", "main", head, "alice")

    assert not report.passed
    assert [v.path for v in report.violations] == [
        "../../.github/workflows/apply.yml",
        "../../requirements.txt",
    ]
    assert all("outside the platform directory" in v.reason for v in report.violations)
    assert all(v.admins == ("root-admin",) for v in report.violations)
    assert check_revisions(repo.root / "infra/wfp", "main", head, "root-admin").passed


def test_a_file_moved_out_of_the_platform_directory_keeps_both_paths(tmp_path: Any) -> None:
    repo, _ = subdirectory_platform(tmp_path)
    repo.git("checkout", "-q", "-b", "move")
    repo.git("mv", "infra/wfp/customers/acme/shop.mjs", "shop.mjs")
    head = repo.commit("move out")
    repo.git("checkout", "-q", "main")

    changes = changed_paths(repo.root / "infra/wfp", "main", head)

    assert changes == [PathChange("../../shop.mjs", "renamed", "customers/acme/shop.mjs")]
    violations = check_revisions(repo.root / "infra/wfp", "main", head, "alice").violations
    assert [v.path for v in violations] == ["../../shop.mjs"]


def acme_with(**fields: Any) -> dict[str, object]:
    acme = customer_yaml("acme", ["alice"], ["acme-shop"])
    acme.update(fields)
    return acme


@pytest.mark.parametrize(
    ("before", "after", "field"),
    [
        ({}, {"plan": "enterprise"}, "plan"),
        ({"suspended": True}, {"suspended": False}, "suspended"),
        ({"suspended": True}, {}, "suspended"),
        ({"limits": {"cpu_ms": 10}}, {"limits": {"cpu_ms": 300000}}, "limits"),
        ({"outbound": {"worker": "egress"}}, {}, "outbound"),
        (
            {"outbound": {"worker": "egress", "params": {"allow": ["a.example"]}}},
            {"outbound": {"worker": "egress", "params": {"allow": ["*"]}}},
            "outbound",
        ),
        ({}, {"tail": False}, "tail"),
        ({}, {"logpush": False}, "logpush"),
    ],
)
def test_owner_changing_a_policy_field_needs_an_admin(
    platform_repo: GitRepo, before: dict[str, Any], after: dict[str, Any], field: str
) -> None:
    platform_repo.commit("admin sets policy", {"customers/acme/customer.yaml": acme_with(**before)})
    head = branch(platform_repo, "pr", {"customers/acme/customer.yaml": acme_with(**after)})

    report = check_revisions(platform_repo.root, "main", head, "alice")

    assert [(v.path, v.admins) for v in report.violations] == [
        ("customers/acme/customer.yaml", ("root-admin",))
    ]
    message = report.violations[0].message
    assert f"'{field}'" in message and "platform policy" in message and "root-admin" in message
    assert check_revisions(platform_repo.root, "main", head, "root-admin").passed


@pytest.mark.parametrize(
    ("script", "field"),
    [
        ({"limits": {"cpu_ms": 50}}, "scripts.acme-shop.limits"),
        ({"d1": {"DB": "0b0b0b0b-0000-4000-8000-000000000001"}}, "scripts.acme-shop.d1"),
    ],
)
def test_owner_changing_a_script_policy_field_needs_an_admin(
    platform_repo: GitRepo, script: dict[str, Any], field: str
) -> None:
    acme = acme_with(scripts={"acme-shop": {"main_module": "acme-shop.mjs", **script}})
    head = branch(platform_repo, "pr", {"customers/acme/customer.yaml": acme})

    violations = check_revisions(platform_repo.root, "main", head, "alice").violations

    assert len(violations) == 1 and f"'{field}'" in violations[0].reason


def test_a_new_script_with_d1_bindings_needs_an_admin(platform_repo: GitRepo) -> None:
    new = {"main_module": "acme-new.mjs", "d1": {"DB": "0b0b0b0b-0000-4000-8000-000000000002"}}
    acme = acme_with(scripts={"acme-shop": {"main_module": "acme-shop.mjs"}, "acme-new": new})
    head = branch(
        platform_repo,
        "pr",
        {"customers/acme/customer.yaml": acme, "customers/acme/acme-new.mjs": module("new")},
    )

    violations = check_revisions(platform_repo.root, "main", head, "alice").violations

    assert [v.reason.split(",")[0] for v in violations] == ["changes 'scripts.acme-new.d1'"]


def test_owner_keeps_tokens_owners_and_script_settings(platform_repo: GitRepo) -> None:
    acme = acme_with(
        name="Acme Inc",
        tokens=[{"name": "ci", "sha256": "a" * 64}],
        owners=["alice", "carol"],
    )
    acme["scripts"] = {  # reformatted: policy values equal in a different key order
        "acme-shop": {
            "main_module": "acme-shop.mjs",
            "vars": {"GREETING": "hi"},
            "compatibility_flags": ["nodejs_compat"],
            "tags": ["shop"],
        },
        "acme-blog": {"main_module": "acme-blog.mjs"},
    }
    head = branch(
        platform_repo,
        "pr",
        {"customers/acme/customer.yaml": acme, "customers/acme/acme-blog.mjs": module("blog")},
    )

    report = check_revisions(platform_repo.root, "main", head, "alice")

    assert report.passed, report.violations


def test_policy_values_compare_by_value_not_spelling(platform_repo: GitRepo) -> None:
    before = "limits: {cpu_ms: 10, subrequests: 5}\n"
    after = "limits:\n  subrequests: 5\n  cpu_ms: 10\n"
    path = platform_repo.root / "customers/acme/customer.yaml"
    platform_repo.commit("limits", {"customers/acme/customer.yaml": path.read_text() + before})
    head = branch(
        platform_repo,
        "pr",
        {"customers/acme/customer.yaml": path.read_text().replace(before, after)},
    )

    assert check_revisions(platform_repo.root, "main", head, "alice").passed


def test_every_actor_must_own_every_change(platform_repo: GitRepo) -> None:
    head = branch(platform_repo, "pr", {"customers/acme/acme-shop.mjs": module("v2")})

    reports = check_revisions_for(platform_repo.root, "main", head, ["alice", "bob", "Alice"])

    assert [(r.actor, r.passed) for r in reports] == [("alice", True), ("bob", False)]


def test_check_owners_with_two_actors_fails_when_the_pusher_is_no_owner(
    platform_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    head = branch(platform_repo, "pr", {"customers/acme/acme-shop.mjs": module("v2")})
    args = ["check-owners", "--repo", str(platform_repo.root), "--base", "main", "--head", head]

    assert main([*args, "--actor", "alice", "--actor", "alice"]) == 0
    assert main([*args, "--actor", "alice", "--actor", "bob", "--format", "json"]) == 1

    captured = capsys.readouterr()
    data = json.loads(captured.out.split("OK: alice owns all 1 changed path(s).\n")[-1])
    assert data["passed"] is False
    assert [(r["actor"], r["passed"]) for r in data["reports"]] == [
        ("alice", True),
        ("bob", False),
    ]
    assert "not owned by bob" in captured.err
