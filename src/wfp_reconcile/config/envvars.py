"""``${VAR}`` and ``${VAR:-default}`` in the few fields that differ per environment."""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from .model import FromEnv, Platform

__all__ = [
    "CUSTOMER_ENV_PREFIX",
    "ENV_FIELDS",
    "env_fields",
    "PLACEHOLDER_D1_ID",
    "EnvError",
    "PlaceholderEnv",
    "credential_values",
    "expand",
    "expand_customer",
    "is_credential_name",
]


def env_fields(model: type[BaseModel], path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The paths of the fields marked ``FROM_ENV`` in ``model`` and the models inside it."""
    for name, field in model.model_fields.items():
        here = (*path, field.alias or name)
        if any(isinstance(m, FromEnv) for m in field.metadata):
            yield here
            continue
        for inner in (field.annotation, *typing.get_args(field.annotation)):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                yield from env_fields(inner, here)


ENV_FIELDS: tuple[tuple[str, ...], ...] = tuple(env_fields(Platform))
"""Where ``platform.yaml`` may reference environment variables (the ``FROM_ENV`` fields:
``account_id``, ``namespace``, ``d1.database_id``, ``custom_hostnames.zone_id``); nowhere
else."""

CUSTOMER_ENV_PREFIX = "D1_"
"""The only variables a ``customer.yaml`` may reference (in ``scripts.<name>.d1`` values).

Customer owners are less trusted than platform admins and plans run in CI next to the
Cloudflare token: a customer file must not be able to copy any variable into an upload."""

_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_UNCLOSED = re.compile(r"\$\{[^}]*$")
_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.DOTALL)


class EnvError(ValueError):
    """An unset variable or a malformed reference; the message says which."""


# Words that mark a variable as a credential, whatever else its name says:
# CLOUDFLARE_API_TOKEN, CLOUDFLARE_API_KEY, GITHUB_TOKEN, ACTIONS_RUNTIME_TOKEN,
# ACTIONS_ID_TOKEN_REQUEST_TOKEN, WFP_AGE_IDENTITY, WFP_AGE_IDENTITY_FILE, ...
_CREDENTIAL_WORDS = frozenset(
    {
        "TOKEN",
        "TOKENS",
        "KEY",
        "KEYS",
        "APIKEY",
        "SECRET",
        "SECRETS",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "CREDENTIALS",
        "IDENTITY",
        "IDENTITIES",
        "PRIVATE",
    }
)
_CREDENTIAL_PREFIXES = ("ACTIONS_", "WFP_AGE_", "CF_ACCESS_")
"""The runner's own credentials and the tool's age identities, whatever they are called."""


def is_credential_name(name: str) -> bool:
    """Whether an environment variable holds a credential the tool (or CI) reads.

    ``${VAR}`` may never name one: its value would be copied into plans, PR comments
    and uploads. The same rule picks the values ``credential_values`` redacts.
    """
    upper = name.upper()
    if upper.startswith(_CREDENTIAL_PREFIXES):
        return True
    return any(word in _CREDENTIAL_WORDS for word in upper.split("_"))


def credential_values(env: Mapping[str, str]) -> list[str]:
    """The values of every credential variable set in ``env`` (for redaction)."""
    return [value for name, value in env.items() if value and is_credential_name(name)]


class PlaceholderEnv(Mapping[str, str]):
    """An environment in which every variable is set to one placeholder.

    The ownership check reads files with it: what a file means for ownership must
    not depend on where the check runs (the values differ per environment, and the
    check has no secrets). The placeholder is valid in every field that allows
    ``${VAR}`` (a UUID is also a valid account id and namespace). References are
    still parsed, and still refused when they name a credential or break a prefix.
    """

    def __getitem__(self, name: str) -> str:
        return PLACEHOLDER_D1_ID

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)


def expand(value: str, env: Mapping[str, str], *, prefix: str = "") -> str:
    """Replace every ``${NAME}`` / ``${NAME:-default}`` in ``value``.

    Args:
        value: the text as written in the file.
        env: the environment to read.
        prefix: when set, only variables whose names start with it may be referenced.

    Raises:
        EnvError: a variable is unset (and has no default), is not allowed by ``prefix``,
            or a reference is malformed.
    """
    if "$" not in value:
        return value
    if _UNCLOSED.search(value):
        raise EnvError("a '${' reference is not closed with '}'")
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        parsed = _NAME.match(match.group(1))
        if parsed is None:
            raise EnvError(
                f"'{match.group(0)}' is not a valid reference; write ${{NAME}} or "
                "${NAME:-default} with NAME made of letters, digits and '_'"
            )
        name, default = parsed.group(1), parsed.group(2)
        if not name.startswith(prefix):
            raise EnvError(
                f"'{match.group(0)}' may not be used here: only variables whose names start "
                f"with {prefix} can be referenced; export the value as {prefix}{name}"
            )
        if is_credential_name(name):
            raise EnvError(
                f"'{match.group(0)}' names a credential (tokens, keys, secrets and identities "
                "may never be referenced): its value would be copied into plans, pull "
                "request comments and uploads; reference a variable that holds no secret"
            )
        found = env.get(name)
        # An empty value counts as unset: CI systems expand a missing secret to "".
        if found:
            return found
        if default is not None:
            return default
        missing.append(name)
        return ""

    result = _REFERENCE.sub(replace, value)
    if missing:
        names = ", ".join(missing)
        plural = "s" if len(missing) > 1 else ""
        raise EnvError(
            f"environment variable{plural} {names} not set; export {names} or write "
            f"${{{missing[0]}:-default}} to give a default"
        )
    return result


PLACEHOLDER_D1_ID = "00000000-0000-0000-0000-000000000000"
"""Stands in for a reference that could not be expanded, so it adds no second problem."""


def expand_customer(
    data: Any, env: Mapping[str, str]
) -> tuple[Any, list[tuple[tuple[str, ...], str]]]:
    """A copy of a ``customer.yaml`` document with ``${D1_...}`` expanded in every
    ``scripts.<name>.d1`` value, and the ``(location, message)`` of each bad reference."""
    out: Any = json.loads(json.dumps(data))
    problems: list[tuple[tuple[str, ...], str]] = []
    scripts = out.get("scripts") if isinstance(out, dict) else None
    if not isinstance(scripts, dict):
        return out, problems
    for name, script in scripts.items():
        bindings = script.get("d1") if isinstance(script, dict) else None
        if not isinstance(bindings, dict):
            continue
        for binding, value in bindings.items():
            if not isinstance(value, str):
                continue
            try:
                bindings[binding] = expand(value, env, prefix=CUSTOMER_ENV_PREFIX)
            except EnvError as exc:
                loc = ("scripts", name, "d1", binding)
                problems.append((loc, f"{'.'.join(loc[:3])}.{binding}: {exc}"))
                bindings[binding] = PLACEHOLDER_D1_ID
    return out, problems
