"""age encryption of secret values: a thin layer over pyrage, plus what the armor shows.

All cryptography is pyrage's (the Rust ``age`` crate). This module only converts
between text and pyrage's objects, and reads the *header* of an armored value, which
is plain text: ``age-encryption.org/v1``, one ``-> TYPE ARGS`` stanza per recipient
(plus random "grease" stanzas that rage adds), then ``--- MAC``.

What the header cannot say: *which* recipients a value is for. An X25519 stanza holds
an ephemeral public key and the wrapped file key, nothing derived from the recipient
(age hides recipients on purpose). So "well-formed for the declared recipients" means:
valid armor, a valid header, only X25519 stanzas besides grease, and exactly as many
X25519 stanzas as recipients declared. Only an identity can prove a value decrypts.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Sequence

import pyrage
from pyrage import x25519

from wfp_reconcile.errors import SecretError, register_secret

__all__ = [
    "ARMOR_BEGIN",
    "ARMOR_END",
    "IDENTITY_PREFIX",
    "RECIPIENT_PATTERN",
    "ArmorInfo",
    "ArmorProblem",
    "decrypt",
    "encrypt",
    "generate_identity",
    "inspect_armor",
    "normalize_armor",
    "parse_identities",
    "parse_recipient",
    "recipient_of",
]

ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_END = "-----END AGE ENCRYPTED FILE-----"
IDENTITY_PREFIX = "AGE-SECRET-KEY-1"
# Bech32: "age1" and 58 characters of the data alphabet (no 1, b, i, o).
RECIPIENT_PATTERN = r"^age1[02-9ac-hj-np-z]{58}$"
_RECIPIENT_RE = re.compile(RECIPIENT_PATTERN)
_IDENTITY_RE = re.compile(r"AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}")
_VERSION_LINE = b"age-encryption.org/v1"
_B64_COLUMNS = 64
# The payload is a 16-byte nonce and at least one chunk with its 16-byte tag.
_MIN_PAYLOAD = 32


class ArmorProblem(ValueError):
    """Why a value is not well-formed age armor (the message never quotes the value)."""


@dataclasses.dataclass(frozen=True)
class ArmorInfo:
    """What the header of an armored age value shows."""

    stanza_types: tuple[str, ...]
    """Every recipient stanza's type, grease stanzas included."""

    @property
    def x25519_count(self) -> int:
        return sum(1 for t in self.stanza_types if t == "X25519")

    @property
    def other_types(self) -> tuple[str, ...]:
        """Stanza types that are neither X25519 nor grease (passphrase, ssh, plugins)."""
        return tuple(t for t in self.stanza_types if t != "X25519" and not t.endswith("-grease"))


def normalize_armor(text: str) -> str:
    """The armor without surrounding whitespace, as fingerprinted and compared."""
    return text.strip()


def inspect_armor(text: str) -> ArmorInfo:
    """Check ``text`` is one armored age value and read its header.

    Raises:
        ArmorProblem: the text is not armor, or its content is not an age file.
    """
    lines = normalize_armor(text).replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != ARMOR_BEGIN:
        raise ArmorProblem(f"does not start with '{ARMOR_BEGIN}'")
    if len(lines) < 3 or lines[-1].strip() != ARMOR_END:
        raise ArmorProblem(f"does not end with '{ARMOR_END}'")
    body = [line.strip() for line in lines[1:-1]]
    if any(len(line) > _B64_COLUMNS for line in body) or any(
        len(line) != _B64_COLUMNS for line in body[:-1]
    ):
        raise ArmorProblem(
            f"armor lines must have {_B64_COLUMNS} characters (the last may be shorter); "
            "the value was edited or re-wrapped"
        )
    try:
        raw = base64.b64decode("".join(body), validate=True)
    except (binascii.Error, ValueError):
        raise ArmorProblem("the armor is not valid base64; the value was edited or truncated")
    return _read_header(raw)


def _b64_raw(text: bytes, size: int) -> bool:
    """Whether ``text`` is unpadded base64 of exactly ``size`` bytes (age's encoding)."""
    try:
        return len(base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)) == size
    except (binascii.Error, ValueError):
        return False


def _read_header(raw: bytes) -> ArmorInfo:
    end = raw.find(b"\n--- ")
    if not raw.startswith(_VERSION_LINE + b"\n") or end < 0:
        raise ArmorProblem("is not an age v1 file (its header is missing or damaged)")
    mac_end = raw.find(b"\n", end + 1)
    if mac_end < 0 or not _b64_raw(raw[end + 5 : mac_end], 32):
        raise ArmorProblem("has a damaged header (its MAC line)")
    if len(raw) - (mac_end + 1) < _MIN_PAYLOAD:
        raise ArmorProblem("is truncated: the encrypted payload is missing")
    stanzas: list[tuple[list[bytes], bytes]] = []
    for line in raw[len(_VERSION_LINE) + 1 : end].split(b"\n"):
        if line.startswith(b"-> "):
            stanzas.append((line[3:].split(b" "), b""))
        elif not stanzas:
            raise ArmorProblem("has a damaged header (text before the first stanza)")
        else:
            args, body = stanzas[-1]
            stanzas[-1] = (args, body + line)
    if not stanzas:
        raise ArmorProblem("has no recipient stanza")
    types: list[str] = []
    for args, body in stanzas:
        if not args[0]:
            raise ArmorProblem("has a recipient stanza without a type")
        if args[0] == b"X25519" and (
            len(args) != 2 or not _b64_raw(args[1], 32) or not _b64_raw(body, 32)
        ):
            raise ArmorProblem("has a damaged X25519 recipient stanza")
        types.append(args[0].decode("ascii", "replace"))
    return ArmorInfo(tuple(types))


def parse_recipient(text: str) -> x25519.Recipient:
    """An age X25519 recipient (``age1...``)."""
    value = text.strip()
    if not _RECIPIENT_RE.match(value):
        raise SecretError(
            f"'{value[:70]}' is not an age recipient (age1 followed by 58 characters)"
        )
    try:
        return x25519.Recipient.from_str(value)
    except pyrage.RecipientError:
        raise SecretError(f"'{value[:70]}' is not a valid age recipient (bad checksum)")


def parse_identities(text: str, *, origin: str) -> list[x25519.Identity]:
    """Every ``AGE-SECRET-KEY-1...`` in ``text`` (an identity file may hold several,
    with ``#`` comments). ``origin`` names where the text came from, for errors.

    The text is never quoted in an error: it is the platform's private key.
    """
    found = _IDENTITY_RE.findall(text.upper())  # Bech32 is case-insensitive
    if not found:
        raise SecretError(
            f"{origin} holds no age identity (a line starting with {IDENTITY_PREFIX}); "
            "make one with `wfp-reconcile secret keygen`"
        )
    identities = []
    for value in found:
        register_secret(value)
        try:
            identities.append(x25519.Identity.from_str(value))
        except pyrage.IdentityError:
            raise SecretError(f"{origin} holds an age identity that is not valid (bad checksum)")
    return identities


def recipient_of(identity: x25519.Identity) -> str:
    return str(identity.to_public())


def generate_identity() -> tuple[str, str]:
    """A new ``(identity, recipient)`` pair as text.

    The identity is not registered for redaction: ``secret keygen`` prints it, once, on
    purpose (output is redacted of registered secrets). Loading it later registers it.
    """
    identity = x25519.Identity.generate()
    return str(identity), recipient_of(identity)


def encrypt(plaintext: str, recipients: Sequence[str]) -> str:
    """``plaintext`` encrypted to every recipient, as armor ending in a newline."""
    if not recipients:
        raise SecretError(
            "platform.yaml declares no secrets.recipients; add the platform's age recipient "
            "(`wfp-reconcile secret keygen` makes one)"
        )
    parsed = [parse_recipient(r) for r in recipients]
    try:
        armored = pyrage.encrypt(plaintext.encode("utf-8"), parsed, armored=True)
    except pyrage.EncryptError as exc:
        raise SecretError(f"age could not encrypt: {exc}")
    return armored.decode("ascii").strip() + "\n"


def decrypt(armor: str, identities: Sequence[x25519.Identity]) -> str:
    """The plaintext of one armored value; registered so no message can show it.

    Raises:
        SecretError: no identity opens it, or the value is damaged; the message never
            holds any part of the value.
    """
    try:
        plaintext = pyrage.decrypt(normalize_armor(armor).encode("ascii", "replace"), identities)
    except pyrage.DecryptError as exc:
        reason = str(exc)
        if "No matching keys" in reason:
            raise SecretError(
                "cannot be decrypted with the given identity: it was encrypted to other "
                "recipients (re-encrypt it with `wfp-reconcile secret set`, or run "
                "`secret rotate-recipients` with an identity that opens it)"
            )
        raise SecretError("cannot be decrypted: the value is damaged; set it again")
    try:
        text = plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError("decrypts to bytes that are not UTF-8 text; set it again as text")
    register_secret(text)
    return text
