"""Which secrets a script gets: its customer's, overridden name by name by its own.

A script whose customer and script both leave ``secrets`` out has *no declared
secrets*: its secrets are set out of band and uploads keep them (``keep_bindings``).
Once either has a ``secrets`` key (even ``{}``), git manages every secret of the
script: uploads carry exactly the declared ones, and a name removed from git is
removed from Cloudflare.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import TYPE_CHECKING

from .age import normalize_armor

if TYPE_CHECKING:
    from wfp_reconcile.config.model import Customer, Script

__all__ = ["DeclaredSecret", "customer_file", "script_secrets"]

_DIGEST_CHARS = 16


@dataclasses.dataclass(frozen=True)
class DeclaredSecret:
    """One encrypted secret of one script, and where it is declared."""

    name: str
    ciphertext: str
    """Normalized armor; never the plaintext (this object goes into plans)."""
    file: str
    """Repository path of the customer.yaml that declares it."""
    key: str
    """Dotted key in that file: ``secrets.NAME`` or ``scripts.<script>.secrets.NAME``."""

    @property
    def digest(self) -> str:
        """Short SHA-256 of the ciphertext: what plans and fingerprints compare."""
        return hashlib.sha256(self.ciphertext.encode("ascii", "replace")).hexdigest()[
            :_DIGEST_CHARS
        ]

    @property
    def where(self) -> str:
        return f"{self.file} ({self.key})"

    def __repr__(self) -> str:
        return f"DeclaredSecret({self.name!r}, sha256:{self.digest}, {self.where})"


def customer_file(customer_id: str) -> str:
    return f"customers/{customer_id}/customer.yaml"


def script_secrets(
    customer: Customer, script_name: str, script: Script
) -> tuple[DeclaredSecret, ...] | None:
    """The script's secrets sorted by name, or None when it declares none at all."""
    if customer.secrets is None and script.secrets is None:
        return None
    file = customer_file(customer.id)
    merged: dict[str, DeclaredSecret] = {}
    for name, value in (customer.secrets or {}).items():
        merged[name] = DeclaredSecret(name, normalize_armor(value), file, f"secrets.{name}")
    for name, value in (script.secrets or {}).items():
        key = f"scripts.{script_name}.secrets.{name}"
        merged[name] = DeclaredSecret(name, normalize_armor(value), file, key)
    return tuple(merged[name] for name in sorted(merged))
