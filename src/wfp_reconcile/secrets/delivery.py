"""How declared secrets travel: what the upload metadata says about them (no values,
so plans and fingerprints can carry it), and the decrypted bindings added at apply.

Cloudflare's ``keep_bindings`` is "binding types to keep from the previous upload"
(upload metadata, Cloudflare API schema and SDKs): bindings of those types are carried
over unless the new upload names a binding of the same name (wrangler relies on this:
with ``--secrets-file``, secrets not in the file are inherited). So:

* a script without declared secrets keeps ``keep_bindings: [secret_key, secret_text]``
  (secrets set out of band survive every upload, as before);
* a script with declared secrets sends them as ``secret_text`` bindings and keeps only
  ``secret_key``: the upload is then the whole truth about its ``secret_text`` bindings,
  so a secret removed from git is removed from Cloudflare, atomically with the code.

The marker binding ``__wfp_secrets`` (plain text, JSON ``{name: ciphertext digest}``)
records which secrets git manages and which ciphertext each was; it makes the
fingerprint cover the ciphertexts and lets a plan without the identity say which
secret was added, changed or removed. A digest of a random ciphertext says nothing
about the value.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pyrage import x25519

from wfp_reconcile.bundle import ScriptUpload
from wfp_reconcile.errors import SecretError

from .age import decrypt
from .declared import DeclaredSecret
from .identity import (
    DEMO_RECIPIENT,
    ENV_IDENTITY,
    ENV_IDENTITY_FILE,
    demo_identities,
    identities_from_env,
    is_demo,
)

__all__ = [
    "MARKER_BINDING",
    "SecretKeys",
    "with_secrets",
    "keep_bindings",
    "marker_bindings",
    "parse_marker",
]

MARKER_BINDING = "__wfp_secrets"
_KEEP_ALL = ("secret_key", "secret_text")
_KEEP_MANAGED = ("secret_key",)
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def keep_bindings(declared: Sequence[DeclaredSecret] | None) -> list[str]:
    """The binding types an upload keeps from the previous one."""
    return list(_KEEP_ALL if declared is None else _KEEP_MANAGED)


def marker_bindings(declared: Sequence[DeclaredSecret] | None) -> list[dict[str, Any]]:
    """The marker binding of a script that declares secrets (none otherwise)."""
    if declared is None:
        return []
    digests = {s.name: s.digest for s in declared}
    text = json.dumps(digests, sort_keys=True, separators=(",", ":"))
    return [{"type": "plain_text", "name": MARKER_BINDING, "text": text}]


def parse_marker(bindings: Any) -> dict[str, str] | None:
    """``{name: digest}`` from a deployed script's bindings, or None when it has no marker."""
    for binding in bindings if isinstance(bindings, list) else []:
        if isinstance(binding, Mapping) and binding.get("name") == MARKER_BINDING:
            try:
                value = json.loads(str(binding.get("text")))
            except ValueError:
                return {}
            return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
    return None


def _is_local(api_base: str | None) -> bool:
    return api_base is not None and (urlsplit(api_base).hostname or "") in _LOOPBACK


class SecretKeys:
    """The identities apply decrypts with, read from the environment on first need.

    The public demo identity (and values encrypted to the demo recipient) are refused
    unless the API is the local emulator: anyone can read those values. With
    ``demo_fallback``, the demo identity is used when the environment names none, and
    only against the local emulator.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        api_base: str | None = None,
        recipients: Sequence[str] = (),
        demo_fallback: bool = False,
    ) -> None:
        self._env = os.environ if env is None else env
        self._local = _is_local(api_base)
        self._recipients = tuple(recipients)
        self._demo_fallback = demo_fallback
        self._identities: list[x25519.Identity] | None = None

    def _load(self) -> list[x25519.Identity]:
        if self._identities is None:
            found = identities_from_env(self._env)
            if found is None and self._demo_fallback and self._local:
                found = demo_identities()
            if found is None:
                raise SecretError(
                    f"no identity to decrypt it: set {ENV_IDENTITY} (or {ENV_IDENTITY_FILE}) "
                    "to the platform's age identity"
                )
            if is_demo(found) and not self._local:
                raise SecretError(
                    "the identity is the public demo identity, which only the local emulator "
                    "accepts: set WFP_AGE_IDENTITY to the platform's own (docs/secrets.md)"
                )
            self._identities = found
        return self._identities

    def reveal(self, declared: Sequence[DeclaredSecret]) -> list[dict[str, Any]]:
        """The ``secret_text`` bindings of ``declared``, decrypted in memory.

        Raises:
            SecretError: naming the file and secret that could not be decrypted.
        """
        if declared and DEMO_RECIPIENT in self._recipients and not self._local:
            raise SecretError(
                "platform.yaml secrets.recipients lists the public demo recipient: anyone "
                "can decrypt these values, so they are only sent to the local emulator. "
                "Replace it (docs/secrets.md, rotation)"
            )
        out: list[dict[str, Any]] = []
        for secret in declared:
            try:
                text = decrypt(secret.ciphertext, self._load())
            except SecretError as exc:
                raise SecretError(
                    f"{secret.file}: secret {secret.name} ({secret.key}) {exc.message}"
                )
            out.append({"type": "secret_text", "name": secret.name, "text": text})
        return out


def with_secrets(upload: ScriptUpload, revealed: Sequence[Mapping[str, Any]]) -> ScriptUpload:
    """``upload`` with the decrypted ``secret_text`` bindings: sent once, never kept."""
    bindings = [*upload.metadata.get("bindings", []), *revealed]
    return ScriptUpload(metadata={**upload.metadata, "bindings": bindings}, modules=upload.modules)
