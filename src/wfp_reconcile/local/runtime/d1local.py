"""The D1 databases that customer scripts bind, made to exist in the local API emulator.

On Cloudflare a database is created once, out of band, and its id goes into
``customer.yaml``. Locally nothing has created it, so ``wfp-reconcile dev`` registers every
declared id with the emulator (an empty SQLite database) before it applies: the example
repository then works offline with the ids it names.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import quote

import httpx

from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.errors import RuntimeSetupError

__all__ = ["ScriptDatabase", "declared_databases", "ensure_local_databases"]


@dataclasses.dataclass(frozen=True)
class ScriptDatabase:
    """One D1 database id and the bindings that use it."""

    database_id: str
    bound_as: tuple[str, ...]
    """``<script>.<binding>`` of every binding that names it, sorted."""


def declared_databases(repo: PlatformRepo) -> tuple[ScriptDatabase, ...]:
    """Every database that a customer script binds, by id (sorted)."""
    users: dict[str, list[str]] = {}
    for customer in repo.customers:
        for name, script in customer.scripts.items():
            for binding, database_id in script.d1.items():
                users.setdefault(database_id, []).append(f"{name}.{binding}")
    return tuple(ScriptDatabase(db, tuple(sorted(users[db]))) for db in sorted(users))


def ensure_local_databases(
    repo: PlatformRepo, emulator_url: str, *, secret: str = "", timeout: float = 10.0
) -> tuple[ScriptDatabase, ...]:
    """Create the declared databases the emulator does not have yet; return those created.

    Raises:
        RuntimeSetupError: the emulator refused a database or could not be reached.
    """
    account = quote(repo.platform.account_id, safe="")
    created: list[ScriptDatabase] = []
    headers = {"X-Wfp-Emulator-Secret": secret}
    with httpx.Client(base_url=emulator_url, timeout=timeout, headers=headers) as http:
        for database in declared_databases(repo):
            path = f"/__emulator/d1/{account}/{quote(database.database_id, safe='')}"
            try:
                response = http.put(path)
            except httpx.HTTPError as exc:
                raise RuntimeSetupError(
                    f"Could not reach the local API emulator to create D1 database "
                    f"{database.database_id}: {type(exc).__name__}"
                ) from exc
            if response.status_code == 201:
                created.append(database)
            elif response.status_code != 200:
                raise RuntimeSetupError(
                    f"The local API emulator refused D1 database {database.database_id} "
                    f"(bound as {', '.join(database.bound_as)}): HTTP {response.status_code} "
                    f"{_message(response)}"
                )
    return tuple(created)


def _message(response: httpx.Response) -> str:
    try:
        errors = response.json().get("errors") or []
        return str(errors[0].get("message", "")) if errors else ""
    except (ValueError, AttributeError, TypeError):
        return ""
