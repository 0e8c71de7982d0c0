"""Configuration: platform.yaml + customers/* -> a validated, frozen ``PlatformRepo``."""

from __future__ import annotations
