"""Adding a hostname is the customer owner's right; taking one another customer declares
needs an admin (or an owner of both), like a script name."""

from __future__ import annotations

from pathlib import Path

from wfp_reconcile.config.source import WorkTreeSource
from wfp_reconcile.gitsource import PathChange as Change
from wfp_reconcile.owners import CustomerOwnership, OwnershipState, check_ownership, read_state

from .conftest import edit

A = "customers/alpha/customer.yaml"
X_TEST = {"hostname": frozenset({"x.test"})}
B = "customers/beta/customer.yaml"


def state(repo: Path) -> OwnershipState:
    return read_state(WorkTreeSource(repo))


def owned(repo: Path) -> None:
    edit(repo, A, "plan: basic", "plan: basic\nowners: [alice]")
    edit(repo, B, "plan: basic", "plan: basic\nowners: [bob]")
    edit(repo, "platform.yaml", "namespace: test-ns", "namespace: test-ns\nadmins: [root]")


def test_hostnames_are_read_at_each_revision(repo: Path) -> None:
    owned(repo)
    claimed = state(repo).customers["alpha"].claimed()
    assert claimed["hostname"] == frozenset({"shop.example.com"})
    assert state(repo).holder("hostname", "shop.example.com") is not None


def test_an_owner_adds_a_new_hostname_alone(repo: Path) -> None:
    owned(repo)
    base = state(repo)
    edit(repo, A, "  shop.example.com: alpha-shop", "  shop.example.com: alpha-shop\n"
         "  blog.example.com: alpha-blog")  # fmt: skip
    report = check_ownership([Change(A, "modified")], base, state(repo), "alice")
    assert report.passed, report.violations


def test_claiming_another_customers_hostname_needs_an_admin(repo: Path) -> None:
    owned(repo)
    base = state(repo)
    # Beta's owner takes alpha's hostname in a change to beta's file alone.
    edit(repo, B, "    main_module: shop.mjs\n",
         "    main_module: shop.mjs\nhostnames:\n  shop.example.com: beta-site\n")  # fmt: skip
    report = check_ownership([Change(B, "modified")], base, state(repo), "bob")
    (violation,) = report.violations
    assert violation.path == B
    assert "claims the hostname 'shop.example.com'" in violation.reason
    assert "'alpha'" in violation.reason
    assert violation.owners == ("alice",) and violation.admins == ("root",)
    assert check_ownership([Change(B, "modified")], base, state(repo), "root").passed


def test_an_owner_of_both_customers_may_move_a_hostname() -> None:
    both = ("alice",)
    base = OwnershipState(
        admins=("root",),
        customers={
            "a": CustomerOwnership("a", "a", both, frozenset(), claims=X_TEST),
            "b": CustomerOwnership("b", "b", both, frozenset()),
        },
    )
    head = OwnershipState(
        admins=("root",),
        customers={
            "a": CustomerOwnership("a", "a", both, frozenset()),
            "b": CustomerOwnership("b", "b", both, frozenset(), claims=X_TEST),
        },
    )
    changes = [
        Change("customers/a/customer.yaml", "modified"),
        Change("customers/b/customer.yaml", "modified"),
    ]
    assert check_ownership(changes, base, head, "alice").passed
    other = OwnershipState(
        admins=("root",),
        customers={**head.customers, "b": CustomerOwnership("b", "b", ("bob",), frozenset(),
                   claims=X_TEST)},
    )  # fmt: skip
    assert not check_ownership(
        [Change("customers/b/customer.yaml", "modified")], base, other, "bob"
    ).passed
