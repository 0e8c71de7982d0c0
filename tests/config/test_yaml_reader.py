"""The one YAML reader accepts plain YAML only, with a position for every refusal."""

from __future__ import annotations

import pytest

from wfp_reconcile.config.yamlread import MAX_DEPTH, read_yaml


@pytest.mark.parametrize(
    ("text", "line", "column", "tag"),
    [
        ("limits: !x {cpu_ms: 1}\n", 1, 9, "'!x'"),
        ("suspended: !x false\n", 1, 12, "'!x'"),
        ("a:\n  - !local [1]\n", 2, 5, "'!local'"),
        ("a: !!binary aGVsbG8=\n", 1, 4, "'!!binary'"),
        ("a: !!set {x}\n", 1, 4, "'!!set'"),
        ("a: !!timestamp 2024-01-01\n", 1, 4, "'!!timestamp'"),
        ("a: !<tag:example.com,2024:x> 1\n", 1, 4, "'tag:example.com,2024:x'"),
        ("!x {a: 1}\n", 1, 1, "'!x'"),
        ("? !x k\n: v\n", 1, 3, "'!x'"),
    ],
)
def test_tags_other_than_the_core_ones_are_refused_at_their_position(
    text: str, line: int, column: int, tag: str
) -> None:
    doc, problems = read_yaml(text)

    assert [(p.line, p.column) for p in problems] == [(line, column)]
    assert f"YAML tag {tag} is not allowed" in problems[0].message


def test_core_tags_mean_what_plain_yaml_means() -> None:
    doc, problems = read_yaml("a: !!str 1\nb: !!int '2'\nc: !!bool true\nd: !!null ''\n")

    assert problems == []
    assert doc is not None and doc.data == {"a": "1", "b": 2, "c": True, "d": None}


def test_merge_keys_are_refused() -> None:
    _, problems = read_yaml("base: &b {x: 1}\nc:\n  <<: *b\n")

    assert [(p.line, p.column) for p in problems] == [(3, 3)]
    assert "merge keys" in problems[0].message


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 999, 1001, 5000, 100_000])
@pytest.mark.parametrize("style", ["flow", "block"])
def test_nesting_beyond_the_limit_is_a_problem_not_a_recursion_error(
    depth: int, style: str
) -> None:
    if style == "flow":
        text = "a: " + "[" * depth + "]" * depth + "\n"
    else:
        if depth > 1001:
            pytest.skip("block nesting that deep needs gigabytes of indentation")
        text = "a:\n" + "".join(" " * i + "-\n" for i in range(depth))

    doc, problems = read_yaml(text)

    assert doc is None
    assert len(problems) == 1 and problems[0].line >= 1 and problems[0].column >= 1
    assert f"nested more than {MAX_DEPTH} levels" in problems[0].message


def test_nesting_up_to_the_limit_is_fine() -> None:
    depth = MAX_DEPTH - 1  # the top-level mapping is one level
    doc, problems = read_yaml("a: " + "[" * depth + "]" * depth + "\n")

    assert problems == [] and doc is not None


def test_aliases_cannot_nest_a_value_deeper_than_the_limit() -> None:
    half = MAX_DEPTH // 2 + 2
    text = f"a: &a {'[' * half}{']' * half}\nb: {'[' * half}*a{']' * half}\n"

    doc, problems = read_yaml(text)

    assert doc is None and "nested more than" in problems[0].message
