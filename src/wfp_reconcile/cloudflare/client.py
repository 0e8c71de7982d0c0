"""The Cloudflare API calls wfp-reconcile makes, and nothing else.

Dispatch namespace scripts, regular Workers (the dispatcher and outbound Workers), D1.
Every call goes through one ``Transport`` (pacing, retries, error mapping), so the client
is safe to share between threads; ``map_concurrent`` runs bulk work on a bounded pool.
Delete-by-tag is deliberately absent: one wrong filter would empty a namespace.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from wfp_reconcile.bundle import ScriptUpload
from wfp_reconcile.errors import ApiError, NotFoundError, ValidationError, WfpError

from .models import ClientStats, ScriptInfo
from .multipart import encode_upload
from .ratelimit import RateBudget
from .settings import ClientSettings
from .transport import Transport

__all__ = ["CloudflareClient"]

T = TypeVar("T")
R = TypeVar("R")

_USER_AGENT = "wfp-reconcile"


def _seg(value: str) -> str:
    return quote(value, safe="")


def _tag_filter(tags: Sequence[tuple[str, bool]]) -> str:
    for tag, _ in tags:
        if not tag or any(c in tag for c in ",:&"):
            raise ValidationError(
                f"Tag {tag!r} cannot be used in a tag filter: tags must be non-empty and "
                "must not contain ',', ':' or '&'."
            )
    return ",".join(f"{tag}:{'yes' if want else 'no'}" for tag, want in tags)


def _list_items(result: Any, path: str) -> Iterator[ScriptInfo]:
    """The scripts of one list page; an item without a script name fails the listing."""
    if result is None:
        return
    if not isinstance(result, list):
        raise ApiError(f"Cloudflare API GET {path} answered a {type(result).__name__}, not a list.")
    for item in result:
        try:
            yield ScriptInfo.from_list_item(item)
        except ValueError as exc:
            raise ApiError(
                f"Cloudflare API GET {path}: {exc}. Refusing to plan from a listing that "
                "cannot be read; report this with the item shown."
            )


class CloudflareClient:
    """A synchronous, thread-safe client for the Cloudflare API calls wfp-reconcile needs.

    Args:
        settings: account, token, base URL, pacing and retry budget.
        http: an ``httpx.Client`` to send with (tests inject one); created when omitted
            and then closed by ``close``.
        sleep, clock: injectable time, so pacing and backoff can be tested without waiting.
    """

    def __init__(
        self,
        settings: ClientSettings,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._owns_http = http is None
        if http is None:
            http = httpx.Client(
                timeout=settings.timeout_seconds,
                limits=httpx.Limits(max_connections=max(10, settings.max_concurrency * 2)),
            )
        self._http = http
        self._headers = {
            "Authorization": f"Bearer {settings.api_token}",
            "User-Agent": _USER_AGENT,
        }
        self._transport = Transport(settings, http, sleep=sleep, clock=clock)
        self._account = f"/accounts/{_seg(settings.account_id)}"

    def __repr__(self) -> str:
        s = self.settings
        return f"CloudflareClient(account_id={s.account_id!r}, base_url={s.base_url!r})"

    # -- plumbing -------------------------------------------------------------------------

    def _call(self, kind: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(self._headers)
        headers.update(kwargs.pop("headers", None) or {})
        return self._transport.call(kind, method, path, headers=headers, **kwargs)

    def _ns(self, namespace: str) -> str:
        return f"{self._account}/workers/dispatch/namespaces/{_seg(namespace)}"

    def _script(self, namespace: str, name: str) -> str:
        return f"{self._ns(namespace)}/scripts/{_seg(name)}"

    def _upload(self, kind: str, path: str, name: str, upload: ScriptUpload) -> ScriptInfo:
        body, content_type = encode_upload(upload)
        env = self._call(kind, "PUT", path, content=body, headers={"Content-Type": content_type})
        return ScriptInfo.from_api(env.result or {}, default_id=name)

    def rate_budget(self) -> RateBudget | None:
        """What Cloudflare's ``Ratelimit`` headers last said is left of the budget (aged
        to now), or ``None`` when no answer carried them."""
        return self._transport.rate_budget()

    @property
    def stats(self) -> ClientStats:
        """Request counters since this client was created."""
        return self._transport.stats()

    def close(self) -> None:
        """Close the HTTP connections if this client created them."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> CloudflareClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- dispatch namespaces --------------------------------------------------------------

    def get_namespace(self, namespace: str) -> dict[str, Any]:
        """The namespace object. Raises ``NotFoundError`` when it does not exist."""
        result: dict[str, Any] = self._call("get_namespace", "GET", self._ns(namespace)).result
        return result

    def create_namespace(self, namespace: str) -> dict[str, Any]:
        """Create a dispatch namespace and return it."""
        result: dict[str, Any] = self._call(
            "create_namespace",
            "POST",
            f"{self._account}/workers/dispatch/namespaces",
            json_body={"name": namespace},
        ).result
        return result

    def list_namespaces(self) -> list[dict[str, Any]]:
        """Every dispatch namespace of the account (a single page, as Cloudflare serves it)."""
        result = self._call(
            "list_namespaces", "GET", f"{self._account}/workers/dispatch/namespaces"
        ).result
        return list(result or [])

    def ensure_namespace(self, namespace: str) -> dict[str, Any]:
        """Return the namespace, creating it when it does not exist yet."""
        try:
            return self.get_namespace(namespace)
        except NotFoundError:
            return self.create_namespace(namespace)

    # -- namespaced scripts ---------------------------------------------------------------

    def list_scripts(
        self,
        namespace: str,
        *,
        tags: Sequence[tuple[str, bool]] = (),
        page_size: int = 1000,
    ) -> Iterator[ScriptInfo]:
        """Yield every script of the namespace matching the tag filter, page by page.

        Args:
            tags: ``(tag, True)`` keeps only scripts with the tag, ``(tag, False)`` only
                those without it; several filters must all hold.
            page_size: scripts per request, at most 1000.
        """
        if not 1 <= page_size <= 1000:
            raise ValidationError(f"page_size must be between 1 and 1000, got {page_size}.")
        params = {"limit": str(page_size)}
        if tags:
            params["tags"] = _tag_filter(tags)
        path = f"{self._ns(namespace)}/scripts"
        seen_cursors: set[str] = set()
        seen: set[str] = set()

        def fetch(page: dict[str, str]) -> Any:
            return self._call("list_scripts", "GET", path, params=page)

        # The next page is asked for as soon as this one names it, and is on its way while
        # this one's items are read: pages come one after another (a cursor each), so at
        # 100 pages the reading would otherwise add to every round trip.
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="wfp-list") as ahead:
            pending = ahead.submit(fetch, dict(params))
            while True:
                env = pending.result()
                # The OpenAPI documents no result_info for this list (the docs do): a
                # missing or empty cursor ends the listing.
                cursor = env.result_info.get("cursor")
                if cursor and cursor in seen_cursors:  # a server bug must not loop forever
                    raise ApiError(f"Cloudflare API GET {path} returned the same cursor twice.")
                more = bool(cursor and env.result)
                if more:
                    seen_cursors.add(str(cursor))
                    params["cursor"] = str(cursor)
                    pending = ahead.submit(fetch, dict(params))
                for info in _list_items(env.result, path):
                    if info.id in seen:  # a server that ignores `cursor` must not loop forever
                        raise ApiError(
                            f"Cloudflare API GET {path} listed script {info.id!r} twice; "
                            "stopping rather than guessing which answer is right."
                        )
                    seen.add(info.id)
                    yield info
                if not more:
                    return

    def get_script(self, namespace: str, name: str) -> ScriptInfo:
        """The script's details. Raises ``NotFoundError`` when it does not exist."""
        result = self._call("get_script", "GET", self._script(namespace, name)).result or {}
        script = dict(result.get("script") or {})
        for key in ("created_on", "modified_on"):
            script.setdefault(key, result.get(key))
        return ScriptInfo.from_api(script, default_id=name)

    def get_script_tags(self, namespace: str, name: str) -> tuple[str, ...]:
        """The script's tags. Raises ``NotFoundError`` when the script does not exist."""
        result = self._call("get_tags", "GET", f"{self._script(namespace, name)}/tags").result
        return tuple(str(t) for t in result or [])

    def get_script_settings(self, namespace: str, name: str) -> dict[str, Any]:
        """The script's settings (bindings without secret values, compatibility, limits,
        logpush, tail consumers, tags). Raises ``NotFoundError`` when it does not exist."""
        result = self._call("get_settings", "GET", f"{self._script(namespace, name)}/settings")
        return dict(result.result or {})

    def put_script_tags(self, namespace: str, name: str, tags: Sequence[str]) -> tuple[str, ...]:
        """Replace all of the script's tags; return the tags Cloudflare now holds."""
        result = self._call(
            "put_tags", "PUT", f"{self._script(namespace, name)}/tags", json_body=list(tags)
        ).result
        return tuple(str(t) for t in result or [])

    def get_script_content(self, namespace: str, name: str) -> bytes:
        """The script's content as Cloudflare returns it (raw, not an envelope)."""
        response = self._transport.send(
            "get_content",
            "GET",
            f"{self._script(namespace, name)}/content",
            headers=self._headers,
        )
        return response.content

    def upload_script(self, namespace: str, name: str, upload: ScriptUpload) -> ScriptInfo:
        """Create or replace a script in the namespace (one multipart PUT)."""
        return self._upload("upload_script", self._script(namespace, name), name, upload)

    def delete_script(self, namespace: str, name: str) -> None:
        """Delete one script. Raises ``NotFoundError`` when it does not exist."""
        self._call("delete_script", "DELETE", self._script(namespace, name))

    # -- regular Workers ------------------------------------------------------------------

    def _worker(self, name: str) -> str:
        return f"{self._account}/workers/scripts/{_seg(name)}"

    def upload_worker(self, name: str, upload: ScriptUpload) -> ScriptInfo:
        """Create or replace a regular (non-namespaced) Worker, e.g. the dispatcher."""
        return self._upload("upload_worker", self._worker(name), name, upload)

    def list_workers(self) -> list[ScriptInfo]:
        """Every regular Worker of the account (a single page)."""
        path = f"{self._account}/workers/scripts"
        return list(_list_items(self._call("list_workers", "GET", path).result, path))

    def get_worker(self, name: str) -> ScriptInfo:
        """A regular Worker's summary. Raises ``NotFoundError`` when it does not exist.

        ``GET /workers/scripts/{name}`` returns the code, not metadata, so the summary
        comes from the account's Worker list (a handful of platform Workers).
        """
        for info in self.list_workers():
            if info.id == name:
                return info
        raise NotFoundError(
            f"Worker {name!r} does not exist in account {self.settings.account_id}.",
            status=404,
            codes=(10007,),
            method="GET",
            path=self._worker(name),
        )

    def get_worker_settings(self, name: str) -> dict[str, Any]:
        """A regular Worker's settings (``GET …/scripts/{name}/settings``)."""
        result = self._call("get_worker_settings", "GET", f"{self._worker(name)}/settings").result
        return dict(result or {})

    def get_worker_tags(self, name: str) -> tuple[str, ...]:
        """A regular Worker's tags, from its settings (``GET …/scripts/{name}/settings``)."""
        return tuple(str(t) for t in self.get_worker_settings(name).get("tags") or [])

    def delete_worker(self, name: str) -> None:
        """Delete a regular Worker. Raises ``NotFoundError`` when it does not exist."""
        self._call("delete_worker", "DELETE", self._worker(name))

    def enable_workers_dev(self, name: str) -> None:
        """Serve the Worker on the account's workers.dev subdomain."""
        self._call(
            "enable_subdomain",
            "POST",
            f"{self._worker(name)}/subdomain",
            json_body={"enabled": True},
        )

    def set_workers_dev(self, name: str, enabled: bool) -> None:
        """Serve the Worker on workers.dev, or stop (``POST …/subdomain`` ``{"enabled"}``)."""
        self._call(
            "enable_subdomain",
            "POST",
            f"{self._worker(name)}/subdomain",
            json_body={"enabled": enabled},
        )

    def get_workers_dev(self, name: str) -> bool:
        """Whether the Worker is served on workers.dev (``GET …/scripts/{name}/subdomain``)."""
        result = self._call("get_script_subdomain", "GET", f"{self._worker(name)}/subdomain").result
        return bool((result or {}).get("enabled"))

    def get_workers_subdomain(self) -> str | None:
        """The account's workers.dev subdomain, or ``None`` when none is set up."""
        try:
            result = self._call("get_subdomain", "GET", f"{self._account}/workers/subdomain").result
        except NotFoundError:
            return None
        value = (result or {}).get("subdomain") or (result or {}).get("name")
        return str(value) if value else None

    # -- D1 -------------------------------------------------------------------------------

    def _d1(self, database_id: str) -> str:
        return f"{self._account}/d1/database/{_seg(database_id)}"

    def list_d1_databases(self) -> list[dict[str, Any]]:
        """The account's D1 databases (``uuid``, ``name``, ``created_at``, ...)."""
        result = self._call("d1_list", "GET", f"{self._account}/d1/database").result
        return list(result or [])

    def create_d1_database(self, name: str) -> dict[str, Any]:
        """Create a D1 database; the result carries its ``uuid``."""
        result: dict[str, Any] = self._call(
            "d1_create", "POST", f"{self._account}/d1/database", json_body={"name": name}
        ).result
        return result

    def d1_query(
        self, database_id: str, sql: str, params: Sequence[Any] = ()
    ) -> list[dict[str, Any]]:
        """Run SQL with ``?`` parameters; return the rows of the last statement."""
        result = self._call(
            "d1_query",
            "POST",
            f"{self._d1(database_id)}/query",
            json_body={"sql": sql, "params": list(params)},
            idempotent=False,
        ).result
        statements = list(result or [])
        return list(statements[-1].get("results") or []) if statements else []

    def d1_batch(
        self, database_id: str, statements: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[dict[str, Any]]]:
        """Run several statements as one atomic batch; return each statement's rows."""
        result = self._call(
            "d1_query",
            "POST",
            f"{self._d1(database_id)}/query",
            json_body={"batch": [{"sql": sql, "params": list(p)} for sql, p in statements]},
            idempotent=False,
        ).result
        return [list(item.get("results") or []) for item in result or []]

    # -- bulk -----------------------------------------------------------------------------

    def map_concurrent(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R | WfpError]:
        """Run ``fn`` over ``items`` on at most ``max_concurrency`` threads, in order.

        A ``WfpError`` from one item is returned in its place instead of stopping the
        others; any other exception is a bug and propagates.
        """

        def run(item: T) -> R | WfpError:
            try:
                return fn(item)
            except WfpError as exc:
                return exc

        work = list(items)
        if not work:
            return []
        workers = min(self.settings.max_concurrency, len(work))
        with concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="wfp-cf"
        ) as pool:
            return list(pool.map(run, work))
