"""What a plan says about secrets, from names and ciphertext digests only (pure).

The deployed side comes from the script's settings: the names of its ``secret_text``
bindings (Cloudflare lists them without values) and the marker binding of digests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .declared import DeclaredSecret
from .delivery import parse_marker

__all__ = ["SecretLine", "created_lines", "secret_lines"]

SecretLine = tuple[str, str]
"""``(field, summary)``: ``("secret STRIPE_KEY", "added")``."""

_CHANGED = "changed (new ciphertext: a new value, or the same value re-encrypted)"


def _deployed_names(bindings: Any) -> set[str]:
    return {
        str(b.get("name"))
        for b in (bindings if isinstance(bindings, list) else [])
        if isinstance(b, Mapping) and b.get("type") == "secret_text"
    }


def created_lines(declared: Sequence[DeclaredSecret] | None) -> list[SecretLine]:
    return [(f"secret {s.name}", "added") for s in declared or ()]


def secret_lines(
    declared: Sequence[DeclaredSecret] | None, settings: Mapping[str, Any]
) -> list[SecretLine]:
    """One line per secret an upload adds, changes or removes."""
    bindings = settings.get("bindings")
    marker = parse_marker(bindings)
    names = _deployed_names(bindings)
    if declared is None:
        if marker is None:
            return []  # out-of-band secrets, kept as before
        return [
            (
                "secrets",
                "no longer declared in git: the deployed ones are kept as out-of-band "
                "secrets (declare `secrets: {}` to remove them)",
            )
        ]
    wanted = {s.name: s for s in declared}
    lines: list[SecretLine] = []
    for name in sorted(set(wanted) | names):
        secret = wanted.get(name)
        if secret is None:
            how = "" if marker is not None and name in marker else " (it was set out of band)"
            lines.append((f"secret {name}", f"removed{how}"))
        elif name not in names:
            lines.append((f"secret {name}", "added"))
        elif marker is None or name not in marker:
            lines.append((f"secret {name}", "replaced (it was set out of band)"))
        elif marker[name] != secret.digest:
            lines.append((f"secret {name}", _CHANGED))
    return lines
