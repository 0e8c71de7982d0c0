"""Workers observability settings as people read them (status, the status page)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wfp_reconcile.config.model import Customer, Observability, Platform

__all__ = ["customer_observability", "describe_observability"]


def customer_observability(platform: Platform, customer: Customer) -> Observability:
    """A customer's own setting, else the platform's, else off (scripts may override)."""
    return customer.observability or platform.observability or Observability(enabled=False)


def describe_observability(value: Observability | Mapping[str, Any] | None) -> str:
    """``off``, ``on``, ``on, 10% sampled, logs 50% sampled, no invocation logs``, ..."""
    data = value.model_dump(exclude_none=True) if isinstance(value, Observability) else value
    if not data or not data.get("enabled"):
        return "off"
    parts = ["on"]
    rate = data.get("head_sampling_rate")
    if rate is not None and rate != 1:
        parts.append(f"{rate:.0%} sampled")
    logs = data.get("logs")
    if isinstance(logs, Mapping):
        if logs.get("enabled") is False:
            parts.append("logs off")
        else:
            logs_rate = logs.get("head_sampling_rate")
            if logs_rate is not None and logs_rate != 1:
                parts.append(f"logs {logs_rate:.0%} sampled")
            if logs.get("invocation_logs") is False:
                parts.append("no invocation logs")
    return ", ".join(parts)
