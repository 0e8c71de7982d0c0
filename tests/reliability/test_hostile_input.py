"""Hostile repositories are refused by the loader, before the first API call."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from wfp_reconcile.cli import main
from wfp_reconcile.config.yamlread import MAX_VALUES
from wfp_reconcile.local.emulator import EmulatorServer, run_emulator

from .harness import ACCOUNT

SCRIPT = b'export default { fetch() { return new Response("hi"); } };\n'
Edit = Callable[[Path], None]


def _write_base(root: Path) -> None:
    (root / "platform" / "outbound").mkdir(parents=True)
    (root / "platform" / "p.mjs").write_bytes(b"export const p = 1;\n")
    (root / "platform" / "outbound" / "egress.mjs").write_bytes(SCRIPT)
    platform = {
        "account_id": ACCOUNT,
        "namespace": "hostile-ns",
        "compatibility_date": "2024-09-23",
        "platform_modules": ["platform/p.mjs"],
        "outbound_workers": {"egress": {"main_module": "platform/outbound/egress.mjs"}},
    }
    (root / "platform.yaml").write_text(yaml.safe_dump(platform))
    for cid in ("acme", "globex"):
        directory = root / "customers" / cid
        directory.mkdir(parents=True)
        (directory / "w.mjs").write_bytes(SCRIPT)
        _customer(root, cid, {f"{cid}-web": {"main_module": "w.mjs"}})


def _customer(root: Path, cid: str, scripts: dict[str, object], **extra: object) -> None:
    doc = {"id": cid, "name": cid.title(), "plan": "basic", "scripts": scripts, **extra}
    (root / "customers" / cid / "customer.yaml").write_text(yaml.safe_dump(doc))


def _platform(root: Path, **changes: object) -> None:
    path = root / "platform.yaml"
    doc = yaml.safe_load(path.read_text())
    doc.update(changes)
    path.write_text(yaml.safe_dump(doc))


def _script(**spec: object) -> Edit:
    return lambda root: _customer(root, "acme", {"acme-web": {"main_module": "w.mjs", **spec}})


def _name(name: str) -> Edit:
    return lambda root: _customer(root, "acme", {name: {"main_module": "w.mjs"}})


def _main_module_is(make: Callable[[Path], None]) -> Edit:
    def edit(root: Path) -> None:
        make(root / "customers" / "acme" / "evil.mjs")
        _customer(root, "acme", {"acme-web": {"main_module": "evil.mjs"}})

    return edit


def _huge(path: Path) -> None:
    with path.open("wb") as f:  # sparse: 3 GB on paper, nothing on disk
        f.truncate(3 * 1024**3)


def _symlinked_customer_dir(root: Path) -> None:
    (root / "customers" / "evil").symlink_to("acme")


def _symlinked_customer_yaml(root: Path) -> None:
    (root / "customers" / "evil").mkdir()
    (root / "customers" / "evil" / "customer.yaml").symlink_to("../acme/customer.yaml")


def _customer_dir(dirname: str, cid: str) -> Edit:
    def edit(root: Path) -> None:
        (root / "customers" / dirname).mkdir()
        (root / "customers" / dirname / "w.mjs").write_bytes(SCRIPT)
        _customer(root, dirname, {"x-web": {"main_module": "w.mjs"}}, id=cid)

    return edit


def _raw_customer_yaml(text: bytes) -> Edit:
    return lambda root: (root / "customers" / "acme" / "customer.yaml").write_bytes(text)


def _alias_bomb() -> bytes:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    assert 10**9 > MAX_VALUES
    return ("\n".join(lines) + "\n").encode()


CASES: dict[str, tuple[Edit, str]] = {
    # script names
    "name-traversal": (_name("../evil"), "customers/acme/customer.yaml"),
    "name-slash": (_name("a/b"), "customers/acme/customer.yaml"),
    "name-encoded-slash": (_name("a%2fb"), "customers/acme/customer.yaml"),
    "name-uppercase": (_name("Evil"), "customers/acme/customer.yaml"),
    "name-too-long": (_name("a" * 64), "customers/acme/customer.yaml"),
    "name-dot-dot": (_name(".."), "customers/acme/customer.yaml"),
    "name-newline": (_name("a\nb"), "customers/acme/customer.yaml"),
    "name-unicode": (_name("ｅvil"), "customers/acme/customer.yaml"),
    "name-taken-by-other-customer": (_name("globex-web"), "customers/"),
    # tags
    "tag-comma": (_script(tags=["a,b"]), "customers/acme/customer.yaml"),
    "tag-ampersand": (_script(tags=["a&b"]), "customers/acme/customer.yaml"),
    "tag-colon": (_script(tags=["a:yes"]), "customers/acme/customer.yaml"),
    "tag-empty": (_script(tags=[""]), "customers/acme/customer.yaml"),
    "tags-too-many": (_script(tags=[f"t{i}" for i in range(9)]), "customers/acme/customer.yaml"),
    "management-tag-filter-injection": (
        lambda root: _platform(root, management_tag="x:no,wfp-managed"),
        "platform.yaml",
    ),
    # module paths
    "path-traversal": (_script(main_module="../globex/w.mjs"), "customers/acme/customer.yaml"),
    "path-absolute": (_script(main_module="/etc/passwd"), "customers/acme/customer.yaml"),
    "path-hidden-traversal": (_script(main_module="x/../../w.mjs"), "customers/acme/"),
    "path-backslash": (_script(main_module="..\\globex\\w.mjs"), "customers/acme/"),
    "path-nul": (_script(main_module="w\x00.mjs"), "customers/acme/customer.yaml"),
    "path-control-character": (_script(main_module="w\x1b[2J.mjs"), "customers/acme/"),
    "platform-module-nul": (
        lambda root: _platform(root, platform_modules=["platform/p\x00.mjs"]),
        "platform.yaml",
    ),
    "platform-module-traversal": (
        lambda root: _platform(root, platform_modules=["../../etc/passwd"]),
        "platform.yaml",
    ),
    "symlink-to-other-customer": (
        _main_module_is(lambda p: p.symlink_to("../globex/w.mjs")),
        "customers/acme/customer.yaml",
    ),
    "symlink-to-absolute": (
        _main_module_is(lambda p: p.symlink_to("/etc/passwd")),
        "customers/acme/customer.yaml",
    ),
    "symlink-loop": (
        _main_module_is(lambda p: p.symlink_to("evil.mjs")),
        "customers/acme/customer.yaml",
    ),
    "fifo": (_main_module_is(lambda p: os.mkfifo(p)), "customers/acme/customer.yaml"),
    "device-file": (
        _main_module_is(lambda p: p.symlink_to("/dev/zero")),
        "customers/acme/customer.yaml",
    ),
    "directory": (_main_module_is(lambda p: p.mkdir()), "customers/acme/customer.yaml"),
    "huge-file": (_main_module_is(_huge), "customers/acme/customer.yaml"),
    "empty-file": (_main_module_is(lambda p: p.write_bytes(b"")), "customers/acme/"),
    # customer ids and directories
    "customer-dir-symlink": (_symlinked_customer_dir, "customers/evil"),
    "customer-yaml-symlink": (_symlinked_customer_yaml, "customers/evil/customer.yaml"),
    "customer-id-mismatch": (_customer_dir("evil", "acme"), "customers/evil/customer.yaml"),
    "customer-id-uppercase": (_customer_dir("EVIL", "EVIL"), "customers/EVIL/customer.yaml"),
    "customer-id-spaces": (_customer_dir("a b", "a b"), "customers/a b/customer.yaml"),
    "customer-id-leading-dash": (_customer_dir("-evil", "-evil"), "customers/-evil/"),
    # platform identifiers that end up in API paths
    "namespace-dot-dot": (lambda root: _platform(root, namespace=".."), "platform.yaml"),
    "namespace-slash": (lambda root: _platform(root, namespace="a/../b"), "platform.yaml"),
    "account-traversal": (lambda root: _platform(root, account_id="../x"), "platform.yaml"),
    # file contents
    "yaml-nul-byte": (_raw_customer_yaml(b"id: acme\x00\n"), "customers/acme/customer.yaml"),
    "yaml-alias-bomb": (_raw_customer_yaml(_alias_bomb()), "customers/acme/customer.yaml"),
    "yaml-python-tag": (
        _raw_customer_yaml(b"id: !!python/object/apply:os.system ['true']\n"),
        "customers/acme/customer.yaml",
    ),
    "yaml-not-utf8": (_raw_customer_yaml(b"id: \xff\xfe\n"), "customers/acme/customer.yaml"),
    "yaml-deep-nesting": (
        _raw_customer_yaml(b"id: acme\nname: " + b"[" * 5000 + b"]" * 5000 + b"\n"),
        "customers/acme/customer.yaml:2:",
    ),
    "yaml-local-tag-on-a-mapping": (
        lambda root: (
            _customer(root, "acme", {"acme-web": {"main_module": "w.mjs"}})
            or (root / "customers/acme/customer.yaml").write_text(
                (root / "customers/acme/customer.yaml").read_text() + "limits: !x {cpu_ms: 1}\n"
            )
        ),
        "customers/acme/customer.yaml:",
    ),
}


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[EmulatorServer]:
    # One emulator for every case: each only needs an empty request log.
    with run_emulator(None, api_token="hostile-test-token-0123456789") as server:
        yield server


@pytest.fixture
def cloudflare_env(
    shared_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> EmulatorServer:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", shared_emulator.api_token)
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", shared_emulator.api_base)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
    shared_emulator.reset_requests()
    return shared_emulator


def test_the_base_repository_is_valid_so_each_case_tests_only_its_own_edit(
    tmp_path: Path, cloudflare_env: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_base(tmp_path)
    assert main(["plan", "--repo", str(tmp_path)]) == 0, capsys.readouterr().err
    assert cloudflare_env.count() > 0


@pytest.mark.timeout(30)
@pytest.mark.parametrize("command", ["plan", "apply"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_repository_is_refused_before_any_api_call(
    case: str,
    command: str,
    tmp_path: Path,
    cloudflare_env: EmulatorServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    edit, where = CASES[case]
    _write_base(tmp_path)
    edit(tmp_path)
    args = [command, "--repo", str(tmp_path)] + (["--auto-approve"] if command == "apply" else [])

    code = main(args)

    err = capsys.readouterr().err
    assert code == 1, err
    assert f"error: {where}" in err, err
    assert "Traceback" not in err and "Internal error" not in err
    assert cloudflare_env.requests() == []
