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
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "SCRIPT_NAME_PATTERN",
    "Access",
    "Customer",
    "D1Database",
    "Dispatcher",
    "Limits",
    "Model",
    "OutboundRef",
    "OutboundWorker",
    "Platform",
    "PlatformRepo",
    "Routing",
    "Safety",
    "Script",
    "Token",
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


class Model(BaseModel):
    """Base of every configuration model: strict keys, immutable values."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Limits(Model):
    """Per-invocation limits passed to ``env.DISPATCHER.get(..., {limits})``."""

    cpu_ms: Annotated[int, Field(gt=0, le=MAX_CPU_MS)] | None = None
    """CPU milliseconds per invocation (``cpuMs``)."""
    subrequests: Annotated[int, Field(gt=0, le=MAX_SUBREQUESTS)] | None = None
    """Subrequests per invocation (``subRequests``)."""

    def over(self, base: Limits) -> Limits:
        """These limits with unset fields taken from ``base``."""
        return Limits(
            cpu_ms=self.cpu_ms if self.cpu_ms is not None else base.cpu_ms,
            subrequests=self.subrequests if self.subrequests is not None else base.subrequests,
        )


class Routing(StrEnum):
    PATH = "path"
    HOST = "host"


class Access(StrEnum):
    PUBLIC = "public"
    TOKEN = "token"


class OutboundWorker(Model):
    """An outbound (egress) Worker that intercepts customer ``fetch()`` calls."""

    main_module: RelPath
    """Repository-relative path of its main module."""
    modules: tuple[RelPath, ...] = ()
    compatibility_date: CompatDate | None = None
    compatibility_flags: tuple[str, ...] = ()
    parameters: tuple[ParamName, ...] = ()
    """Names of the parameters the dispatcher passes; readable as ``env.<name>``."""


class Dispatcher(Model):
    """The platform's dispatch Worker, generated from these declarations."""

    name: ScriptName = "wfp-dispatcher"
    routing: Routing = Routing.PATH
    domain: str | None = None
    """Hostname suffix for ``routing: host`` (``<script>.<domain>``)."""
    workers_dev: bool = True
    compatibility_date: CompatDate | None = None
    admin_token_sha256: Sha256Hex | None = None
    """SHA-256 of the token that opens the status page at ``/_platform/``."""


class D1Database(Model):
    name: str
    database_id: str
    binding: VarName = "DB"


class Safety(Model):
    """Guards against mass deletion."""

    max_deletes: Annotated[int, Field(ge=0)] = 10
    max_delete_fraction: Annotated[float, Field(ge=0, le=1)] = 0.1


class Platform(Model):
    """``platform.yaml``."""

    account_id: Annotated[str, StringConstraints(min_length=1)]
    namespace: Annotated[str, StringConstraints(min_length=1, max_length=63)]
    management_tag: Tag = "wfp-managed"
    compatibility_date: CompatDate
    compatibility_flags: tuple[str, ...] = ()
    platform_modules: tuple[RelPath, ...] = ()
    """Modules injected into every customer bundle, by repository-relative path."""
    outbound_workers: Mapping[ScriptName, OutboundWorker] = Field(default_factory=dict)
    dispatcher: Dispatcher = Field(default_factory=Dispatcher)
    d1: D1Database | None = None
    default_limits: Limits = Field(default_factory=Limits)
    safety: Safety = Field(default_factory=Safety)
    admins: tuple[Login, ...] = ()
    max_bundle_bytes: Annotated[int, Field(gt=0)] = 10 * 1024 * 1024
    """Upper bound on one script's modules, in bytes (Cloudflare: 10 MB paid)."""


class Token(Model):
    """A customer API token, stored only as its SHA-256."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)]
    sha256: Sha256Hex


class OutboundRef(Model):
    """Which outbound Worker a customer uses and the parameter values it gets."""

    worker: ScriptName
    params: Mapping[ParamName, str | int | bool | list[str]] = Field(default_factory=dict)


class Script(Model):
    """One customer script."""

    main_module: RelPath
    """Path relative to the customer directory."""
    modules: tuple[RelPath, ...] = ()
    compatibility_date: CompatDate | None = None
    compatibility_flags: tuple[str, ...] | None = None
    vars: Mapping[VarName, str | int | float | bool] = Field(default_factory=dict)
    limits: Limits | None = None
    protect: bool = False
    access: Access = Access.PUBLIC
    tags: tuple[Tag, ...] = ()


class Customer(Model):
    """``customers/<id>/customer.yaml``."""

    id: CustomerId
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    plan: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=32)]
    owners: tuple[Login, ...] = ()
    tokens: tuple[Token, ...] = ()
    limits: Limits | None = None
    outbound: OutboundRef | None = None
    suspended: bool = False
    scripts: Mapping[ScriptName, Script] = Field(default_factory=dict)


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

    def customer(self, customer_id: str) -> Customer:
        for customer in self.customers:
            if customer.id == customer_id:
                return customer
        raise KeyError(customer_id)


def is_valid_script_name(name: str) -> bool:
    return len(name) <= 63 and _SCRIPT_NAME_RE.match(name) is not None
