"""Cloudflare for SaaS custom hostnames of one zone: list (paginated), create, edit, delete.

Shapes follow Cloudflare's API as its official clients type it (TypeScript SDK
``cloudflare`` 7.x ``resources/custom-hostnames``, Python SDK 5.x ``custom_hostnames``):

* ``GET    /zones/{zone_id}/custom_hostnames?page=&per_page=`` -> ``result: [CustomHostname]``
  with ``result_info {page, per_page, count, total_count, total_pages}`` (V4 page pagination);
* ``POST   /zones/{zone_id}/custom_hostnames`` ``{hostname, ssl: {method, type, settings,
  certificate_authority}, custom_metadata}`` -> the new ``CustomHostname``;
* ``PATCH  /zones/{zone_id}/custom_hostnames/{id}`` ``{ssl, custom_metadata}``; sending the
  unchanged ``ssl`` asks Cloudflare to re-check domain control validation;
* ``DELETE /zones/{zone_id}/custom_hostnames/{id}`` -> ``{id}``.

A ``CustomHostname`` carries ``status`` (``pending``, ``active``, ``moved``, ``blocked``...),
``ssl.status`` (``initializing``, ``pending_validation``, ``active``, ...),
``ssl.validation_records`` (``txt_name``/``txt_value`` or ``http_url``/``http_body``),
``ownership_verification {type: txt, name, value}``, ``verification_errors`` and the
``custom_metadata`` string map that wfp-reconcile uses as its inventory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from wfp_reconcile.errors import ApiError

from .client import CloudflareClient

__all__ = ["CustomHostnameInfo", "CustomHostnames", "DnsRecord"]

PAGE_SIZE = 50
"""Cloudflare's largest ``per_page`` for custom hostnames."""


@dataclasses.dataclass(frozen=True)
class DnsRecord:
    """A record Cloudflare asks for: ``type`` (``TXT``, ``CNAME``, ``HTTP``), name, value."""

    type: str
    name: str
    value: str
    purpose: str

    def to_json(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class CustomHostnameInfo:
    """One custom hostname as Cloudflare reports it (the fields wfp-reconcile reads)."""

    id: str
    hostname: str
    status: str
    ssl_status: str
    ssl_method: str | None
    min_tls_version: str | None
    custom_metadata: Mapping[str, str]
    ownership: DnsRecord | None
    validation: tuple[DnsRecord, ...]
    errors: tuple[str, ...]
    created_at: str | None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> CustomHostnameInfo:
        ssl = raw.get("ssl") or {}
        settings = ssl.get("settings") or {}
        hostname = str(raw.get("hostname") or "")
        ownership = None
        ov = raw.get("ownership_verification") or {}
        if ov.get("name") and ov.get("value"):
            ownership = DnsRecord(
                str(ov.get("type") or "txt").upper(),
                str(ov["name"]),
                str(ov["value"]),
                "ownership",
            )
        validation: list[DnsRecord] = []
        for record in ssl.get("validation_records") or []:
            if record.get("txt_name"):
                validation.append(
                    DnsRecord(
                        "TXT",
                        str(record["txt_name"]),
                        str(record.get("txt_value") or ""),
                        "certificate",
                    )
                )
            elif record.get("http_url"):
                validation.append(
                    DnsRecord(
                        "HTTP",
                        str(record["http_url"]),
                        str(record.get("http_body") or ""),
                        "certificate",
                    )
                )
        errors = [str(e) for e in raw.get("verification_errors") or []]
        errors += [
            str(e.get("message"))
            for e in ssl.get("validation_errors") or []
            if isinstance(e, Mapping) and e.get("message")
        ]
        metadata = raw.get("custom_metadata") or {}
        return cls(
            id=str(raw.get("id") or ""),
            hostname=hostname,
            status=str(raw.get("status") or "pending"),
            ssl_status=str(ssl.get("status") or "initializing"),
            ssl_method=ssl.get("method"),
            min_tls_version=settings.get("min_tls_version"),
            custom_metadata={str(k): str(v) for k, v in metadata.items()}
            if isinstance(metadata, Mapping)
            else {},
            ownership=ownership,
            validation=tuple(validation),
            errors=tuple(errors),
            created_at=raw.get("created_at"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "hostname": self.hostname,
            "status": self.status,
            "ssl_status": self.ssl_status,
            "ssl_method": self.ssl_method,
            "custom_metadata": dict(self.custom_metadata),
            "ownership": self.ownership.to_json() if self.ownership else None,
            "validation": [r.to_json() for r in self.validation],
            "errors": list(self.errors),
            "created_at": self.created_at,
        }


class CustomHostnames:
    """The custom hostname calls of one zone, through a ``CloudflareClient``'s transport."""

    def __init__(self, client: CloudflareClient, zone_id: str) -> None:
        self._client = client
        self._base = f"/zones/{quote(zone_id, safe='')}/custom_hostnames"

    def list(
        self, *, hostname: str | None = None, page_size: int = PAGE_SIZE
    ) -> Iterator[CustomHostnameInfo]:
        """Every custom hostname of the zone, page by page (one pass, no per-item reads);
        with ``hostname``, only that one (Cloudflare's exact-match filter)."""
        page = 1
        while True:
            params = {"page": str(page), "per_page": str(page_size)}
            if hostname is not None:
                params["hostname"] = hostname
            env = self._client._call("custom_hostnames_list", "GET", self._base, params=params)
            items = list(env.result or [])
            for item in items:
                yield CustomHostnameInfo.from_api(item)
            total_pages = env.result_info.get("total_pages")
            if not items or (isinstance(total_pages, int) and page >= total_pages):
                return
            if total_pages is None and len(items) < page_size:
                return
            page += 1
            if page > 100_000:  # a server bug must not loop forever
                raise ApiError(f"Cloudflare API GET {self._base} never ended its pages.")

    def create(
        self, hostname: str, ssl: Mapping[str, Any], custom_metadata: Mapping[str, str]
    ) -> CustomHostnameInfo:
        env = self._client._call(
            "custom_hostnames_create",
            "POST",
            self._base,
            json_body={
                "hostname": hostname,
                "ssl": dict(ssl),
                "custom_metadata": dict(custom_metadata),
            },
            # Cloudflare refuses a second create of the same hostname, and the next run's
            # list pass finds the first one: a create is never retried blindly.
            idempotent=False,
        )
        return CustomHostnameInfo.from_api(env.result or {})

    def edit(
        self,
        hostname_id: str,
        *,
        ssl: Mapping[str, Any] | None = None,
        custom_metadata: Mapping[str, str] | None = None,
    ) -> CustomHostnameInfo:
        body: dict[str, Any] = {}
        if ssl is not None:
            body["ssl"] = dict(ssl)
        if custom_metadata is not None:
            body["custom_metadata"] = dict(custom_metadata)
        env = self._client._call(
            "custom_hostnames_edit",
            "PATCH",
            f"{self._base}/{quote(hostname_id, safe='')}",
            json_body=body,
        )
        return CustomHostnameInfo.from_api(env.result or {})

    def delete(self, hostname_id: str) -> None:
        self._client._call(
            "custom_hostnames_delete", "DELETE", f"{self._base}/{quote(hostname_id, safe='')}"
        )
