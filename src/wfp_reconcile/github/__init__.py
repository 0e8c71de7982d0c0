"""GitHub Actions glue: job summary, step outputs, annotations, one updated comment.

The workflows stay thin YAML that call ``wfp-reconcile github ...``; the parts that
need care live here, tested: multiline-safe outputs, escaped workflow commands,
Markdown that fits GitHub's size limits, and a comment (or drift issue) found again
by a hidden marker so later runs update it instead of adding another.

Nothing here prints: functions return the strings the CLI writes to stdout, or
write to the files GitHub Actions names in the environment. The token is kept out
of every repr and message, and every body written or posted passes ``errors.redact``.

Modules: ``actions`` (the runner: summary, outputs, annotations), ``markdown``
(markers and size limits), ``event`` (the payload), ``client`` (the REST calls).
"""

from __future__ import annotations

from .actions import (
    MAX_SUMMARY_BYTES,
    ActionsEnv,
    annotation,
    append_summary,
    format_outputs,
    set_outputs,
)
from .client import GitHubClient, UpsertResult
from .event import PullRequest, load_event, pull_request_from_event
from .markdown import MAX_COMMENT_BYTES, comment_body, fit_markdown, marker

__all__ = [
    "MAX_COMMENT_BYTES",
    "MAX_SUMMARY_BYTES",
    "ActionsEnv",
    "GitHubClient",
    "PullRequest",
    "UpsertResult",
    "annotation",
    "append_summary",
    "comment_body",
    "fit_markdown",
    "format_outputs",
    "load_event",
    "marker",
    "pull_request_from_event",
    "set_outputs",
]
