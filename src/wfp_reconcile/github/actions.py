"""The Actions runner's side: its environment, the job summary, outputs, annotations.

Everything written to the runner's files passes ``redact`` first: the last line of
defence that keeps a known secret value out of the summary and the outputs.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from wfp_reconcile.errors import WfpError, redact, register_secret

from .markdown import fit_markdown

__all__ = [
    "MAX_SUMMARY_BYTES",
    "ActionsEnv",
    "AnnotationLevel",
    "annotation",
    "append_summary",
    "format_outputs",
    "set_outputs",
]

# A step summary is capped at 1 MiB; larger ones are dropped with an error.
MAX_SUMMARY_BYTES = 1024 * 1024

AnnotationLevel = Literal["error", "warning", "notice"]
_OUTPUT_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclasses.dataclass(frozen=True)
class ActionsEnv:
    """What a GitHub Actions step learns from its environment."""

    step_summary: Path | None = None
    output: Path | None = None
    event_path: Path | None = None
    event_name: str | None = None
    repository: str | None = None
    api_url: str = "https://api.github.com"
    server_url: str = "https://github.com"
    run_id: str | None = None
    token: str | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ActionsEnv:
        def path(name: str) -> Path | None:
            value = environ.get(name)
            return Path(value) if value else None

        token = environ.get("GITHUB_TOKEN") or None
        register_secret(token)
        return cls(
            step_summary=path("GITHUB_STEP_SUMMARY"),
            output=path("GITHUB_OUTPUT"),
            event_path=path("GITHUB_EVENT_PATH"),
            event_name=environ.get("GITHUB_EVENT_NAME") or None,
            repository=environ.get("GITHUB_REPOSITORY") or None,
            api_url=(environ.get("GITHUB_API_URL") or cls.api_url).rstrip("/"),
            server_url=(environ.get("GITHUB_SERVER_URL") or cls.server_url).rstrip("/"),
            run_id=environ.get("GITHUB_RUN_ID") or None,
            token=token,
        )

    @property
    def run_url(self) -> str | None:
        if self.repository and self.run_id:
            return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"
        return None


def append_summary(env: ActionsEnv, markdown: str) -> bool:
    """Append ``markdown`` (redacted of known secrets) to the job summary; False when not
    running in Actions."""
    if env.step_summary is None:
        return False
    note = "*Truncated to fit the 1 MiB job summary limit; see the plan artifact.*"
    existing = env.step_summary.stat().st_size if env.step_summary.exists() else 0
    room = max(MAX_SUMMARY_BYTES - existing, 1024)
    text = fit_markdown(redact(markdown).rstrip("\n") + "\n", room, note)
    with env.step_summary.open("a", encoding="utf-8") as summary:
        summary.write(text + "\n")
    return True


def format_outputs(outputs: Mapping[str, str]) -> str:
    """``GITHUB_OUTPUT`` records, each in heredoc form with a delimiter not in its value
    (values redacted of known secrets)."""
    records: list[str] = []
    for name, raw in outputs.items():
        value = redact(raw)
        if not _OUTPUT_NAME_RE.match(name):
            raise WfpError(
                f"step output name {name!r} is not valid: use letters, digits, '_' and '-'."
            )
        delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
        while delimiter in value:  # pragma: no cover - a random 128-bit clash
            delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
        records.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(records)


def set_outputs(env: ActionsEnv, outputs: Mapping[str, str]) -> bool:
    """Append step outputs to ``GITHUB_OUTPUT``; False when not running in Actions."""
    if env.output is None:
        return False
    with env.output.open("a", encoding="utf-8") as out:
        out.write(format_outputs(outputs))
    return True


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(
    level: AnnotationLevel,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    title: str | None = None,
) -> str:
    """A workflow command line that shows ``message`` on the run and the changed file."""
    props: list[str] = []
    if file is not None:
        props.append(f"file={_escape_property(file)}")
    if line is not None:
        props.append(f"line={int(line)}")
    if title is not None:
        props.append(f"title={_escape_property(title)}")
    joined = " " + ",".join(props) if props else ""
    return f"::{level}{joined}::{_escape_data(message)}"
