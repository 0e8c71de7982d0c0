"""Regression tests: the ownership check reads the repository as validate and apply do.

The attack (issue 11, item 1): on a base where ``advanced`` is suspended, its own owner
un-suspends it, raises its limits behind a YAML tag, drops its outbound Worker, turns
its tail Worker off and binds another D1 database. ``owners`` read files with a second
YAML reader that rejected the tag, took the file for unreadable and skipped the policy
checks, while the loader behind validate/plan/apply accepted the same file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from wfp_reconcile.cli import main
from wfp_reconcile.config.model import Customer
from wfp_reconcile.config.policy import admin_only_fields, claimed_names
from wfp_reconcile.gitsource import PathChange
from wfp_reconcile.owners import (
    CustomerOwnership,
    OwnershipState,
    check_ownership,
    check_revisions,
)

from .conftest import GitRepo

EXAMPLE = Path(__file__).resolve().parents[2]
OWNER = "customer-two-dev"
ADVANCED = "customers/advanced/customer.yaml"


@pytest.fixture
def example(repo: GitRepo) -> GitRepo:
    """This repository's example platform, with ``advanced`` suspended by an admin."""
    for name in ("platform.yaml", "platform", "customers"):
        src = EXAMPLE / name
        if src.is_dir():
            shutil.copytree(src, repo.root / name)
        else:
            shutil.copy(src, repo.root / name)
    platform = (repo.root / "platform.yaml").read_text()
    assert "  - platform-team-lead\n" in platform
    (repo.root / "platform.yaml").write_text(platform.replace("platform-team-lead", "root-admin"))
    text = (repo.root / ADVANCED).read_text()
    (repo.root / ADVANCED).write_text(
        text.replace("plan: advanced\n", "plan: advanced\nsuspended: true\n")
    )
    repo.commit("base: advanced is suspended")
    return repo


def _attack(repo: GitRepo, limits: str) -> str:
    text = (repo.root / ADVANCED).read_text()
    start, end = text.index("limits:\n  cpu_ms: 200"), text.index("scripts:\n")
    text = text[:start] + f"limits: {limits}\ntail: false\n\n" + text[end:]
    text = text.replace("suspended: true\n", "suspended: false\n")
    text = text.replace(
        "${D1_ADVANCED_HITS:-5c0ffee0-d1d1-4d1d-8d1d-0000000000a2}",
        "5c0ffee0-d1d1-4d1d-8d1d-0000000000b1",  # another database
    )
    repo.git("checkout", "-q", "-b", "attack")
    sha = repo.commit("attack", {ADVANCED: text})
    repo.git("checkout", "-q", "main")
    return sha


def _check_owners(repo: GitRepo, head: str) -> int:
    return main(
        ["check-owners", "--repo", str(repo.root), "--base", "main", "--head", head]
        + ["--actor", OWNER]
    )


def test_a_yaml_tag_does_not_switch_off_the_ownership_check(
    example: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    head = _attack(example, "!x {cpu_ms: 300000, subrequests: 10000000}")

    assert _check_owners(example, head) == 1
    err = capsys.readouterr().out
    assert f"{ADVANCED}: does not load" in err
    assert "YAML tag '!x' is not allowed" in err

    assert main(["validate", "--repo", str(example.root), "--ref", head]) == 1
    problems = capsys.readouterr().err
    assert f"{ADVANCED}:" in problems and "YAML tag '!x' is not allowed" in problems


def test_the_same_attack_in_plain_yaml_names_every_policy_field(example: GitRepo) -> None:
    # Anchors and flow style are plain YAML: the file loads, and every field is compared.
    head = _attack(example, "&big {cpu_ms: 300000, subrequests: 10000000}")

    report = check_revisions(example.root, "main", head, OWNER)

    changed = sorted(v.reason.split("'")[1] for v in report.violations)
    assert changed == ["limits", "outbound", "scripts.advanced-counter.d1", "suspended", "tail"]
    assert all(v.admins == ("root-admin",) for v in report.violations)
    assert check_revisions(example.root, "main", head, "root-admin").passed


def test_admin_only_fields_are_declared_on_the_model() -> None:
    assert admin_only_fields(Customer) == [
        "plan",
        "limits",
        "outbound",
        "suspended",
        "tail",
        "logpush",
        "observability",
        "scripts.<name>.limits",
        "scripts.<name>.d1",
        "scripts.<name>.observability",
    ]


def test_a_base_platform_file_that_does_not_load_fails_the_check(
    example: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    platform = (example.root / "platform.yaml").read_text()
    example.commit("broken base", {"platform.yaml": platform + "extra: !x 1\n"})
    head = _attack(example, "{cpu_ms: 1}")

    assert _check_owners(example, head) == 1
    assert "platform.yaml at the base revision main does not load" in capsys.readouterr().err


def test_yaml_is_imported_only_by_the_config_package() -> None:
    pyproject = (EXAMPLE / "pyproject.toml").read_text()
    assert '"yaml".msg' in pyproject
    offenders = [
        str(path.relative_to(EXAMPLE))
        for path in (EXAMPLE / "src" / "wfp_reconcile").rglob("*.py")
        if "config" not in path.relative_to(EXAMPLE / "src" / "wfp_reconcile").parts
        and any(
            line.startswith(("import yaml", "from yaml")) for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []


def test_deep_nesting_is_a_problem_with_a_position_not_a_crash(
    example: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = "[" * 5000 + "]" * 5000
    example.git("checkout", "-q", "-b", "deep")
    text = (example.root / ADVANCED).read_text()
    head = example.commit("deep", {ADVANCED: text.replace("name: Customer 2", f"name: {deep}")})
    example.git("checkout", "-q", "main")

    assert _check_owners(example, head) == 1
    out = capsys.readouterr()
    assert f"{ADVANCED}:6:" in out.out and "nested more than 64 levels" in out.out
    assert "RecursionError" not in out.err + out.out

    assert main(["validate", "--repo", str(example.root), "--ref", head]) == 1
    err = capsys.readouterr().err
    assert f"error: {ADVANCED}:6:" in err and "nested more than 64 levels" in err


def test_names_unique_across_customers_are_declared_on_the_model() -> None:
    customer = Customer.model_validate(
        {"id": "a", "name": "A", "plan": "p", "scripts": {"web": {"main_module": "w.mjs"}}}
    )

    assert claimed_names(customer) == {
        "script name": frozenset({"web"}),
        "hostname": frozenset(),
    }


def test_any_claimed_name_of_another_customer_needs_its_owners() -> None:
    # How a new Claimed field (hostnames, say) is checked: no code in owners/ names it.
    bolt = CustomerOwnership(
        "bolt", "bolt", ("bob",), frozenset(), claims={"hostname": frozenset({"x.example"})}
    )
    base = OwnershipState(
        admins=("root",),
        customers={
            "acme": CustomerOwnership("acme", "acme", ("alice",), frozenset()),
            "bolt": bolt,
        },
    )
    acme = CustomerOwnership(
        "acme", "acme", ("alice",), frozenset(), claims={"hostname": frozenset({"x.example"})}
    )
    head = OwnershipState(admins=("root",), customers={"acme": acme, "bolt": bolt})
    changes = [PathChange("customers/acme/customer.yaml", "modified")]

    report = check_ownership(changes, base, head, "alice")

    assert [(v.reason.split(",")[0], v.owners) for v in report.violations] == [
        ("claims the hostname 'x.example'", ("bob",))
    ]
    by_bob = check_ownership(changes, base, head, "bob").violations  # bob may give it away
    assert [v.reason for v in by_bob] == ["belongs to customer 'acme'"]
    assert check_ownership(changes, base, head, "root").passed


def test_a_customer_file_replaced_by_a_symlink_does_not_load(platform_repo: GitRepo) -> None:
    platform_repo.git("checkout", "-q", "-b", "link")
    platform_repo.git("rm", "-q", "customers/acme/customer.yaml")
    (platform_repo.root / "customers/acme/customer.yaml").symlink_to("../bolt/customer.yaml")
    head = platform_repo.commit("link")
    platform_repo.git("checkout", "-q", "main")

    report = check_revisions(platform_repo.root, "main", head, "alice")

    assert [v.path for v in report.violations] == ["customers/acme/customer.yaml"]
    assert "does not load" in report.violations[0].reason
