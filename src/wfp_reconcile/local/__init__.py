"""Everything that runs the platform on one machine: the API emulator and the runtime."""

from __future__ import annotations
