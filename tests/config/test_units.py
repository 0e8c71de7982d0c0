from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Annotated

import pytest

from wfp_reconcile.config import WorkTreeSource, load_repo_dir
from wfp_reconcile.config.envvars import ENV_FIELDS, EnvError, env_fields, expand
from wfp_reconcile.config.files import read_module
from wfp_reconcile.config.model import FROM_ENV, Model
from wfp_reconcile.config.yamlread import Position, read_yaml


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [
        ("${A}", {"A": "x"}, "x"),
        ("pre-${A}-post", {"A": "x"}, "pre-x-post"),
        ("${A:-fallback}", {}, "fallback"),
        ("${A:-fallback}", {"A": ""}, "fallback"),
        ("${A:-}", {}, ""),
        ("${A:-fallback}", {"A": "set"}, "set"),
        ("plain $A", {"A": "x"}, "plain $A"),
    ],
)
def test_environment_references_expand(value: str, env: dict[str, str], expected: str) -> None:
    assert expand(value, env) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("${A}", "environment variable A not set"),
        ("${A}${B}", "environment variables A, B not set"),
        ("${1A}", "'${1A}' is not a valid reference"),
        ("${A", "a '${' reference is not closed"),
    ],
)
def test_bad_environment_references_say_why(value: str, message: str) -> None:
    with pytest.raises(EnvError, match=message.replace("$", r"\$").replace("{", r"\{")):
        expand(value, {})


def test_yaml_dates_stay_strings_and_positions_are_one_based() -> None:
    doc, problems = read_yaml("a: 2024-01-02\nb:\n  - x\n")
    assert problems == []
    assert doc is not None
    assert doc.data == {"a": "2024-01-02", "b": ["x"]}
    assert doc.key_pos(("b",)) == Position(2, 1)
    assert doc.value_pos(("b", 0)) == Position(3, 5)


def test_yaml_keys_are_kept_as_written() -> None:
    doc, _ = read_yaml("123: a\nyes: b\n")
    assert doc is not None and doc.data == {"123": "a", "yes": "b"}


def test_symlink_that_stays_inside_the_directory_is_followed(tmp_path: Path) -> None:
    base = tmp_path / "customers" / "a"
    (base / "src").mkdir(parents=True)
    (base / "src" / "real.mjs").write_text("export {};\n")
    (base / "link.mjs").symlink_to("src/real.mjs")
    result = read_module(WorkTreeSource(tmp_path), PurePosixPath("customers/a"), "link.mjs")
    assert (result.path, result.content, result.error) == (
        "customers/a/link.mjs",
        b"export {};\n",
        None,
    )


def test_symlinked_directory_leaving_the_customer_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "platform").mkdir()
    (tmp_path / "platform" / "secret.mjs").write_text("x\n")
    base = tmp_path / "customers" / "a"
    base.mkdir(parents=True)
    (base / "lib").symlink_to("../../platform")
    result = read_module(WorkTreeSource(tmp_path), PurePosixPath("customers/a"), "lib/secret.mjs")
    assert (
        result.error == "module 'customers/a/lib/secret.mjs' is a symlink that leaves customers/a/"
    )


def test_symlink_loop_is_reported(tmp_path: Path) -> None:
    base = tmp_path / "c"
    base.mkdir()
    (base / "a.mjs").symlink_to("b.mjs")
    (base / "b.mjs").symlink_to("a.mjs")
    result = read_module(WorkTreeSource(tmp_path), PurePosixPath("c"), "a.mjs")
    assert result.error == "module 'c/a.mjs' is a symlink loop"


def test_loaded_repository_is_frozen(repo: Path) -> None:
    loaded = load_repo_dir(repo, env={})
    with pytest.raises(Exception, match="frozen"):
        loaded.platform.namespace = "other"  # type: ignore[misc]


def test_outbound_worker_may_declare_the_customer_id_it_always_receives(repo: Path) -> None:
    platform = repo / "platform.yaml"
    platform.write_text(
        platform.read_text().replace("  - allow_hosts", "  - allow_hosts\n      - customer_id")
    )
    loaded = load_repo_dir(repo, env={})
    assert loaded.platform.outbound_workers["egress"].parameters == ("allow_hosts", "customer_id")


def test_limits_are_named_for_upload_metadata_or_for_the_runtime():
    from wfp_reconcile.config.model import Limits

    assert Limits(cpu_ms=50).given() == {"cpu_ms": 50}
    assert Limits(cpu_ms=50, subrequests=5).given(runtime_names=True) == {
        "cpuMs": 50,
        "subRequests": 5,
    }
    assert Limits().given() == {}


def test_the_fields_that_may_reference_variables_are_the_ones_the_model_marks():
    assert ENV_FIELDS == (
        ("account_id",),
        ("namespace",),
        ("d1", "database_id"),
        ("custom_hostnames", "zone_id"),
    )

    class Inner(Model):
        plain: str = ""
        ref: Annotated[str, FROM_ENV] = ""

    class Outer(Model):
        top: Annotated[str, FROM_ENV] = ""
        inner: Inner | None = None

    assert list(env_fields(Outer)) == [("top",), ("inner", "ref")]
