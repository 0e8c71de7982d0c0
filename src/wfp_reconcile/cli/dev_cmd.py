"""Commands registered on the group (filled in by their issue)."""

from __future__ import annotations

from .group import cli

__all__ = ["cli"]
