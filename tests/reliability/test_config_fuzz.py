"""Fuzz the config loader: whatever the files hold, only ``ConfigError`` ever escapes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from wfp_reconcile.config import load_repo, load_repo_dir
from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.errors import ConfigError

from .memsource import Link, MemorySource, Other

KEYS = [
    "id", "name", "plan", "scripts", "main_module", "modules", "tags", "limits", "cpu_ms",
    "subrequests", "outbound", "worker", "params", "suspended", "protect", "owners", "tokens",
    "sha256", "vars", "compatibility_date", "compatibility_flags", "account_id", "namespace",
    "platform_modules", "outbound_workers", "dispatcher", "safety", "max_deletes",
    "max_delete_fraction", "management_tag", "admins", "d1", "routing", "access",
    "default_limits", "max_bundle_bytes", "parameters", "customer_id", "custom_domain",
]  # fmt: skip
HOSTILE = [
    "../x.mjs", "/etc/passwd", "..", ".", "a/b", "a//b", "./a", "a\\b", "C:x", "${HOME}",
    "${UNSET_VAR_FOR_FUZZ}", "${X:-y}", "\x00", "a,b", "a&b", "a:b", "x" * 300, "ü", "",
    " ", "\n", "2024-02-30", "acme", "main.mjs", "wfp-managed", "0" * 64, "-1", "1e309",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(HOSTILE),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=25,
)


def _dump(data: Any) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True).encode()


VALID_PLATFORM = _dump(
    {
        "account_id": "0123456789abcdef0123456789abcdef",
        "namespace": "ns",
        "compatibility_date": "2024-09-23",
        "platform_modules": ["platform/p.mjs"],
    }
)
VALID_CUSTOMER = _dump(
    {
        "id": "acme",
        "name": "Acme",
        "plan": "basic",
        "scripts": {"acme-web": {"main_module": "w.mjs"}},
    }
)
YAML_NOISE = st.text(alphabet="{}[]:,-?|>!&*%@`'\"#\n\t \\abc01~.", max_size=80)


@st.composite
def documents(draw: st.DrawFn, valid: bytes) -> bytes:
    """A YAML file: random data, random text, raw bytes or a valid file spliced with noise."""
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return _dump(draw(values))
    if choice == 1:
        return draw(YAML_NOISE).encode()
    if choice == 2:
        return draw(st.binary(max_size=60))
    if choice == 3:
        data = yaml.safe_load(valid)
        data.update(draw(st.dictionaries(st.sampled_from(KEYS), values, max_size=3)))
        return _dump(data)
    at = draw(st.integers(0, len(valid)))
    return valid[:at] + draw(YAML_NOISE).encode() + valid[at:]


entries = st.one_of(
    st.binary(max_size=40),
    st.builds(Link, st.sampled_from(["../x", "/etc/passwd", "w.mjs", "loop", "..", "."])),
    st.just(Other()),
)
names = st.sampled_from(["acme", "beta", "ACME", "a b", "..x", "-x", "x" * 50, "ü", "_x"])
files = st.sampled_from(["w.mjs", "customer.yaml", "x/y.mjs", "loop", "README.md", ".hidden"])


@st.composite
def trees(draw: st.DrawFn) -> dict[str, bytes | Link | Other]:
    tree: dict[str, bytes | Link | Other] = {}
    if draw(st.booleans()):
        tree["platform.yaml"] = draw(documents(VALID_PLATFORM))
    else:
        tree["platform.yaml"] = draw(st.sampled_from([VALID_PLATFORM, b""])) or draw(entries)
    tree["platform/p.mjs"] = draw(st.sampled_from([b"export const p = 1;\n", b""]))
    for cid in draw(st.lists(names, max_size=3, unique=True)):
        tree[f"customers/{cid}/customer.yaml"] = draw(
            documents(VALID_CUSTOMER.replace(b"acme", cid.encode()))
        )
        for name in draw(st.lists(files, max_size=3, unique=True)):
            tree[f"customers/{cid}/{name}"] = draw(entries)
    if draw(st.booleans()):
        tree[draw(st.sampled_from(["customers/stray.yaml", "customers", "platform"]))] = draw(
            entries
        )
    return tree


def _load_only_config_errors(load: Any) -> PlatformRepo | None:
    try:
        return load()  # type: ignore[no-any-return]
    except ConfigError as exc:
        assert exc.problems, "a ConfigError must name at least one problem"
        for problem in exc.problems:
            assert problem.path and problem.message
        return None


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees())
def test_loader_on_random_trees_raises_only_config_error(tree: dict[str, Any]) -> None:
    repo = _load_only_config_errors(lambda: load_repo(MemorySource(tree), env={"X": "1"}))
    if repo is not None:
        assert all(repo.files.values())


@settings(max_examples=300, deadline=None)
@given(data=values)
def test_customer_yaml_of_any_shape_raises_only_config_error(data: Any) -> None:
    tree = {
        "platform.yaml": VALID_PLATFORM,
        "platform/p.mjs": b"export const p = 1;\n",
        "customers/acme/customer.yaml": _dump(data),
        "customers/acme/w.mjs": b"export default {};\n",
    }
    _load_only_config_errors(lambda: load_repo(MemorySource(tree), env={}))


def _write_tree(root: Path, tree: dict[str, bytes | Link | Other]) -> None:
    for rel, entry in tree.items():
        path = root / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(entry, bytes):
                path.write_bytes(entry)
            elif isinstance(entry, Link):
                path.symlink_to(entry.target)
            else:
                os.mkfifo(path)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue  # the generator drew a file where a directory is needed


@settings(max_examples=120, deadline=None)
@given(tree=trees())
def test_loader_on_random_trees_on_disk_raises_only_config_error(tree: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write_tree(root, tree)
        _load_only_config_errors(lambda: load_repo_dir(root, env={}))
