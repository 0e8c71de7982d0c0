"""The identity that decrypts secrets: from the environment, in memory only.

``WFP_AGE_IDENTITY`` holds the identity itself (a CI secret); ``WFP_AGE_IDENTITY_FILE``
names a file holding it (age's identity file format: ``#`` comments and one
``AGE-SECRET-KEY-1...`` per line). Nothing is ever written to disk or printed.

The demo identity below is public (it is in this file and in docs/secrets.md): it
decrypts the example platform's secrets in ``dev`` and is refused by ``apply`` against
anything but the local emulator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from pyrage import x25519

from wfp_reconcile.errors import SecretError

from .age import parse_identities, recipient_of

__all__ = [
    "DEMO_IDENTITY",
    "DEMO_RECIPIENT",
    "ENV_IDENTITY",
    "ENV_IDENTITY_FILE",
    "demo_identities",
    "identities_from_env",
    "is_demo",
]

ENV_IDENTITY = "WFP_AGE_IDENTITY"
ENV_IDENTITY_FILE = "WFP_AGE_IDENTITY_FILE"

# PUBLIC, DEMO ONLY: anyone can decrypt what is encrypted to DEMO_RECIPIENT.
DEMO_IDENTITY = "AGE-SECRET-KEY-1HG5FN0ZAVPEKTECYHN5XXHSCWN8ANXQ4X7M2WRZZ9PF3XUSSY7VSL8UX4M"
DEMO_RECIPIENT = "age1qhw7qqdhv3zt3u4hvswxh62e0ea33686g74522aj52unrprmtdas4ngsvs"


def identities_from_env(env: Mapping[str, str]) -> list[x25519.Identity] | None:
    """The identities named by the environment, or None when it names none.

    Raises:
        SecretError: a variable is set but holds no valid identity, or the file
            cannot be read.
    """
    inline = env.get(ENV_IDENTITY, "").strip()
    if inline:
        return parse_identities(inline, origin=ENV_IDENTITY)
    path = env.get(ENV_IDENTITY_FILE, "").strip()
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise SecretError(f"{ENV_IDENTITY_FILE} ({path}) cannot be read: {reason}")
    return parse_identities(text, origin=f"{ENV_IDENTITY_FILE} ({path})")


def demo_identities() -> list[x25519.Identity]:
    return parse_identities(DEMO_IDENTITY, origin="the demo identity")


def is_demo(identities: Sequence[x25519.Identity]) -> bool:
    """Whether any of ``identities`` is the public demo identity."""
    return any(recipient_of(i) == DEMO_RECIPIENT for i in identities)
