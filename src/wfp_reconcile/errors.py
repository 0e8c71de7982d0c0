"""The one error tree of wfp-reconcile.

Every failure the library expects is a ``WfpError``; the CLI maps the tree to exit
codes in one place (``wfp_reconcile.cli.main``)::

    WfpError
      ConfigError            one or more problems in the platform repository
      GitError               a revision or repository could not be read
      OwnershipError         a change is not owned by its author
      ApiError               Cloudflare (or the emulator) answered with an error
        ApiConnectionError   no answer: timeout, refused or dropped connection
        ApiClientError       4xx
          AuthError          401/403, code 10000
          NotFoundError      404, code 10007
          RateLimitError     429 after all retries
          ValidationError    400 and other 4xx
        ApiServerError       5xx after all retries
      PlanError
        StalePlanError       a saved plan no longer matches the namespace or commit
        UnsafePlanError      a safety guard refused the plan
        ApplyFailedError     some operations failed (the others were done)
      RuntimeSetupError      Node.js/npm/workerd could not be prepared or started

Messages are full sentences that say what to do next. They never contain API
tokens: ``redact`` is applied to every message built from remote text.
"""

from __future__ import annotations

import dataclasses
import re

from wfp_reconcile.quoting import quote_path

__all__ = [
    "ApiClientError",
    "ApiConnectionError",
    "ApiError",
    "ApiServerError",
    "ApplyFailedError",
    "AuthError",
    "ConfigError",
    "ConfigProblem",
    "GitError",
    "NotFoundError",
    "OwnershipError",
    "PlanError",
    "RateLimitError",
    "RuntimeSetupError",
    "StalePlanError",
    "UnsafePlanError",
    "ValidationError",
    "WfpError",
    "redact",
    "register_secret",
]

_SECRETS: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret so that ``redact`` removes it from any later message."""
    if value and len(value) >= 8:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """Replace every registered secret and bearer credential in ``text``."""
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return re.sub(r"(?i)(bearer\s+)[^\s\"',]+", r"\1***", text)


class WfpError(Exception):
    """Base class of every error wfp-reconcile expects and reports to users."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


_LINE_BREAKS = str.maketrans(
    {
        "\n": "\\n",
        "\r": "\\r",
        "\x0b": "\\v",
        "\x0c": "\\f",
        "\x85": "\\x85",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def _one_line(text: str) -> str:
    return text.translate(_LINE_BREAKS)


@dataclasses.dataclass(frozen=True, order=True)
class ConfigProblem:
    """One problem in one file, at a 1-based line and column (0 when unknown)."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        # A directory name may hold a newline, and messages quote names: one problem is
        # one line, so none of it can start a workflow command (``::error::``).
        path = quote_path(self.path)
        message = _one_line(self.message)
        if self.line:
            return f"{path}:{self.line}:{self.column}: {message}"
        return f"{path}: {message}"


class ConfigError(WfpError):
    """The platform repository has one or more problems; all are listed."""

    def __init__(self, problems: list[ConfigProblem] | tuple[ConfigProblem, ...]) -> None:
        self.problems = tuple(sorted(problems))
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the platform repository"
        super().__init__(head + ":\n" + "\n".join(str(p) for p in self.problems))


class GitError(WfpError):
    """A git repository or revision could not be read."""


class OwnershipError(WfpError):
    """A change touches paths its author does not own."""


class ApiError(WfpError):
    """Cloudflare answered with an error envelope or an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        codes: tuple[int, ...] = (),
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.codes = codes
        self.method = method
        self.path = path
        super().__init__(message)


class ApiConnectionError(ApiError):
    """No usable answer: a timeout, a refused or a dropped connection."""


class ApiClientError(ApiError):
    """A 4xx answer: the request is wrong and retrying will not help."""


class AuthError(ApiClientError):
    """The API token is missing, wrong or lacks permission (401/403, code 10000)."""


class NotFoundError(ApiClientError):
    """The script, namespace or database does not exist (404, code 10007)."""


class RateLimitError(ApiClientError):
    """Still rate limited (429) after every retry."""


class ValidationError(ApiClientError):
    """Cloudflare rejected the request's content (400 and other 4xx)."""


class ApiServerError(ApiError):
    """A 5xx answer that persisted after every retry."""


class PlanError(WfpError):
    """A plan cannot be built, saved, loaded or applied."""


class StalePlanError(PlanError):
    """A saved plan no longer matches the namespace or the git commit."""


class UnsafePlanError(PlanError):
    """A safety guard refused the plan (empty desired set, too many deletes)."""


class ApplyFailedError(PlanError):
    """Some operations of an apply failed; the others were done."""


class RuntimeSetupError(WfpError):
    """The local Workers runtime (Node.js, npm, workerd) could not be prepared."""
