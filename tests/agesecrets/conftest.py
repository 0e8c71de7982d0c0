"""Fixtures: a small repository with recipients, and a non-demo identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from wfp_reconcile.secrets.age import generate_identity

from .helpers import write_secret_repo


@pytest.fixture
def secret_repo(tmp_path: Path) -> Path:
    return write_secret_repo(tmp_path / "repo")


@pytest.fixture
def other_identity() -> tuple[str, str]:
    """An identity (and its recipient) that is not the demo one."""
    return generate_identity()
