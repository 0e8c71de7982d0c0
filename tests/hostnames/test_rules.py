"""Validation of customer hostnames: one precise path:line:col problem per defect."""

from __future__ import annotations

from pathlib import Path

import pytest

from wfp_reconcile.cli import main
from wfp_reconcile.config import load_repo_dir

from .conftest import edit

A = "customers/alpha/customer.yaml"
B = "customers/beta/customer.yaml"
P = "platform.yaml"


def problems(repo: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["validate", "--repo", str(repo)])
    err = capsys.readouterr().err
    return code, [line.removeprefix("error: ") for line in err.splitlines() if "error: " in line]


def test_the_valid_repository_loads_with_its_hostnames(repo: Path) -> None:
    loaded = load_repo_dir(repo, env={})
    assert loaded.customer("alpha").hostnames == {"shop.example.com": "alpha-shop"}
    assert loaded.platform.custom_hostnames is not None
    assert loaded.platform.custom_hostnames.ssl.method == "txt"


@pytest.mark.parametrize(
    ("rel", "old", "new", "expected"),
    [
        pytest.param(
            A, "shop.example.com:", "Shop.Example.com:",
            f"{A}:10:3: hostname 'Shop.Example.com' must be lower case: write 'shop.example.com'",
            id="upper-case",
        ),
        pytest.param(
            A, "shop.example.com:", "'*.example.com':",
            f"{A}:10:3: hostname '*.example.com' is a wildcard; platform.yaml "
            "custom_hostnames.allow_wildcards must be true to declare one",
            id="wildcard-not-allowed",
        ),
        pytest.param(
            A, "shop.example.com:", "shop_1.example.com:",
            f"{A}:10:3: hostname 'shop_1.example.com' has an invalid label 'shop_1': use a-z, "
            "0-9 and '-' (not first or last), 1 to 63 characters per label",
            id="bad-label",
        ),
        pytest.param(
            A, "shop.example.com:", "localhost:",
            f"{A}:10:3: hostname 'localhost' needs at least two labels (like shop.example.com)",
            id="one-label",
        ),
        pytest.param(
            A, "shop.example.com:", "platform.example:",
            f"{A}:10:3: hostname 'platform.example' is in the platform's own zone "
            "platform.example; declare a domain of the customer's",
            id="zone-apex",
        ),
        pytest.param(
            A, "shop.example.com:", "x.apps.platform.example:",
            f"{A}:10:3: hostname 'x.apps.platform.example' is in the platform's own zone "
            "platform.example; declare a domain of the customer's",
            id="dispatcher-host",
        ),
        pytest.param(
            P, 'zone_id: "', 'zone_id: "../',
            f"{P}:8:12: custom_hostnames.zone_id '../023e105f4ecef8ad9ca31a8372d0c353' is not "
            "a zone id (32 hex digits, shown on the zone's overview page in the dashboard)",
            id="zone-id-not-an-id",
        ),
        pytest.param(
            A, "shop.example.com: alpha-shop", "shop.example.com: beta-site",
            f"{A}:10:3: hostname 'shop.example.com' names script 'beta-site', which this "
            "customer does not declare under scripts; a hostname serves one of the "
            "customer's own scripts",
            id="another-customers-script",
        ),
        pytest.param(
            B, "    main_module: shop.mjs\n", "    main_module: shop.mjs\nhostnames:\n"
            "  shop.example.com: beta-site\n",
            f"{B}:8:3: hostname 'shop.example.com' is already declared in {A}:10; "
            "a hostname belongs to one customer, remove one",
            id="claimed-by-two-customers",
        ),
    ],
)  # fmt: skip
def test_bad_hostname_fails_with_one_precise_problem(
    repo: Path,
    rel: str,
    old: str,
    new: str,
    expected: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    edit(repo, rel, old, new)
    code, found = problems(repo, capsys)
    assert code == 1
    assert found == [expected]


def test_hostnames_need_custom_hostnames_in_platform_yaml(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (repo / P).read_text()
    (repo / P).write_text(
        text.split("custom_hostnames:")[0].replace("routing: host", "routing: path")
    )
    code, found = problems(repo, capsys)
    assert code == 1
    assert found == [
        f"{A}:10:3: hostname 'shop.example.com' needs custom hostnames: an admin must "
        "configure custom_hostnames (zone_id, fallback_origin) in platform.yaml"
    ]


def test_allowed_wildcards_may_not_cover_another_customers_hostname(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(repo, P, "  ssl:", "  allow_wildcards: true\n  ssl:")
    edit(repo, B, "    main_module: shop.mjs\n",
         "    main_module: shop.mjs\nhostnames:\n  '*.example.com': beta-site\n")  # fmt: skip
    code, found = problems(repo, capsys)
    assert code == 1
    assert found == [
        f"{B}:8:3: wildcard '*.example.com' covers 'shop.example.com' of another customer "
        f"({A}:10); a hostname belongs to one customer"
    ]
    edit(repo, B, "'*.example.com'", "'*.beta.example'")
    assert main(["validate", "--repo", str(repo)]) == 0
