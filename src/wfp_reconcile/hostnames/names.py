"""What a customer hostname may be: a lowercase DNS name, a wildcard only when allowed."""

from __future__ import annotations

import re

__all__ = ["covers", "hostname_problem", "is_wildcard", "under"]

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
MAX_HOSTNAME = 253


def is_wildcard(hostname: str) -> bool:
    return hostname.startswith("*.")


def hostname_problem(hostname: str, *, allow_wildcard: bool) -> str | None:
    """Why ``hostname`` is not a hostname a customer may declare, or None."""
    if hostname != hostname.lower():
        return f"hostname '{hostname}' must be lower case: write '{hostname.lower()}'"
    if hostname.endswith("."):
        return f"hostname '{hostname}' ends with a dot: write '{hostname.rstrip('.')}'"
    name = hostname
    if is_wildcard(hostname):
        if not allow_wildcard:
            return (
                f"hostname '{hostname}' is a wildcard; platform.yaml "
                "custom_hostnames.allow_wildcards must be true to declare one"
            )
        name = hostname[2:]
    if len(hostname) > MAX_HOSTNAME:
        return f"hostname '{hostname[:40]}...' is longer than {MAX_HOSTNAME} characters"
    labels = name.split(".")
    if len(labels) < 2:
        return f"hostname '{hostname}' needs at least two labels (like shop.example.com)"
    for label in labels:
        if not _LABEL.match(label):
            return (
                f"hostname '{hostname}' has an invalid label '{label}': use a-z, 0-9 and "
                "'-' (not first or last), 1 to 63 characters per label"
            )
    if labels[-1].isdigit():
        return f"hostname '{hostname}' looks like an IP address; use a DNS name"
    return None


def under(hostname: str, domain: str) -> bool:
    """Whether ``hostname`` is ``domain`` itself or a name below it."""
    return hostname == domain or hostname.endswith("." + domain)


def covers(wildcard: str, hostname: str) -> bool:
    """Whether ``*.example.com`` matches ``hostname`` (one label, as DNS wildcards do)."""
    if not is_wildcard(wildcard) or wildcard == hostname:
        return False
    suffix = wildcard[1:]
    head = hostname[: -len(suffix)] if hostname.endswith(suffix) else ""
    return bool(head) and "." not in head and head != "*"
