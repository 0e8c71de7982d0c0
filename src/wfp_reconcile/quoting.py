"""Paths as text that cannot break out of the line they are printed on.

A git file name may hold any byte but NUL and '/': a newline in one printed raw
starts a new line, and a line starting with ``::`` is a GitHub Actions workflow
command (``::error::``, ``::add-mask::``, ``::stop-commands::``). ``quote_path``
leaves ordinary paths as they are and quotes the others as git does
(``core.quotePath``): in double quotes, with backslash escapes.
"""

from __future__ import annotations

__all__ = ["quote_path"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    if ch.isprintable():
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def quote_path(path: str) -> str:
    """``path`` unchanged when every character is printable (and no quote or
    backslash), else in double quotes with every other character escaped."""
    if all(ch.isprintable() and ch not in '"\\' for ch in path):
        return path
    return '"' + "".join(_escape(ch) for ch in path) + '"'
