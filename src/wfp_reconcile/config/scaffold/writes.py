"""Planned file writes, and writing them: nothing touches the disk before ``write_files``."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

from wfp_reconcile.errors import ConfigError, ConfigProblem

__all__ = ["FileWrite", "fail", "write_files"]


@dataclasses.dataclass(frozen=True)
class FileWrite:
    """One file to create or replace."""

    path: Path
    content: str
    create_only: bool = True


def fail(path: str, message: str, line: int = 0, column: int = 0) -> ConfigError:
    return ConfigError([ConfigProblem(path, line, column, message)])


def write_files(writes: tuple[FileWrite, ...]) -> None:
    """Write every file (each atomically), creating directories as needed.

    Raises:
        ConfigError: a file to create appeared meanwhile (nothing is written then).
    """
    for write in writes:
        if write.create_only and (write.path.exists() or write.path.is_symlink()):
            raise fail(str(write.path), "already exists; not overwriting")
    for write in writes:
        try:
            _write_one(write)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise fail(str(write.path), f"cannot be written: {reason}; check the path")


def _write_one(write: FileWrite) -> None:
    write.path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=write.path.parent, prefix=f".{write.path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(write.content)
        mode = 0o644
        if write.path.exists() and not write.create_only:
            mode = write.path.stat().st_mode & 0o7777
        Path(temp).chmod(mode)
        Path(temp).replace(write.path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
