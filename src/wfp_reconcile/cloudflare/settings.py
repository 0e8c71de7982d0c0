"""How the client reaches Cloudflare: account, token, base URL, pacing and retry budget."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from wfp_reconcile.errors import AuthError, ValidationError, register_secret

__all__ = ["DEFAULT_BASE_URL", "ClientSettings"]

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"


@dataclasses.dataclass(frozen=True)
class ClientSettings:
    """Connection, pacing and retry settings of a ``CloudflareClient``.

    The defaults stay under Cloudflare's documented limit of 1,200 requests per five
    minutes per token, leaving headroom for the dashboard and other tools.
    """

    account_id: str
    api_token: str = dataclasses.field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    requests_per_window: int = 1000
    window_seconds: float = 300.0
    max_concurrency: int = 8
    max_attempts: int = 6
    max_retry_seconds: float = 120.0
    timeout_seconds: float = 30.0
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    rate_limit_is_ceiling: bool = False
    """The user set ``requests_per_window`` (``WFP_RATE_LIMIT``): never exceed it, even when
    the server's headers report more budget. Otherwise it only paces answers without
    rate-limit headers."""

    def __post_init__(self) -> None:
        register_secret(self.api_token)
        if self.requests_per_window < 1 or self.window_seconds <= 0:
            raise ValidationError(
                "The rate limit must allow at least one request per window; "
                f"got {self.requests_per_window} per {self.window_seconds} s."
            )
        if self.max_concurrency < 1 or self.max_attempts < 1:
            raise ValidationError("max_concurrency and max_attempts must be at least 1.")

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, account_id: str | None = None
    ) -> ClientSettings:
        """Read the variables wrangler uses, plus wfp-reconcile's pacing knobs.

        Args:
            env: the environment to read; ``os.environ`` when omitted.
            account_id: overrides ``CLOUDFLARE_ACCOUNT_ID`` (e.g. from platform.yaml).

        Raises:
            AuthError: ``CLOUDFLARE_API_TOKEN`` is not set.
            ValidationError: the account id is missing or a pacing variable is not a number.
        """
        env = os.environ if env is None else env
        token = env.get("CLOUDFLARE_API_TOKEN", "").strip()
        if not token:
            raise AuthError(
                "No Cloudflare API token: set the CLOUDFLARE_API_TOKEN environment variable "
                "to a token with 'Workers Scripts: Edit' permission."
            )
        account = account_id or env.get("CLOUDFLARE_ACCOUNT_ID", "").strip()
        if not account:
            raise ValidationError(
                "No Cloudflare account id: set CLOUDFLARE_ACCOUNT_ID or the account in "
                "platform.yaml."
            )
        base_url = env.get("CLOUDFLARE_API_BASE_URL", "").strip() or DEFAULT_BASE_URL
        kwargs: dict[str, Any] = {}
        for var, field, kind in (
            ("WFP_RATE_LIMIT", "requests_per_window", int),
            ("WFP_RATE_WINDOW", "window_seconds", float),
            ("WFP_CONCURRENCY", "max_concurrency", int),
            ("WFP_MAX_ATTEMPTS", "max_attempts", int),
        ):
            raw = env.get(var, "").strip()
            if raw:
                try:
                    value = kind(raw)
                except ValueError:
                    what = "a whole number" if kind is int else "a number"
                    raise ValidationError(f"{var} must be {what}, got {raw!r}.")
                if value <= 0:
                    raise ValidationError(f"{var} must be greater than 0, got {raw!r}.")
                kwargs[field] = value
        if "requests_per_window" in kwargs:
            kwargs["rate_limit_is_ceiling"] = True
        return cls(account_id=account, api_token=token, base_url=base_url.rstrip("/"), **kwargs)
