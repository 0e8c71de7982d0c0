"""Configuration: platform.yaml + customers/* -> a validated, frozen ``PlatformRepo``."""

from __future__ import annotations

from .loader import load_repo, load_repo_dir
from .model import PlatformRepo
from .source import RepoSource, WorkTreeSource

__all__ = ["PlatformRepo", "RepoSource", "WorkTreeSource", "load_repo", "load_repo_dir"]
