"""Markdown for GitHub: the hidden marker, and bodies cut to fit GitHub's size limits."""

from __future__ import annotations

import re

from wfp_reconcile.errors import WfpError, redact

__all__ = ["MAX_COMMENT_BYTES", "comment_body", "fit_markdown", "marker"]

# GitHub refuses comment and issue bodies over 65,536 characters. Counting UTF-8
# bytes instead is never more than that, however GitHub counts characters.
MAX_COMMENT_BYTES = 65_536
_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")


def marker(key: str) -> str:
    """The hidden HTML comment that identifies the comment or issue ``key`` is about."""
    if not _KEY_RE.match(key):
        raise WfpError(
            f"comment key {key!r} is not valid: use letters, digits, '.', '_', ':' or '-' "
            "(at most 64)."
        )
    return f"<!-- wfp-reconcile:{key} -->"


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def fit_markdown(text: str, limit: int, note: str) -> str:
    """``text`` cut at a line boundary so that it and ``note`` fit in ``limit`` bytes.

    Unchanged when it already fits. A code fence left open by the cut is closed, so
    the note is not swallowed into the code block.
    """
    if _size(text) <= limit:
        return text
    tail = "\n\n" + note + "\n"
    budget = limit - _size(tail) - len("```\n")
    if budget <= 0:
        raise ValueError(f"limit {limit} leaves no room for the note")
    kept: list[str] = []
    used = 0
    fence: str | None = None
    for line in text.splitlines(keepends=True):
        if used + _size(line) > budget:
            break
        kept.append(line)
        used += _size(line)
        found = _FENCE_RE.match(line)
        if found:
            fence = None if fence == found.group(1) else (fence or found.group(1))
    body = "".join(kept)
    if body and not body.endswith("\n"):
        body += "\n"
    if fence is not None:
        body += fence + "\n"
    return body.rstrip("\n") + tail


def comment_body(markdown: str, *, key: str, limit: int = MAX_COMMENT_BYTES) -> str:
    """The comment posted for ``key``: the hidden marker, then ``markdown`` made to fit.

    Deterministic: the same Markdown gives the same body on every run (no run ids or
    times), so an unchanged plan leaves the comment untouched.
    """
    head = marker(key) + "\n"
    note = (
        "> [!NOTE]\n> This output was truncated to fit in a GitHub comment. The full "
        "version is in the job summary and the plan artifact of the workflow run."
    )
    # Redacted before it is cut, so a cut can never leave half a secret behind.
    text = redact(markdown).strip("\n") + "\n"
    return head + fit_markdown(text, limit - _size(head), note)
