"""Asset directories through the one loader: files, manifests, salts and every refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from wfp_reconcile.assets import build_manifest, customer_salt, wrangler_hash
from wfp_reconcile.assets.hashing import asset_hash
from wfp_reconcile.assets.walk import MAX_ASSET_BYTES
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.errors import ConfigError

from .conftest import site_repo, write


def _problems(root: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_repo_dir(root, env={})
    return [str(p) for p in info.value.problems]


def test_asset_files_are_read_with_the_repo(repo: Path) -> None:
    loaded = load_repo_dir(repo, env={})
    paths = loaded.assets["shop-site"]
    assert paths == (
        "customers/shop/public/404.html",
        "customers/shop/public/docs/index.html",
        "customers/shop/public/index.html",
        "customers/shop/public/style.css",
    )
    assert loaded.files["customers/shop/public/style.css"] == b"h1 { color: teal; }\n"
    script = loaded.customer("shop").scripts["shop-site"]
    assert script.assets is not None and script.assets.binding == "ASSETS"


def test_hash_is_wranglers_function_keyed_per_customer() -> None:
    content, path = b"h1 { color: teal; }\n", "/style.css"
    shop, other = customer_salt("shop"), customer_salt("other")
    # Deterministic: the same customer gets the same hash on every run.
    assert asset_hash(content, path, shop) == asset_hash(content, path, customer_salt("shop"))
    # Tenants never share a hash for the same bytes, and neither matches the unsalted one
    # that anybody could compute for a well-known file.
    hashes = {asset_hash(content, path, shop), asset_hash(content, path, other)}
    hashes.add(wrangler_hash(content, path))
    assert len(hashes) == 3
    assert all(len(h) == 32 and int(h, 16) >= 0 for h in hashes)
    # The extension is part of the input, as in wrangler: same bytes, other type, other hash.
    assert asset_hash(content, "/style.txt", shop) != asset_hash(content, path, shop)


def test_two_customers_same_file_get_different_manifest_hashes(repo: Path) -> None:
    loaded = load_repo_dir(repo, env={})
    manifests = {}
    for customer in ("shop", "other"):
        script = f"{customer}-site"
        files = [
            (p.removeprefix(f"customers/{customer}/public"), p, loaded.files[p])
            for p in loaded.assets[script]
        ]
        manifests[customer] = build_manifest(files, customer_salt(customer)).to_api()
    assert manifests["shop"]["/style.css"]["size"] == manifests["other"]["/style.css"]["size"]
    assert manifests["shop"]["/style.css"]["hash"] != manifests["other"]["/style.css"]["hash"]
    again = load_repo_dir(repo, env={})
    files = [
        (p.removeprefix("customers/shop/public"), p, again.files[p])
        for p in again.assets["shop-site"]
    ]
    assert build_manifest(files, customer_salt("shop")).to_api() == manifests["shop"]


def test_assetsignore_and_hidden_files(repo: Path) -> None:
    write(
        repo / "customers/shop/public",
        {
            ".assetsignore": "*.map\ndrafts/\n",
            "app.js.map": "{}",
            "drafts/x.html": "x",
            ".well-known/a": "a",
        },
    )
    paths = load_repo_dir(repo, env={}).assets["shop-site"]
    names = [p.removeprefix("customers/shop/public/") for p in paths]
    assert "app.js.map" not in names and "drafts/x.html" not in names
    assert ".assetsignore" not in names
    assert ".well-known/a" in names  # as wrangler: dotfiles are assets unless ignored


@pytest.mark.parametrize(
    ("directory", "message"),
    [
        ("../other/public", "contains '..'"),
        ("/etc", "is absolute"),
        ("missing", "does not exist"),
        ("./public", "is not normalized"),
        ("worker.mjs", "is not a directory"),
    ],
)
def test_bad_directories_name_the_yaml_position(repo: Path, directory: str, message: str) -> None:
    yaml = repo / "customers/shop/customer.yaml"
    yaml.write_text(yaml.read_text().replace("directory: public", f"directory: {directory}"))
    (problem,) = _problems(repo)
    assert problem.startswith("customers/shop/customer.yaml:8:18: assets directory")
    assert message in problem


def test_symlink_leaving_the_directory_is_refused(repo: Path) -> None:
    (repo / "customers/shop/public/stolen.js").symlink_to("../../other/worker.mjs")
    (problem,) = _problems(repo)
    assert problem.startswith(
        "customers/shop/customer.yaml:8:18: asset 'customers/shop/public/stolen.js'"
    )
    assert "leaves customers/shop/public/" in problem


def test_symlink_inside_the_directory_is_followed(repo: Path) -> None:
    (repo / "customers/shop/public/alias.css").symlink_to("style.css")
    loaded = load_repo_dir(repo, env={})
    assert loaded.files["customers/shop/public/alias.css"] == b"h1 { color: teal; }\n"


def test_symlinked_directory_is_refused(tmp_path: Path) -> None:
    root = site_repo(tmp_path / "r")
    (root / "customers/shop/site").symlink_to("../other/public")
    yaml = root / "customers/shop/customer.yaml"
    yaml.write_text(yaml.read_text().replace("directory: public", "directory: site"))
    (problem,) = _problems(root)
    assert "goes through a symlink" in problem


def test_limits_are_checked_before_any_api_call(repo: Path) -> None:
    big = repo / "customers/shop/public/video.bin"
    with big.open("wb") as f:
        f.truncate(MAX_ASSET_BYTES + 1)
    (problem,) = _problems(repo)
    assert problem == (
        "customers/shop/customer.yaml:8:18: asset 'customers/shop/public/video.bin' is 25.0 MiB; "
        "Cloudflare accepts files of at most 25.0 MiB: make it smaller or list it in .assetsignore"
    )


def test_too_many_files(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("wfp_reconcile.assets.walk.MAX_ASSET_FILES", 3)
    (problem,) = _problems(repo)
    assert "has more than 3 files, Cloudflare's limit per script" in problem


def test_pages_worker_js_is_refused_without_assetsignore(repo: Path) -> None:
    write(repo / "customers/shop/public", {"_worker.js": "export default {}"})
    (problem,) = _problems(repo)
    assert "looks like Pages server code and would be public" in problem
    write(repo / "customers/shop/public", {".assetsignore": "_worker.js\n"})
    assert "customers/shop/public/_worker.js" not in load_repo_dir(repo, env={}).assets["shop-site"]


def test_headers_file_is_not_silently_dropped(repo: Path) -> None:
    write(repo / "customers/shop/public", {"_headers": "/*\n  X-A: b\n"})
    (problem,) = _problems(repo)
    assert "_headers' is not supported by wfp-reconcile yet" in problem


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("run_worker_first: []", "run_worker_first lists no rules"),
        ("run_worker_first: ['api/*']", "rules must start with '/' or '!/'"),
        ("run_worker_first: ['!/api/docs']", "only negative rules"),
        ("run_worker_first: ['/api/*', '/api/x']", "'/api/x' is redundant: '/api/*' covers it"),
        ("run_worker_first: ['/a', '/a']", "'/a' is listed twice"),
        ("html_handling: trailing", "html_handling"),
        ("not_found_handling: spa", "not_found_handling"),
        ("binding: 1ASSETS", "binding"),
    ],
)
def test_assets_config_rules(repo: Path, snippet: str, expected: str) -> None:
    yaml = repo / "customers/shop/customer.yaml"
    yaml.write_text(yaml.read_text() + f"      {snippet}\n")
    problems = _problems(repo)
    assert any(expected in p and p.startswith("customers/shop/customer.yaml:") for p in problems), (
        problems
    )


def test_binding_name_collides_with_a_var(repo: Path) -> None:
    yaml = repo / "customers/shop/customer.yaml"
    yaml.write_text(
        yaml.read_text().replace("    assets:\n", "    vars: {ASSETS: x}\n    assets:\n")
    )
    (problem,) = _problems(repo)
    assert problem.startswith("customers/shop/customer.yaml:10:16: assets binding 'ASSETS'")


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("observability: {enabled: true, head_sampling_rate: 1.5}", "head_sampling_rate"),
        ("observability: {enabled: true, logs: {head_sampling_rate: -0.1}}", "head_sampling_rate"),
        ("observability: {head_sampling_rate: 0.5}", "enabled"),
        ("observability: {enabled: true, tracing: true}", "tracing"),
    ],
)
def test_observability_ranges(repo: Path, snippet: str, expected: str) -> None:
    yaml = repo / "customers/shop/customer.yaml"
    yaml.write_text(yaml.read_text().replace("plan: basic\n", f"plan: basic\n{snippet}\n"))
    problems = _problems(repo)
    assert any(
        expected in p and p.startswith("customers/shop/customer.yaml:4:") for p in problems
    ), problems


def test_observability_accepts_integers_for_rates(repo: Path) -> None:
    yaml = repo / "customers/shop/customer.yaml"
    yaml.write_text(
        yaml.read_text().replace(
            "plan: basic\n", "plan: basic\nobservability: {enabled: true, head_sampling_rate: 1}\n"
        )
    )
    customer = load_repo_dir(repo, env={}).customer("shop")
    assert customer.observability is not None and customer.observability.head_sampling_rate == 1


def test_a_module_may_not_take_the_manifest_module_name(repo: Path) -> None:
    (repo / "customers/shop/__wfp_assets.json").write_text("{}")
    yaml = repo / "customers/shop/customer.yaml"
    yaml.write_text(
        yaml.read_text().replace("    assets:\n", "    modules: [__wfp_assets.json]\n    assets:\n")
    )
    (problem,) = _problems(repo)
    assert problem.startswith("customers/shop/customer.yaml:7:15: module name '__wfp_assets.json'")
