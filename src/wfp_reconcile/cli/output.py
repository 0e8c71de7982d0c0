"""Where output leaves the program: stdout and stderr, redacted of known secrets.

Every command writes through ``click.echo`` (or rich, for ``status``) to
``sys.stdout`` and ``sys.stderr``. ``redacted_output`` swaps both for writers that
pass each line through ``errors.redact`` while a command runs: the last line of
defence that keeps the API token and other credentials (every value of a credential
variable in the environment, see ``config.envvars.is_credential_name``) out of text,
JSON, Markdown and GitHub output, whatever route a value took to get there.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

from wfp_reconcile.config.envvars import credential_values
from wfp_reconcile.errors import redact, register_secret

__all__ = ["RedactingWriter", "redacted_output", "register_environment_secrets"]


class RedactingWriter(io.TextIOBase):
    """A text stream that redacts whole lines before passing them on.

    Text is held back until a newline (or ``flush``), so a secret written in two
    pieces is still found.
    """

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self._target = target
        self._pending = ""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._target, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return getattr(self._target, "errors", None) or "strict"

    def isatty(self) -> bool:
        return self._target.isatty()

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._target.fileno()

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click probes with b"" for a binary stream
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._pending += text
        cut = self._pending.rfind("\n") + 1
        if cut:
            done, self._pending = self._pending[:cut], self._pending[cut:]
            self._target.write(redact(done))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._target.write(redact(self._pending))
            self._pending = ""
        self._target.flush()


def register_environment_secrets(environ: Mapping[str, str] | None = None) -> None:
    """Remember every credential value in the environment, for ``redact``."""
    for value in credential_values(os.environ if environ is None else environ):
        register_secret(value)


@contextmanager
def redacted_output() -> Iterator[None]:
    """Redact known secrets from everything written to stdout and stderr meanwhile."""
    register_environment_secrets()
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingWriter(out), RedactingWriter(err)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        sys.stdout, sys.stderr = out, err
