"""Cloudflare's rate-limit headers, read into one number the client can pace by.

Since 2025 every API answer carries (IETF draft ``RateLimit`` header fields)::

    Ratelimit: "default";r=<remaining>;t=<seconds until the quota resets>
    Ratelimit-Policy: "default";q=<quota>;w=<window seconds>

Both are structured-field lists; several named limits may appear, and the one with the
least remaining is the one that binds.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

__all__ = ["RateBudget", "parse_ratelimit"]

_PARAM = re.compile(r";\s*([a-z][a-z0-9_.*-]*)\s*=\s*([0-9]+(?:\.[0-9]+)?)")
_NAME = re.compile(r'^\s*(?:"((?:[^"\\]|\\.)*)"|([A-Za-z*][A-Za-z0-9_.:%*/-]*))')


@dataclasses.dataclass(frozen=True)
class RateBudget:
    """What the server said of the budget: requests left, seconds until the quota resets,
    and (when a policy came with it) the quota per window."""

    remaining: int
    reset_seconds: float
    quota: int | None = None
    window_seconds: float | None = None


def _items(raw: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for item in raw.split(","):
        name_match = _NAME.match(item)
        if name_match is None:
            continue
        name = name_match.group(1) if name_match.group(1) is not None else name_match.group(2)
        params = {k: float(v) for k, v in _PARAM.findall(item[name_match.end() :])}
        if params:
            out[name] = params
    return out


def parse_ratelimit(headers: Mapping[str, str]) -> RateBudget | None:
    """The binding budget of an answer, or ``None`` when it carries no usable header."""
    headers = {k.lower(): v for k, v in headers.items()}
    raw = headers.get("ratelimit")
    if not raw:
        return None
    limits = {n: p for n, p in _items(raw).items() if "r" in p}
    if not limits:
        return None
    policies = _items(headers.get("ratelimit-policy", ""))
    name, params = min(limits.items(), key=lambda item: item[1]["r"])
    policy = policies.get(name, {})
    quota = policy.get("q")
    window = policy.get("w")
    return RateBudget(
        remaining=max(0, int(params["r"])),
        reset_seconds=max(0.0, params.get("t", 0.0)),
        quota=int(quota) if quota is not None else None,
        window_seconds=window,
    )
