"""Model types of ``secrets:``: recipients (platform.yaml) and encrypted values
(customer.yaml). A value is checked on its own here; against the declared
recipients in ``rules``.

A value that is not armor is never quoted back: it may be the plaintext secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from .age import ARMOR_BEGIN, IDENTITY_PREFIX, RECIPIENT_PATTERN, ArmorProblem, inspect_armor

__all__ = [
    "SECRET_NAME_PATTERN",
    "AgeRecipient",
    "EncryptedValue",
    "SecretMap",
    "plaintext_hint",
]

SECRET_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
_SET_HINT = (
    "encrypt it with `wfp-reconcile secret set CUSTOMER [--script NAME] SECRET` (reads the "
    "value from stdin); the value is in this file's git history now, so change it at its "
    "issuer too"
)


def plaintext_hint(value: object) -> str:
    """Why ``value`` is not an encrypted secret, without repeating it."""
    if isinstance(value, str) and value.strip().upper().startswith(IDENTITY_PREFIX):
        return (
            "is an age identity (a private key), not an encrypted value: remove it from the "
            "file at once, and replace that identity everywhere it is used "
            "(docs/secrets.md, rotation)"
        )
    if isinstance(value, str) and value.strip().startswith("age1"):
        return (
            "is an age recipient (a public key), not an encrypted value; encrypt the secret "
            f"to it instead: {_SET_HINT.split(';')[0]}"
        )
    what = "text" if isinstance(value, str) else f"a {type(value).__name__} value"
    return (
        f"must be an age-encrypted value ('{ARMOR_BEGIN}' ...), not {what}: plaintext "
        f"never belongs in git; {_SET_HINT}"
    )


def _check_value(value: Any) -> Any:
    if not isinstance(value, str) or ARMOR_BEGIN not in value:
        raise PydanticCustomError("wfp_secret_plaintext", plaintext_hint(value))
    try:
        inspect_armor(value)
    except ArmorProblem as exc:
        raise PydanticCustomError("wfp_secret_armor", f"is not a well-formed age value: it {exc}")
    return value


EncryptedValue = Annotated[
    str,
    BeforeValidator(_check_value),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": rf"^\s*{ARMOR_BEGIN}",
            "description": "An age-encrypted value (armored): `wfp-reconcile secret set`.",
        }
    ),
]
SecretName = Annotated[str, StringConstraints(pattern=SECRET_NAME_PATTERN, max_length=64)]
SecretMap = Mapping[SecretName, EncryptedValue]
"""Secret name (read as ``env.<NAME>``) -> encrypted value."""
AgeRecipient = Annotated[str, StringConstraints(pattern=RECIPIENT_PATTERN)]
