"""Round-trip edits of YAML files that keep the author's comments and order.

ruamel.yaml attaches the comment lines that follow an entry to that entry's last
value, so naively appending puts new entries *below* the next section's heading
comment. ``append_item`` and ``insert_entry`` move those lines after the new entry.
"""

from __future__ import annotations

import copy
import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

__all__ = [
    "CommentedMap",
    "CommentedSeq",
    "YAMLError",
    "append_item",
    "dump",
    "insert_entry",
    "load",
    "new_map",
    "new_seq",
]


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    return yaml


def load(text: str) -> Any:
    """Parse ``text`` for editing; raises ``YAMLError`` on bad YAML."""
    return _yaml().load(text)


def dump(data: Any) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def new_map(**items: Any) -> CommentedMap:
    return CommentedMap(items)


def new_seq(*items: Any) -> CommentedSeq:
    return CommentedSeq(items)


def _last_leaf(node: Any) -> tuple[Any, Any] | None:
    """The innermost (container, key) that ends ``node``'s text."""
    leaf: tuple[Any, Any] | None = None
    while isinstance(node, CommentedMap | CommentedSeq) and len(node):
        key: Any = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        leaf = (node, key)
        node = node[key]
    return leaf


def _comment_slot(container: Any) -> int:
    return 2 if isinstance(container, CommentedMap) else 0


def _take_trailing_lines(leaf: tuple[Any, Any] | None) -> Any:
    """Detach the lines after ``leaf``'s own end-of-line comment; return them as a token."""
    if leaf is None:
        return None
    container, key = leaf
    slots = container.ca.items.get(key)
    if not slots:
        return None
    token = slots[_comment_slot(container)]
    if token is None or "\n" not in token.value:
        return None
    first, rest = token.value.split("\n", 1)
    if not rest:
        return None
    moved = copy.copy(token)
    moved.value = "\n" + rest
    token.value = first + "\n"
    return moved


def _attach(leaf: tuple[Any, Any] | None, token: Any) -> None:
    if leaf is None or token is None:
        return
    container, key = leaf
    slots = container.ca.items.setdefault(key, [None, None, None, None])
    slot = _comment_slot(container)
    if slots[slot] is None:
        slots[slot] = token
    else:
        slots[slot].value = slots[slot].value.rstrip("\n") + token.value


def append_item(seq: CommentedSeq, value: Any) -> None:
    """Append ``value`` to a block sequence, keeping the comments after it in place."""
    moved = _take_trailing_lines(_last_leaf(seq))
    seq.append(value)
    _attach(_last_leaf(seq), moved)


def insert_entry(mapping: CommentedMap, position: int, key: str, value: Any) -> None:
    """Insert ``key: value`` at ``position``, keeping the comments around it in place."""
    keys = list(mapping)
    moved = None
    if 0 < position <= len(keys):
        moved = _take_trailing_lines(_leaf_of_entry(mapping, keys[position - 1]))
    mapping.insert(position, key, value)
    _attach(_leaf_of_entry(mapping, key), moved)


def _leaf_of_entry(mapping: CommentedMap, key: str) -> tuple[Any, Any]:
    inner = _last_leaf(mapping[key])
    return inner if inner is not None else (mapping, key)
