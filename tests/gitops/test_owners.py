from __future__ import annotations

from wfp_reconcile.gitsource import PathChange
from wfp_reconcile.owners import (
    CustomerOwnership,
    OwnershipState,
    check_ownership,
    check_revisions,
    summarize_changes,
)

from .conftest import GitRepo, customer_yaml, module, platform_yaml


def pull_request(repo: GitRepo, files: dict[str, object], *, remove: tuple[str, ...] = ()) -> str:
    """Commit ``files`` on a branch off main and return to main; the branch's SHA."""
    repo.git("checkout", "-q", "-b", f"pr-{len(repo.git('branch', '--list'))}")
    for path in remove:
        repo.git("rm", "-q", "-r", path)
    sha = repo.commit("pull request", files)
    repo.git("checkout", "-q", "main")
    return sha


def test_owner_edits_own_customer_passes(platform_repo: GitRepo) -> None:
    head = pull_request(platform_repo, {"customers/acme/acme-shop.mjs": module("v2")})

    report = check_revisions(platform_repo.root, "main", head, "alice")

    assert report.passed
    assert [c.path for c in report.changes] == ["customers/acme/acme-shop.mjs"]


def test_owner_login_matches_case_insensitively(platform_repo: GitRepo) -> None:
    head = pull_request(platform_repo, {"customers/acme/acme-shop.mjs": module("v2")})

    assert check_revisions(platform_repo.root, "main", head, "Alice").passed


def test_owner_editing_another_customer_fails_naming_its_owners(platform_repo: GitRepo) -> None:
    head = pull_request(
        platform_repo,
        {
            "customers/acme/acme-shop.mjs": module("v2"),
            "customers/bolt/bolt-api.mjs": module("hijacked"),
        },
    )

    report = check_revisions(platform_repo.root, "main", head, "alice")

    assert not report.passed
    assert [v.path for v in report.violations] == ["customers/bolt/bolt-api.mjs"]
    violation = report.violations[0]
    assert violation.owners == ("bob",)
    assert violation.admins == ("root-admin",)
    assert "customers/bolt/bolt-api.mjs" in violation.message
    assert "bob" in violation.message and "root-admin" in violation.message


def test_adding_yourself_as_owner_in_the_same_pull_request_fails(platform_repo: GitRepo) -> None:
    head = pull_request(
        platform_repo,
        {
            "customers/bolt/customer.yaml": customer_yaml("bolt", ["bob", "alice"], ["bolt-api"]),
            "customers/bolt/bolt-api.mjs": module("mine now"),
        },
    )

    report = check_revisions(platform_repo.root, "main", head, "alice")

    assert not report.passed
    assert {v.path for v in report.violations} == {
        "customers/bolt/customer.yaml",
        "customers/bolt/bolt-api.mjs",
    }
    assert all(v.owners == ("bob",) for v in report.violations)


def test_renaming_a_customer_directory_fails(platform_repo: GitRepo) -> None:
    platform_repo.git("checkout", "-q", "-b", "rename")
    platform_repo.git("mv", "customers/acme", "customers/acme2")
    head = platform_repo.commit("rename")
    platform_repo.git("checkout", "-q", "main")

    report = check_revisions(platform_repo.root, "main", head, "alice")

    assert not report.passed
    reasons = " ".join(v.reason for v in report.violations)
    assert "from customer directory 'acme' to 'acme2'" in reasons
    assert "new customer directory 'acme2'" in reasons
    assert all(v.admins == ("root-admin",) for v in report.violations)


def test_admin_edits_platform_files_passes(platform_repo: GitRepo) -> None:
    head = pull_request(
        platform_repo,
        {
            "platform.yaml": platform_yaml(["root-admin", "carol"]),
            "platform/platform_module.mjs": "export const platform = 2;\n",
            "customers/bolt/bolt-api.mjs": module("admin fix"),
        },
    )

    report = check_revisions(platform_repo.root, "main", head, "root-admin")

    assert report.passed
    assert report.actor_is_admin


def test_non_admin_editing_platform_yaml_fails(platform_repo: GitRepo) -> None:
    head = pull_request(platform_repo, {"platform.yaml": platform_yaml(["root-admin", "alice"])})

    report = check_revisions(platform_repo.root, "main", head, "alice")

    assert [(v.path, v.reason) for v in report.violations] == [
        ("platform.yaml", "is a platform file")
    ]
    assert report.violations[0].admins == ("root-admin",)


def test_admins_are_read_at_base_so_a_pr_cannot_make_its_author_admin(
    platform_repo: GitRepo,
) -> None:
    head = pull_request(
        platform_repo,
        {
            "platform.yaml": platform_yaml(["root-admin", "alice"]),
            "customers/bolt/bolt-api.mjs": module("hijacked"),
        },
    )

    report = check_revisions(platform_repo.root, "main", head, "alice")

    assert not report.actor_is_admin
    assert {v.path for v in report.violations} == {"platform.yaml", "customers/bolt/bolt-api.mjs"}


def test_new_customer_by_non_admin_fails(platform_repo: GitRepo) -> None:
    head = pull_request(
        platform_repo,
        {
            "customers/newco/customer.yaml": customer_yaml("newco", ["alice"], ["newco-app"]),
            "customers/newco/newco-app.mjs": module("new"),
        },
    )

    report = check_revisions(platform_repo.root, "main", head, "alice")

    assert not report.passed
    assert {v.path for v in report.violations} == {
        "customers/newco/customer.yaml",
        "customers/newco/newco-app.mjs",
    }
    assert all("new customer directory 'newco'" in v.reason for v in report.violations)


def test_new_customer_by_admin_passes(platform_repo: GitRepo) -> None:
    head = pull_request(
        platform_repo,
        {"customers/newco/customer.yaml": customer_yaml("newco", ["alice"], ["newco-app"])},
    )

    assert check_revisions(platform_repo.root, "main", head, "root-admin").passed


def test_claiming_another_customers_script_name_fails(platform_repo: GitRepo) -> None:
    head = pull_request(
        platform_repo,
        {
            "customers/acme/customer.yaml": customer_yaml(
                "acme", ["alice"], ["acme-shop", "bolt-api"]
            ),
            "customers/acme/bolt-api.mjs": module("impostor"),
        },
    )

    report = check_revisions(platform_repo.root, "main", head, "alice")

    assert len(report.violations) == 1
    violation = report.violations[0]
    assert violation.path == "customers/acme/customer.yaml"
    assert "'bolt-api'" in violation.reason and "'bolt'" in violation.reason
    assert violation.owners == ("bob",)


def test_owner_of_both_customers_may_move_a_script_between_them() -> None:
    both = ("alice",)
    base = OwnershipState(
        admins=("root-admin",),
        customers={
            "a": CustomerOwnership("a", "a", both, frozenset({"s1"})),
            "b": CustomerOwnership("b", "b", both, frozenset()),
        },
    )
    head = OwnershipState(
        admins=("root-admin",),
        customers={
            "a": CustomerOwnership("a", "a", both, frozenset()),
            "b": CustomerOwnership("b", "b", both, frozenset({"s1"})),
        },
    )
    changes = [
        PathChange("customers/a/customer.yaml", "modified"),
        PathChange("customers/b/customer.yaml", "modified"),
    ]

    assert check_ownership(changes, base, head, "alice").passed


def test_changing_a_customer_id_fails_even_for_its_owner(platform_repo: GitRepo) -> None:
    head = pull_request(
        platform_repo,
        {"customers/acme/customer.yaml": customer_yaml("bolt", ["alice"], ["acme-shop"])},
    )

    report = check_revisions(platform_repo.root, "main", head, "alice")

    assert [v.path for v in report.violations] == ["customers/acme/customer.yaml"]
    assert "from 'acme' to 'bolt'" in report.violations[0].reason


def test_unreadable_base_customer_file_is_owned_only_by_admins() -> None:
    base = OwnershipState(
        admins=("root-admin",),
        customers={"a": CustomerOwnership("a", None, (), frozenset(), readable=False)},
    )
    changes = [PathChange("customers/a/x.mjs", "modified")]

    report = check_ownership(changes, base, base, "alice")

    assert not report.passed
    assert "could not be read" in report.violations[0].reason


def test_owner_may_delete_own_script(platform_repo: GitRepo) -> None:
    head = pull_request(
        platform_repo,
        {"customers/acme/customer.yaml": customer_yaml("acme", ["alice"], [])},
        remove=("customers/acme/acme-shop.mjs",),
    )

    assert check_revisions(platform_repo.root, "main", head, "alice").passed
    assert not check_revisions(platform_repo.root, "main", head, "bob").passed


def test_a_head_customer_file_that_does_not_load_fails_even_for_its_owner(
    platform_repo: GitRepo,
) -> None:
    # What a file that does not load would change is unknown: it may not pass as harmless.
    head = pull_request(
        platform_repo,
        {"customers/acme/customer.yaml": "id: [unclosed\n"},
        remove=("customers/acme/acme-shop.mjs",),
    )

    report = check_revisions(platform_repo.root, "main", head, "alice")

    assert [v.path for v in report.violations] == ["customers/acme/customer.yaml"]
    assert "does not load" in report.violations[0].reason
    assert "customers/acme/customer.yaml:2:1: YAML syntax error" in report.violations[0].reason
    assert not check_revisions(platform_repo.root, "main", head, "bob").passed


def test_no_admins_declared_says_to_declare_them() -> None:
    state = OwnershipState(admins=(), customers={})

    report = check_ownership([PathChange("platform.yaml", "modified")], state, state, "alice")

    assert "no platform admins are declared" in report.violations[0].message


def test_summary_lists_customers_on_both_sides_of_a_move_and_platform_files() -> None:
    summary = summarize_changes(
        [
            PathChange("customers/b/x.mjs", "renamed", "customers/a/x.mjs"),
            PathChange("platform.yaml", "modified"),
            PathChange("customers/README.md", "added"),
        ]
    )

    assert summary.customers == ("a", "b")
    assert summary.platform_files == ("customers/README.md", "platform.yaml")
    assert summary.to_json()["changes"][0] == {
        "path": "customers/b/x.mjs",
        "status": "renamed",
        "old_path": "customers/a/x.mjs",
    }
