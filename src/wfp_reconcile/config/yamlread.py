"""YAML text -> plain data plus the position of every key and value.

PyYAML's default constructors lose node positions, accept duplicate keys (the
last one silently wins) and turn ``2024-04-03`` into a ``date``. The platform
files need the opposite on all three counts, so documents are composed into
nodes and converted here.

This is the only YAML reader of the platform repository: ``validate``, ``plan``,
``apply`` and the ownership check all read through it (ruff bans ``import yaml``
outside ``wfp_reconcile.config``), so what a check sees is what apply does. It
accepts plain YAML only: tags other than the core ones (``!x``, ``!!binary``,
``!!set``, ...), merge keys, documents nested deeper than ``MAX_DEPTH`` and more
than ``MAX_VALUES`` values are problems with a line and column.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import yaml

__all__ = ["Loc", "Position", "YamlDoc", "YamlProblem", "read_yaml"]

Loc = tuple[str | int, ...]
"""A path into a document: mapping keys and sequence indexes."""


@dataclasses.dataclass(frozen=True)
class Position:
    """1-based line and column."""

    line: int
    column: int


@dataclasses.dataclass(frozen=True)
class YamlProblem:
    line: int
    column: int
    message: str


@dataclasses.dataclass(frozen=True)
class YamlDoc:
    """A parsed document: ``data`` is JSON-compatible; positions are by ``Loc``."""

    data: Any
    values: dict[Loc, Position]
    keys: dict[Loc, Position]

    def value_pos(self, loc: Loc) -> Position:
        """The position of the value at ``loc``, or of its nearest ancestor."""
        return _nearest(self.values, loc)

    def key_pos(self, loc: Loc) -> Position:
        """The position of the key that introduces ``loc`` (the value's for list items)."""
        if loc in self.keys:
            return self.keys[loc]
        return self.value_pos(loc)


def _nearest(table: dict[Loc, Position], loc: Loc) -> Position:
    for end in range(len(loc), -1, -1):
        found = table.get(loc[:end])
        if found is not None:
            return found
    return Position(1, 1)


# Aliases let a few lines expand to billions of values ("billion laughs"); a real
# platform file is far below this, and a hostile pull request must not hang validation.
MAX_VALUES = 200_000
# Platform files are a handful of levels deep; thousands of nested ``[`` would otherwise
# exhaust Python's stack in the composer (libyaml stops at 1000 levels on its own).
MAX_DEPTH = 64

_CORE = "tag:yaml.org,2002:"
_CORE_TAGS = frozenset(
    _CORE + name for name in ("str", "int", "float", "bool", "null", "map", "seq")
)
"""Tags a platform file may carry: the ones plain YAML resolves to by itself."""
_MERGE_TAG = _CORE + "merge"


def _too_deep_message() -> str:
    return (
        f"values are nested more than {MAX_DEPTH} levels deep; platform files need a "
        "few levels, so flatten this value"
    )


class _TooDeep(yaml.MarkedYAMLError):
    """Raised by the Python composer at ``MAX_DEPTH``, before its recursion gets deep."""


class _Loader(yaml.SafeLoader):
    """A safe loader whose scalars never become dates (they stay strings)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise _TooDeep(problem=_too_deep_message(), problem_mark=event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# libyaml composes ~10x faster (it matters with thousands of customer files); its error
# messages differ, so a document it rejects is parsed again by the Python loader.
class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same loader on libyaml, when PyYAML was built with it."""


_NO_DATES = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.yaml_implicit_resolvers = _NO_DATES
_FastLoader.yaml_implicit_resolvers = _NO_DATES

_STR_TAG = "tag:yaml.org,2002:str"
# A plain scalar's tag depends only on its text (no path resolvers are registered), and
# the same keys and values repeat in every customer file: trying the resolvers' regular
# expressions once per distinct text halves the parse time of a large repository.
_RESOLVED: dict[tuple[str, tuple[bool, bool]], str] = {}
_RESOLVED_MAX = 65_536
_RESOLVED_TEXT_MAX = 128
_BASE_RESOLVE: Callable[..., Any] = yaml.resolver.BaseResolver.resolve


def _cached_resolve(self: Any, kind: Any, value: Any, implicit: Any) -> Any:
    if kind is not yaml.ScalarNode or self.yaml_path_resolvers or len(value) > _RESOLVED_TEXT_MAX:
        return _BASE_RESOLVE(self, kind, value, implicit)
    key = (value, tuple(implicit))
    tag = _RESOLVED.get(key)
    if tag is None:
        tag = _BASE_RESOLVE(self, kind, value, implicit)
        if len(_RESOLVED) < _RESOLVED_MAX:
            _RESOLVED[key] = tag
    return tag


_Loader.resolve = _cached_resolve  # type: ignore[method-assign]
_FastLoader.resolve = _cached_resolve


def _pos(mark: yaml.Mark | None) -> Position:
    if mark is None:
        return Position(1, 1)
    return Position(mark.line + 1, mark.column + 1)


class _Limit(Exception):
    """A document over one of the limits: reported at ``node`` and nothing else."""

    def __init__(self, node: yaml.Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


class _Converter:
    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.count = 0
        self.values: dict[Loc, Position] = {}
        self.keys: dict[Loc, Position] = {}
        self.problems: list[YamlProblem] = []
        self._active: set[int] = set()

    def problem(self, node: yaml.Node, message: str) -> None:
        pos = _pos(node.start_mark)
        self.problems.append(YamlProblem(pos.line, pos.column, message))

    def convert(self, node: yaml.Node, loc: Loc) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _Limit(
                node,
                f"the document expands to more than {MAX_VALUES} values (through YAML "
                "aliases?); write the values out or split the file",
            )
        # An alias can put a deep value inside another deep one: count here too.
        if len(loc) > MAX_DEPTH:
            raise _Limit(node, _too_deep_message())
        self.values[loc] = _pos(node.start_mark)
        if node.tag not in _CORE_TAGS:
            self.problem(node, _tag_message(node.tag))
            return None
        if id(node) in self._active:
            self.problem(node, "recursive YAML aliases are not supported")
            return None
        if isinstance(node, yaml.MappingNode):
            self._active.add(id(node))
            try:
                return self._mapping(node, loc)
            finally:
                self._active.discard(id(node))
        if isinstance(node, yaml.SequenceNode):
            self._active.add(id(node))
            try:
                return [self.convert(item, (*loc, i)) for i, item in enumerate(node.value)]
            finally:
                self._active.discard(id(node))
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, Position] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, "mapping keys must be plain strings")
                continue
            if key_node.tag == _MERGE_TAG:
                self.problem(
                    key_node, "merge keys ('<<') are not supported; write the keys out instead"
                )
                continue
            if key_node.tag not in _CORE_TAGS:
                self.problem(key_node, _tag_message(key_node.tag))
                continue
            # Keys are names (scripts, variables): ``123`` or ``yes`` mean the text.
            key = str(key_node.value)
            key_pos = _pos(key_node.start_mark)
            if key in seen:
                first = seen[key]
                self.problem(
                    key_node,
                    f"duplicate key '{key}' (first defined at line {first.line}); "
                    "YAML keeps only the last one, so remove or rename one of them",
                )
                continue
            seen[key] = key_pos
            self.keys[(*loc, key)] = key_pos
            result[key] = self.convert(value_node, (*loc, key))
        return result

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag == _STR_TAG and isinstance(node.value, str):
            # What SafeConstructor.construct_yaml_str returns, without its bookkeeping.
            return node.value
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.problem(node, f"invalid value: {getattr(exc, 'problem', None) or exc}")
            return None
        if value is None or isinstance(value, str | bool | int):
            return value
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                self.problem(node, "infinite or NaN numbers are not allowed")
                return None
            return value
        self.problem(node, f"unsupported YAML value of type {type(value).__name__}")
        return None


def _tag_message(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
    return (
        f"YAML tag '{shown}' is not allowed: platform files are plain YAML (strings, "
        "numbers, booleans, lists and mappings), so remove the tag"
    )


def read_yaml(text: str) -> tuple[YamlDoc | None, list[YamlProblem]]:
    """Parse one YAML document.

    Returns:
        The document (``None`` when it could not be parsed) and every problem found.
        An empty file yields a document whose data is ``None``.
    """
    fast = _FastLoader(text)
    try:
        return _convert(fast, fast.get_single_node())
    except yaml.MarkedYAMLError as exc:
        # libyaml stops at 1000 levels; the Python scanner would take seconds to get there.
        if exc.problem and "maximum nesting depth" in exc.problem:
            pos = _pos(exc.problem_mark)
            return None, [YamlProblem(pos.line, pos.column, _too_deep_message())]
    except yaml.YAMLError:
        pass
    finally:
        fast.dispose()
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        # Raised before any parsing (NUL, other control characters): no mark to report.
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        return None, [
            YamlProblem(
                line,
                column,
                f"character U+{exc.character:04X} is not allowed in YAML; remove it",
            )
        ]
    try:
        node = loader.get_single_node()
    except _TooDeep as exc:
        pos = _pos(exc.problem_mark)
        return None, [YamlProblem(pos.line, pos.column, exc.problem or _too_deep_message())]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = _pos(mark)
        what = exc.problem or str(exc)
        context = f" {exc.context}" if exc.context else ""
        return None, [YamlProblem(pos.line, pos.column, f"YAML syntax error: {what}{context}")]
    except yaml.YAMLError as exc:
        return None, [YamlProblem(1, 1, f"YAML syntax error: {exc}")]
    finally:
        loader.dispose()
    return _convert(loader, node)


def _convert(loader: Any, node: yaml.Node | None) -> tuple[YamlDoc | None, list[YamlProblem]]:
    if node is None:
        return YamlDoc(None, {(): Position(1, 1)}, {}), []
    converter = _Converter(loader)
    try:
        data = converter.convert(node, ())
    except _Limit as exc:
        pos = _pos(exc.node.start_mark)
        return None, [YamlProblem(pos.line, pos.column, exc.message)]
    return YamlDoc(data, converter.values, converter.keys), converter.problems
