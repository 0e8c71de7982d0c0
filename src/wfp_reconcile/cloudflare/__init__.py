"""The Cloudflare API client: the only way wfp-reconcile talks to Cloudflare.

``CloudflareClient(ClientSettings.from_env())`` reaches the real API, or the local
emulator when ``CLOUDFLARE_API_BASE_URL`` points at it. See ``docs/client.md``.
"""

from __future__ import annotations

from .client import CloudflareClient
from .envelope import Envelope, error_for, unwrap
from .models import ClientStats, ScriptInfo
from .ratelimit import RateBudget
from .settings import DEFAULT_BASE_URL, ClientSettings

__all__ = [
    "DEFAULT_BASE_URL",
    "ClientSettings",
    "ClientStats",
    "CloudflareClient",
    "Envelope",
    "RateBudget",
    "ScriptInfo",
    "error_for",
    "unwrap",
]
