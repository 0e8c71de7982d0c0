"""Paths and untrusted text as text that cannot break out of the line they are printed on.

A git file name may hold any byte but NUL and '/': a newline in one printed raw
starts a new line, and a line starting with ``::`` is a GitHub Actions workflow
command (``::error::``, ``::add-mask::``, ``::stop-commands::``). ``quote_path``
leaves ordinary paths as they are and quotes the others as git does
(``core.quotePath``): in double quotes, with backslash escapes.
"""

from __future__ import annotations

__all__ = ["one_line", "quote_path"]

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


def one_line(text: str, limit: int = 2000) -> str:
    """Untrusted text (an error message customer code threw) as one printable line:
    every character ``str.isprintable`` refuses (newlines, escapes, line separators)
    escaped, and at most ``limit`` characters kept."""
    if len(text) > limit:
        text = text[:limit] + "..."
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)
