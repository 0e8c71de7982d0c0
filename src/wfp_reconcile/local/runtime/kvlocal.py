"""The routing store's KV namespace, made to exist in the local API emulator.

On Cloudflare the namespace is created once, out of band (``wrangler kv namespace
create``), and its id goes into ``platform.yaml``. Locally nothing has created it, so
``wfp-reconcile dev`` registers that id with the emulator before it applies, and the store
mode runs offline with the id the repository names.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from wfp_reconcile.config.model import PlatformRepo
from wfp_reconcile.errors import RuntimeSetupError

__all__ = ["ensure_local_routing_store"]


def ensure_local_routing_store(
    repo: PlatformRepo, emulator_url: str, *, secret: str = "", timeout: float = 10.0
) -> str | None:
    """Create the routing store's namespace when the emulator lacks it; return its id
    when it was created (``None``: no store configured, or it existed).

    Raises:
        RuntimeSetupError: the emulator refused the namespace or could not be reached.
    """
    dispatcher = repo.platform.dispatcher
    store = dispatcher.routing_store
    if dispatcher.routing_data != "store" or store is None:
        return None
    account = quote(repo.platform.account_id, safe="")
    path = f"/__emulator/kv/{account}/{quote(store.kv_namespace_id, safe='')}"
    try:
        with httpx.Client(
            base_url=emulator_url, timeout=timeout, headers={"X-Wfp-Emulator-Secret": secret}
        ) as http:
            response = http.put(path)
    except httpx.HTTPError as exc:
        raise RuntimeSetupError(
            f"Could not reach the local API emulator to create KV namespace "
            f"{store.kv_namespace_id}: {type(exc).__name__}"
        ) from exc
    if response.status_code == 201:
        return store.kv_namespace_id
    if response.status_code != 200:
        raise RuntimeSetupError(
            f"The local API emulator refused KV namespace {store.kv_namespace_id}: "
            f"HTTP {response.status_code}"
        )
    return None
