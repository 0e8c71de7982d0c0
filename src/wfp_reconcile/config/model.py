"""The declarative model: ``platform.yaml`` and ``customers/<id>/customer.yaml``.

Every model forbids unknown keys and is frozen. Field-level rules live here;
rules that span files (unique script names, outbound references, module paths,
bundle sizes) live in ``wfp_reconcile.config.rules``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from wfp_reconcile.secrets.fields import AgeRecipient, SecretMap

__all__ = [
    "ADMIN_ONLY",
    "D1_ID_PATTERN",
    "KV_NAMESPACE_ID_PATTERN",
    "SCRIPT_NAME_PATTERN",
    "Access",
    "AdminOnly",
    "Assets",
    "Claimed",
    "Customer",
    "CustomHostnames",
    "D1Database",
    "Dispatcher",
    "HtmlHandling",
    "HostnameSsl",
    "Limits",
    "Model",
    "NotFoundHandling",
    "Observability",
    "ObservabilityLogs",
    "OutboundRef",
    "OutboundWorker",
    "Platform",
    "PlatformRepo",
    "Routing",
    "RoutingData",
    "RoutingStore",
    "Safety",
    "Script",
    "SecretsConfig",
    "SmokeRequest",
    "TailWorker",
    "Token",
    "customer_logpush",
    "customer_tails",
    "dispatcher_logpush",
    "dispatcher_tails",
    "script_observability",
]

SCRIPT_NAME_PATTERN = r"^[a-z0-9_][a-z0-9-_]*$"
_SCRIPT_NAME_RE = re.compile(SCRIPT_NAME_PATTERN)

# Cloudflare's documented bounds: CPU up to 5 minutes on paid plans; subrequests
# up to 10 million when raised by limits (custom limits can only lower them).
MAX_CPU_MS = 300_000
MAX_SUBREQUESTS = 10_000_000

ScriptName = Annotated[
    str, StringConstraints(pattern=SCRIPT_NAME_PATTERN, min_length=1, max_length=63)
]
CustomerId = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", min_length=1, max_length=40)
]
Tag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$", max_length=64)]
Login = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$", max_length=39)]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
CompatDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
RelPath = Annotated[str, StringConstraints(min_length=1, max_length=512)]
VarName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]
ParamName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]

_UUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
D1_ID_PATTERN = rf"^{_UUID}$"
# The file may say ${D1_...} (expanded before validation, see envvars), so editors must
# accept that too; the model itself only ever sees the expanded UUID.
D1DatabaseId = Annotated[
    str,
    StringConstraints(pattern=D1_ID_PATTERN),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": rf"^(?:{_UUID}|\$\{{D1_[A-Za-z0-9_]*(?::-{_UUID})?\}})$",
        }
    ),
]


@dataclasses.dataclass(frozen=True)
class AdminOnly:
    """Marks a field of a customer file that only platform admins may change.

    Write ``Annotated[<type>, ADMIN_ONLY]``. The ownership check finds the marked
    fields by walking the models (``wfp_reconcile.config.policy``): a customer's owner
    may not change, add or remove them, nor set them on a new script. Mark every
    field that is platform policy rather than the customer's own code and settings.
    """


ADMIN_ONLY = AdminOnly()


@dataclasses.dataclass(frozen=True)
class FromEnv:
    """Marks a ``platform.yaml`` string that may reference environment variables.

    Write ``Annotated[str, FROM_ENV]``. The loader expands ``${NAME}`` in the marked
    fields before validation (``config.envvars.env_fields`` finds them) and nowhere else,
    so a new kind's setting (say, a zone id) opts in next to its declaration.
    """


FROM_ENV = FromEnv()


@dataclasses.dataclass(frozen=True)
class Claimed:
    """Marks a mapping of a customer file whose keys are names unique across customers.

    Write ``Annotated[Mapping[<key>, <value>], Claimed("script name")]``. The ownership
    check reads every marked field (``wfp_reconcile.config.policy.claimed_names``): a
    pull request that declares a key another customer declares at the base revision
    needs an owner of that customer or a platform admin, so one customer cannot take
    over another's script name (or hostname, ...) by declaring it too.
    """

    what: str
    """What the keys are, for messages: ``script name``, ``hostname``."""


class Model(BaseModel):
    """Base of every configuration model: strict keys, immutable values."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True
    )


class Limits(Model):
    """Per-invocation limits passed to ``env.DISPATCHER.get(..., {limits})``."""

    cpu_ms: Annotated[int, Field(gt=0, le=MAX_CPU_MS)] | None = None
    """CPU milliseconds per invocation (``cpuMs``)."""
    subrequests: Annotated[int, Field(gt=0, le=MAX_SUBREQUESTS)] | None = None
    """Subrequests per invocation (``subRequests``)."""

    def given(self, *, runtime_names: bool = False) -> dict[str, int]:
        """The limits that are set, named as upload metadata wants them (``cpu_ms``,
        ``subrequests``) or, with ``runtime_names``, as ``DISPATCHER.get()`` does
        (``cpuMs``, ``subRequests``)."""
        names = _RUNTIME_LIMIT_NAMES if runtime_names else _METADATA_LIMIT_NAMES
        values = {"cpu_ms": self.cpu_ms, "subrequests": self.subrequests}
        return {names[k]: v for k, v in values.items() if v is not None}

    def over(self, base: Limits) -> Limits:
        """These limits with unset fields taken from ``base``."""
        return Limits(
            cpu_ms=self.cpu_ms if self.cpu_ms is not None else base.cpu_ms,
            subrequests=self.subrequests if self.subrequests is not None else base.subrequests,
        )


_METADATA_LIMIT_NAMES = {"cpu_ms": "cpu_ms", "subrequests": "subrequests"}
_RUNTIME_LIMIT_NAMES = {"cpu_ms": "cpuMs", "subrequests": "subRequests"}


class Routing(StrEnum):
    PATH = "path"
    HOST = "host"


class RoutingData(StrEnum):
    """Where the dispatcher finds its routing data (docs/dispatcher.md)."""

    MANIFEST = "manifest"
    """One manifest module inside the dispatch Worker (the whole fleet in every upload)."""
    STORE = "store"
    """One Workers KV record per script; the Worker stays the same size."""


KV_NAMESPACE_ID_PATTERN = r"^[0-9a-f]{32}$"
KvNamespaceId = Annotated[
    str,
    StringConstraints(pattern=KV_NAMESPACE_ID_PATTERN),
    # The file may say ${VAR} (expanded before validation), so editors must accept it.
    WithJsonSchema({"type": "string", "pattern": r"^(?:[0-9a-f]{32}|\$\{[A-Za-z0-9_:.-]*\})$"}),
]


class Access(StrEnum):
    PUBLIC = "public"
    TOKEN = "token"


class OutboundWorker(Model):
    """An outbound (egress) Worker that intercepts customer ``fetch()`` calls."""

    main_module: RelPath
    """Repository-relative path of its main module."""
    modules: tuple[RelPath, ...] = ()
    """More modules (repository-relative paths), named in the bundle by file name."""
    compatibility_date: CompatDate | None = None
    """Compatibility date (YYYY-MM-DD); the platform's by default."""
    compatibility_flags: tuple[str, ...] = ()
    """Compatibility flags."""
    parameters: tuple[ParamName, ...] = ()
    """Names of the parameters the dispatcher passes; readable as ``env.<name>``."""


class TailWorker(Model):
    """A tail (trace) Worker: receives the trace events of the Workers it is attached to."""

    main_module: RelPath
    """Repository-relative path of its main module (it exports a ``tail(events)`` handler)."""
    modules: tuple[RelPath, ...] = ()
    """More modules (repository-relative paths), named in the bundle by file name."""
    compatibility_date: CompatDate | None = None
    """Compatibility date (YYYY-MM-DD); the platform's by default."""
    compatibility_flags: tuple[str, ...] = ()
    """Compatibility flags."""
    all_scripts: bool = True
    """Attach to every customer script whose customer does not set ``tail`` itself."""
    dispatcher: bool = True
    """Attach to the dispatch Worker."""


class RoutingStore(Model):
    """The Workers KV namespace the dispatcher reads its routing records from."""

    kv_namespace_id: KvNamespaceId
    """Id of the KV namespace (32 hex digits); may use ``${ENV_VAR}``."""
    binding: VarName = "ROUTES"
    """Binding name of the namespace in the dispatch Worker."""
    cache_ttl_seconds: Annotated[int, Field(ge=30, le=3600)] = 30
    """How long an isolate keeps a record (and KV's ``cacheTtl``; 30 s is KV's minimum)."""


class Dispatcher(Model):
    """The platform's dispatch Worker, generated from these declarations."""

    name: ScriptName = "wfp-dispatcher"
    """Worker name of the dispatch Worker."""
    routing: Routing = Routing.PATH
    """How eyeball requests pick a script: by path (``/<script>/...``) or by host."""
    domain: str | None = None
    """Hostname suffix for ``routing: host`` (``<script>.<domain>``)."""
    workers_dev: bool = True
    """Serve the dispatcher on its workers.dev subdomain."""
    compatibility_date: CompatDate | None = None
    """Compatibility date of the dispatch Worker; the platform's by default."""
    admin_token_sha256: Sha256Hex | None = None
    """SHA-256 of the token that opens the status page at ``/_platform/``."""
    logpush: bool | None = None
    """Workers Logpush for the dispatch Worker; the platform's ``logpush`` by default."""
    routing_data: RoutingData = RoutingData.MANIFEST
    """``manifest``: the routing data is a module of the Worker; ``store``: one Workers KV
    record per script, read by the Worker with an in-isolate cache (needs
    ``routing_store``)."""
    routing_store: RoutingStore | None = None
    """The Workers KV namespace of ``routing_data: store``."""


class D1Database(Model):
    """A D1 database the dispatcher mirrors customers and tokens into."""

    name: str
    """Database name."""
    database_id: Annotated[str, FROM_ENV]
    """Database id; may use ``${ENV_VAR}``."""
    binding: VarName = "DB"
    """Binding name in the dispatch Worker."""


class Safety(Model):
    """Guards against mass deletion."""

    max_deletes: Annotated[int, Field(ge=0)] = 10
    """Most scripts one apply may delete without ``--allow-deletes``."""
    max_delete_fraction: Annotated[float, Field(ge=0, le=1)] = 0.1
    """Largest fraction (0 to 1) of the managed scripts one apply may delete."""


class SecretsConfig(Model):
    """Who can decrypt customer secrets (docs/secrets.md)."""

    recipients: tuple[AgeRecipient, ...] = ()
    """age recipients (``age1...``) every secret is encrypted to: the platform's CI key
    and, optionally, a break-glass key."""


HostnameStr = Annotated[str, StringConstraints(min_length=1, max_length=253)]
"""A DNS name; its syntax, case and uniqueness are checked by config/rules/hostnames.py."""


class HostnameSsl(Model):
    """Certificate settings of every custom hostname (Cloudflare's ``ssl`` object)."""

    method: Literal["http", "txt"] = "http"
    """Domain control validation: ``http`` (works once the CNAME is in place) or ``txt``."""
    type: Literal["dv"] = "dv"
    """Validation level; Cloudflare only issues ``dv``."""
    min_tls_version: Literal["1.0", "1.1", "1.2", "1.3"] | None = None
    """Lowest TLS version the hostname accepts; Cloudflare's default when unset."""
    certificate_authority: Literal["google", "lets_encrypt", "ssl_com"] | None = None
    """Certificate authority; Cloudflare picks one when unset."""


class CustomHostnames(Model):
    """Customers' own domains through Cloudflare for SaaS (admin-only: platform.yaml)."""

    zone_id: Annotated[str, StringConstraints(min_length=1), FROM_ENV]
    """The SaaS zone holding the custom hostnames; may use ``${ENV_VAR}``."""
    fallback_origin: HostnameStr
    """The zone's fallback origin: customers point a CNAME from their hostname to it."""
    zone_name: HostnameStr | None = None
    """The zone's apex (``saas.example.net``); never accepted as a customer hostname."""
    ssl: HostnameSsl = Field(default_factory=HostnameSsl)
    """Certificate settings of every custom hostname."""
    allow_wildcards: bool = False
    """Accept ``*.example.com`` hostnames (Cloudflare needs a wildcard-capable plan)."""


class Platform(Model):
    """``platform.yaml``."""

    account_id: Annotated[str, StringConstraints(min_length=1), FROM_ENV]
    """Cloudflare account id; may use ``${ENV_VAR}`` or ``${ENV_VAR:-default}``."""
    namespace: Annotated[str, StringConstraints(min_length=1, max_length=63), FROM_ENV]
    """Dispatch namespace; may use ``${ENV_VAR}`` or ``${ENV_VAR:-default}``."""
    management_tag: Tag = "wfp-managed"
    """Tag on every managed script; only scripts carrying it are updated or deleted."""
    compatibility_date: CompatDate
    """Default compatibility date (YYYY-MM-DD) of every Worker."""
    compatibility_flags: tuple[str, ...] = ()
    """Default compatibility flags of every customer script."""
    platform_modules: tuple[RelPath, ...] = ()
    """Modules injected into every customer bundle, by repository-relative path."""
    outbound_workers: Mapping[ScriptName, OutboundWorker] = Field(default_factory=dict)
    """Outbound (egress) Workers by Worker name."""
    tail_workers: Mapping[ScriptName, TailWorker] = Field(default_factory=dict)
    """Tail (trace) Workers by Worker name, deployed before anything that uses them."""
    logpush: bool = False
    """Workers Logpush for every customer script (and the dispatcher) unless overridden."""
    observability: Observability | None = None
    """Workers observability of every customer script unless overridden; off by default."""
    dispatcher: Dispatcher = Field(default_factory=Dispatcher)
    """The generated dispatch Worker."""
    d1: D1Database | None = None
    """Optional D1 database mirror."""
    default_limits: Limits = Field(default_factory=Limits)
    """Limits of every script unless the customer or script sets its own."""
    safety: Safety = Field(default_factory=Safety)
    """How many deletions one apply may make without ``--allow-deletes``."""
    admins: tuple[Login, ...] = ()
    """Git host logins allowed to change platform files."""
    max_bundle_bytes: Annotated[int, Field(gt=0)] = 10 * 1024 * 1024
    """Upper bound on one script's modules, in bytes: the platform's own cap, below
    Cloudflare's 64 MiB."""
    secrets: SecretsConfig = Field(default_factory=SecretsConfig)
    """The age recipients customer secrets are encrypted to."""
    custom_hostnames: CustomHostnames | None = None
    """Customers' own domains (Cloudflare for SaaS custom hostnames); see docs/hostnames.md."""


# -- static assets and observability (issue 14; rules in wfp_reconcile.assets.rules) ----


class HtmlHandling(StrEnum):
    """Cloudflare's ``assets.config.html_handling``: canonical URLs of HTML files."""

    AUTO_TRAILING_SLASH = "auto-trailing-slash"
    FORCE_TRAILING_SLASH = "force-trailing-slash"
    DROP_TRAILING_SLASH = "drop-trailing-slash"
    NONE = "none"


class NotFoundHandling(StrEnum):
    """Cloudflare's ``assets.config.not_found_handling``: the answer when no asset matches."""

    NONE = "none"
    PAGE_404 = "404-page"
    SINGLE_PAGE_APPLICATION = "single-page-application"


RoutingRule = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Assets(Model):
    """Static assets of one script, uploaded through Cloudflare's asset upload session."""

    directory: RelPath
    """Directory of the files, relative to the customer directory (``public``)."""
    binding: VarName | None = None
    """Name of the assets binding in the script (``env.ASSETS.fetch(request)``); none by default."""
    html_handling: HtmlHandling = HtmlHandling.AUTO_TRAILING_SLASH
    """Redirects and rewrites for HTML files (Cloudflare's default: ``auto-trailing-slash``)."""
    not_found_handling: NotFoundHandling = NotFoundHandling.NONE
    """What a request matching no asset gets when the script does not answer it."""
    run_worker_first: bool | tuple[RoutingRule, ...] = False
    """Run the script before assets: ``true`` for every request, or path rules
    (``/api/*``, ``!/api/docs/*``)."""


SamplingRate = Annotated[float, Field(ge=0, le=1)]


class ObservabilityLogs(Model):
    """Workers Logs settings."""

    enabled: bool = True
    """Store the script's logs in Workers Logs."""
    invocation_logs: bool = True
    """Also log one record per invocation (request, response, outcome)."""
    head_sampling_rate: SamplingRate | None = None
    """Fraction of requests whose logs are kept, 0 to 1 (Cloudflare's default: 1)."""


class Observability(Model):
    """Workers observability (Workers Logs), upload metadata of a script."""

    enabled: bool
    """Turn observability on or off."""
    head_sampling_rate: SamplingRate | None = None
    """Fraction of requests observed, 0 to 1 (Cloudflare's default: 1)."""
    logs: ObservabilityLogs | None = None
    """Log settings; Cloudflare's defaults when left out."""


class Token(Model):
    """A customer API token, stored only as its SHA-256."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)]
    """Name of the token, unique within the customer."""
    sha256: Sha256Hex
    """SHA-256 of the token, as 64 lowercase hex characters (never the token itself)."""


class OutboundRef(Model):
    """Which outbound Worker a customer uses and the parameter values it gets."""

    worker: ScriptName
    """Name of an outbound Worker declared in platform.yaml."""
    params: Mapping[ParamName, str | int | bool | list[str]] = Field(default_factory=dict)
    """Parameter values, readable as ``env.<name>`` in the outbound Worker."""


class SmokeRequest(Model):
    """A request pre-flight sends to the script through the dispatcher (docs/preflight.md)."""

    path: Annotated[str, StringConstraints(pattern=r"^/[^\s]*$", max_length=2048)]
    """Path (and query) under the script, starting with ``/``."""
    expect: Annotated[int, Field(ge=100, le=599)] = 200
    """The HTTP status the answer must have."""


class Script(Model):
    """One customer script."""

    main_module: RelPath
    """Path relative to the customer directory."""
    modules: tuple[RelPath, ...] = ()
    """More modules, relative to the customer directory (named so in the bundle)."""
    compatibility_date: CompatDate | None = None
    """Compatibility date (YYYY-MM-DD); the platform's by default."""
    compatibility_flags: tuple[str, ...] | None = None
    """Compatibility flags; the platform's by default."""
    vars: Mapping[VarName, str | int | float | bool] = Field(default_factory=dict)
    """Plain-text (strings) and JSON (numbers, booleans) environment variables."""
    limits: Annotated[Limits | None, ADMIN_ONLY] = None
    """Per-invocation limits over the customer's and the platform's."""
    protect: bool = False
    """Never delete this script, even when its YAML is removed."""
    access: Access = Access.PUBLIC
    """``public``, or ``token``: callers must send a customer token."""
    tags: tuple[Tag, ...] = ()
    """Extra script tags (at most 8 minus the reconciler's own)."""
    d1: Annotated[Mapping[VarName, D1DatabaseId], ADMIN_ONLY] = Field(default_factory=dict)
    """D1 databases bound to the script: binding name (``env.<name>``) -> database id
    (a UUID, or ``${D1_...}`` read from the environment)."""
    secrets: SecretMap | None = None
    """Encrypted secrets (``env.<NAME>``), over the customer's of the same name; when the
    script or its customer has ``secrets``, git manages every secret of the script."""
    assets: Assets | None = None
    """Static assets served with the script (a directory of files)."""
    observability: Annotated[Observability | None, ADMIN_ONLY] = None
    """Workers observability of this script; the customer's or the platform's by default."""
    preflight: SmokeRequest | None = None
    """A smoke request ``--preflight`` sends through the dispatcher (never uploaded)."""


class Customer(Model):
    """``customers/<id>/customer.yaml``."""

    id: CustomerId
    """Customer id; must equal the directory name."""
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    """Display name."""
    plan: Annotated[
        str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=32), ADMIN_ONLY
    ]
    """Plan type (tagged as ``plan-<plan>``)."""
    owners: tuple[Login, ...] = ()
    """Git host logins allowed to change this customer's directory."""
    tokens: tuple[Token, ...] = ()
    """API tokens, stored only as SHA-256 hashes."""
    limits: Annotated[Limits | None, ADMIN_ONLY] = None
    """Limits of every script of this customer, over the platform defaults."""
    outbound: Annotated[OutboundRef | None, ADMIN_ONLY] = None
    """The outbound Worker every fetch() of this customer goes through."""
    suspended: Annotated[bool, ADMIN_ONLY] = False
    """Leave this customer's scripts untouched (skipped by plan and apply)."""
    tail: Annotated[tuple[ScriptName, ...] | Literal[False] | None, ADMIN_ONLY] = None
    """Tail Workers of this customer's scripts: a list of names, or ``false`` for none;
    by default every tail Worker declared with ``all_scripts: true``."""
    logpush: Annotated[bool | None, ADMIN_ONLY] = None
    """Workers Logpush for this customer's scripts; the platform's ``logpush`` by default."""
    # Not admin-only: a customer's secrets are its owners' to change (docs/secrets.md).
    secrets: SecretMap | None = None
    """Encrypted secrets (``env.<NAME>``) of every script of this customer."""
    # Like logpush: log volume costs the platform and the logs are the account's.
    observability: Annotated[Observability | None, ADMIN_ONLY] = None
    """Workers observability of this customer's scripts; the platform's by default."""
    scripts: Annotated[Mapping[ScriptName, Script], Claimed("script name")] = Field(
        default_factory=dict
    )
    """Scripts by Worker name (unique across all customers)."""
    hostnames: Annotated[Mapping[HostnameStr, ScriptName], Claimed("hostname")] = Field(
        default_factory=dict
    )
    """The customer's own domains: hostname -> the script of this customer serving it
    (needs ``custom_hostnames`` in platform.yaml; unique across all customers)."""


@dataclasses.dataclass(frozen=True)
class PlatformRepo:
    """A fully validated platform repository, with the bytes of every module.

    ``files`` maps repository-relative POSIX paths (``customers/basic/hello.mjs``,
    ``platform/platform_module.mjs``) to their content, for every module that any
    script, outbound Worker or the platform references.
    """

    platform: Platform
    customers: tuple[Customer, ...]
    files: Mapping[str, bytes]
    commit: str | None = None
    """The git commit the files were read from, when read from git."""
    assets: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    """Script name -> repository-relative paths of its asset files (bytes in ``files``)."""

    def customer(self, customer_id: str) -> Customer:
        for customer in self.customers:
            if customer.id == customer_id:
                return customer
        raise KeyError(customer_id)


def is_valid_script_name(name: str) -> bool:
    return len(name) <= 63 and _SCRIPT_NAME_RE.match(name) is not None


def customer_tails(platform: Platform, customer: Customer) -> tuple[str, ...]:
    """Names of the tail Workers attached to a customer's scripts, sorted."""
    if customer.tail is False:
        return ()
    if customer.tail is None:
        return tuple(sorted(n for n, w in platform.tail_workers.items() if w.all_scripts))
    return tuple(sorted(set(customer.tail)))


def dispatcher_tails(platform: Platform) -> tuple[str, ...]:
    """Names of the tail Workers attached to the dispatch Worker, sorted."""
    return tuple(sorted(n for n, w in platform.tail_workers.items() if w.dispatcher))


def customer_logpush(platform: Platform, customer: Customer) -> bool:
    """Whether Workers Logpush is on for a customer's scripts."""
    return platform.logpush if customer.logpush is None else customer.logpush


def script_observability(platform: Platform, customer: Customer, script: Script) -> Observability:
    """The observability settings of a script: its own, its customer's, the platform's, or off."""
    for value in (script.observability, customer.observability, platform.observability):
        if value is not None:
            return value
    return Observability(enabled=False)


def dispatcher_logpush(platform: Platform) -> bool:
    """Whether Workers Logpush is on for the dispatch Worker."""
    d = platform.dispatcher
    return platform.logpush if d.logpush is None else d.logpush
