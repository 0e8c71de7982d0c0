"""The Workers KV calls of the Cloudflare API that the dispatcher's routing store needs.

Paths and shapes as the TS SDK ``cloudflare`` types them (``resources/kv/namespaces``):

* ``GET|POST /accounts/{a}/storage/kv/namespaces`` (``V4PagePaginationArray`` of
  ``{id, title, supports_url_encoding}``; create takes ``{"title"}``);
* ``GET .../namespaces/{id}/values/{key}``: the raw value, not an envelope; a missing key
  is ``404`` with code 10009;
* ``PUT .../namespaces/{id}/values/{key}``: the raw value as the body;
* ``PUT .../namespaces/{id}/bulk``: ``[{key, value, base64?, expiration?,
  expiration_ttl?, metadata?}]``, at most 10,000 pairs and 100 MB a request;
* ``POST .../namespaces/{id}/bulk/delete``: ``["key", ...]``, at most 10,000 keys;
* ``POST .../namespaces/{id}/bulk/get``: ``{keys (at most 100), type: "text"|"json"}``
  answers ``{values: {key: value or null}}``;
* ``GET .../namespaces/{id}/keys?prefix=&limit=&cursor=``: ``[{name, expiration?,
  metadata?}]`` with ``result_info.cursor`` (empty on the last page).

Both bulk answers are ``{successful_key_count, unsuccessful_keys}``; keys named in
``unsuccessful_keys`` were not written (or deleted) and fail the call, so a run never
believes a record it did not store. Everything goes through the client's transport
(pacing, retries, error mapping) like every other call.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from wfp_reconcile.errors import ApiError, NotFoundError

from .client import CloudflareClient, _seg

__all__ = [
    "BULK_GET_LIMIT",
    "BULK_LIMIT",
    "KEY_NOT_FOUND",
    "NAMESPACE_NOT_FOUND",
    "create_kv_namespace",
    "kv_bulk_delete",
    "kv_bulk_get",
    "kv_bulk_write",
    "kv_get",
    "kv_list_keys",
    "kv_put",
    "list_kv_namespaces",
]

BULK_GET_LIMIT = 100
"""Keys per bulk get, Cloudflare's limit."""
BULK_LIMIT = 10_000
"""Pairs (or keys) per bulk request, Cloudflare's limit."""
KEY_NOT_FOUND = 10009
"""Cloudflare's code for ``GET .../values/{key}`` of a key that does not exist."""
NAMESPACE_NOT_FOUND = 10013
"""Cloudflare's code for a KV namespace id the account does not have."""


def _ns(client: CloudflareClient, namespace_id: str) -> str:
    return (
        f"/accounts/{_seg(client.settings.account_id)}/storage/kv/namespaces/{_seg(namespace_id)}"
    )


def list_kv_namespaces(client: CloudflareClient) -> list[dict[str, Any]]:
    """Every KV namespace of the account (``{id, title}``), all pages."""
    path = f"/accounts/{_seg(client.settings.account_id)}/storage/kv/namespaces"
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        env = client._call(
            "kv_list_namespaces", "GET", path, params={"page": str(page), "per_page": "100"}
        )
        items = list(env.result or [])
        out.extend(items)
        total_pages = int(env.result_info.get("total_pages") or 1)
        if not items or page >= total_pages:
            return out
        page += 1


def create_kv_namespace(client: CloudflareClient, title: str) -> dict[str, Any]:
    """Create a KV namespace; the answer carries its ``id``."""
    path = f"/accounts/{_seg(client.settings.account_id)}/storage/kv/namespaces"
    result: dict[str, Any] = client._call(
        "kv_create_namespace", "POST", path, json_body={"title": title}, idempotent=False
    ).result
    return result


def kv_get(client: CloudflareClient, namespace_id: str, key: str) -> bytes | None:
    """The value stored under ``key``, or ``None`` when the key does not exist.

    Raises:
        NotFoundError: The namespace does not exist (code 10013), or another 404.
    """
    try:
        response = client._transport.send(
            "kv_get",
            "GET",
            f"{_ns(client, namespace_id)}/values/{_seg(key)}",
            headers=client._headers,
        )
    except NotFoundError as exc:
        if KEY_NOT_FOUND in exc.codes:
            return None
        raise
    return response.content


def kv_put(client: CloudflareClient, namespace_id: str, key: str, value: bytes) -> None:
    """Store one value (the body is the raw value)."""
    client._call(
        "kv_put",
        "PUT",
        f"{_ns(client, namespace_id)}/values/{_seg(key)}",
        content=value,
        headers={"Content-Type": "application/octet-stream"},
    )


def _check_bulk(result: Any, what: str, keys: Sequence[str]) -> None:
    failed = list((result or {}).get("unsuccessful_keys") or [])
    if failed:
        shown = ", ".join(repr(k) for k in failed[:5])
        raise ApiError(
            f"Workers KV did not {what} {len(failed)} of {len(keys)} keys ({shown}"
            f"{', ...' if len(failed) > 5 else ''}); run again to retry them."
        )


def kv_bulk_write(
    client: CloudflareClient, namespace_id: str, pairs: Sequence[tuple[str, str]]
) -> int:
    """Write ``(key, value)`` pairs, 10,000 a request; return the number of requests."""
    calls = 0
    for start in range(0, len(pairs), BULK_LIMIT):
        chunk = pairs[start : start + BULK_LIMIT]
        result = client._call(
            "kv_bulk_write",
            "PUT",
            f"{_ns(client, namespace_id)}/bulk",
            json_body=[{"key": k, "value": v} for k, v in chunk],
        ).result
        _check_bulk(result, "write", [k for k, _ in chunk])
        calls += 1
    return calls


def kv_bulk_delete(client: CloudflareClient, namespace_id: str, keys: Sequence[str]) -> int:
    """Delete keys (absent keys are fine), 10,000 a request; return the number of requests."""
    calls = 0
    for start in range(0, len(keys), BULK_LIMIT):
        chunk = list(keys[start : start + BULK_LIMIT])
        result = client._call(
            "kv_bulk_delete",
            "POST",
            f"{_ns(client, namespace_id)}/bulk/delete",
            json_body=chunk,
        ).result
        _check_bulk(result, "delete", chunk)
        calls += 1
    return calls


def kv_bulk_get(client: CloudflareClient, namespace_id: str, keys: Sequence[str]) -> dict[str, Any]:
    """The JSON values of up to 100 keys in one request (``None`` for an absent key)."""
    if len(keys) > BULK_GET_LIMIT:
        raise ValueError(f"a bulk get takes at most {BULK_GET_LIMIT} keys, not {len(keys)}")
    result = client._call(
        "kv_bulk_get",
        "POST",
        f"{_ns(client, namespace_id)}/bulk/get",
        json_body={"keys": list(keys), "type": "json"},
    ).result
    values = (result or {}).get("values") or {}
    return {key: values.get(key) for key in keys}


def kv_list_keys(
    client: CloudflareClient, namespace_id: str, *, prefix: str = "", limit: int = 1000
) -> Iterator[str]:
    """Every key name (with ``prefix``), page by page through ``result_info.cursor``."""
    params = {"limit": str(limit)}
    if prefix:
        params["prefix"] = prefix
    path = f"{_ns(client, namespace_id)}/keys"
    seen: set[str] = set()
    while True:
        env = client._call("kv_list_keys", "GET", path, params=dict(params))
        for item in env.result or []:
            yield str(item["name"])
        cursor = env.result_info.get("cursor")
        if not cursor or not env.result:
            return
        if cursor in seen:  # a server bug must not loop forever
            raise ApiError(f"Cloudflare API GET {path} returned the same cursor twice.")
        seen.add(cursor)
        params["cursor"] = str(cursor)
