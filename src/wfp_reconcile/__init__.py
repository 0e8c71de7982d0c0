"""wfp-reconcile: declarative Cloudflare Workers for Platforms.

The pipeline reads one way: config -> desired -> actual -> diff -> plan -> apply.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
