"""Rules within platform.yaml: URL-safe names, routing, unique Worker and module names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath

from wfp_reconcile.config.model import OutboundWorker, TailWorker
from wfp_reconcile.config.yamlread import Loc

from .common import RESERVED_PARAM_NAMES, outbound_modules, reserved_param_reason
from .context import RuleContext

_URL_SEGMENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check(ctx: RuleContext) -> None:
    p, path, doc = ctx.platform.platform, ctx.platform.path, ctx.platform.doc
    # Both end up as URL path segments: '.', '..' or a '/' would address another
    # resource of the API than the one named (after ${VAR} expansion, so checked here).
    for field, value in (("account_id", p.account_id), ("namespace", p.namespace)):
        if not _URL_SEGMENT_RE.match(value):
            ctx.at(
                path,
                doc,
                (field,),
                (
                    f"{field} '{value}' may only contain letters, digits, '-', '_' and "
                    "'.', and must start with a letter or digit"
                ),
            )
    # Host routing needs names to route: <script>.<domain>, custom hostnames, or both.
    if p.dispatcher.routing == "host" and not p.dispatcher.domain and not p.custom_hostnames:
        ctx.at(
            path,
            doc,
            ("dispatcher", "routing"),
            (
                "dispatcher.routing is 'host' but dispatcher.domain is not set; "
                "set the domain that scripts are served under (<script>.<domain>) "
                "or configure custom_hostnames"
            ),
        )
    # The store mode needs a namespace to read from; a namespace without the mode would
    # silently be ignored, which hides a half-done switch.
    if p.dispatcher.routing_data == "store" and p.dispatcher.routing_store is None:
        ctx.at(
            path,
            doc,
            ("dispatcher", "routing_data"),
            (
                "dispatcher.routing_data is 'store' but dispatcher.routing_store is not set; "
                "name the Workers KV namespace (routing_store.kv_namespace_id)"
            ),
        )
    if p.dispatcher.routing_data == "manifest" and p.dispatcher.routing_store is not None:
        ctx.at(
            path,
            doc,
            ("dispatcher", "routing_store"),
            (
                "dispatcher.routing_store is set but dispatcher.routing_data is 'manifest'; "
                "set routing_data: store to use it, or remove it"
            ),
            key=True,
        )
    if p.dispatcher.name in p.outbound_workers:
        ctx.at(
            path,
            doc,
            ("outbound_workers", p.dispatcher.name),
            (f"outbound Worker '{p.dispatcher.name}' has the dispatcher's name; rename one"),
            key=True,
        )
    for tail_name in p.tail_workers:
        other = None
        if tail_name == p.dispatcher.name:
            other = "the dispatcher's name"
        elif tail_name in p.outbound_workers:
            other = "the name of an outbound Worker"
        if other:
            ctx.at(
                path,
                doc,
                ("tail_workers", tail_name),
                f"tail Worker '{tail_name}' has {other}; Worker names must be unique",
                key=True,
            )
    seen: dict[str, int] = {}
    for i, module in enumerate(p.platform_modules):
        name = PurePosixPath(module).name
        if name in seen:
            ctx.at(
                path,
                doc,
                ("platform_modules", i),
                (
                    f"platform module file name '{name}' is already used by "
                    f"platform_modules[{seen[name]}]; modules are imported by file name"
                ),
            )
        seen.setdefault(name, i)
    groups: list[tuple[str, str, Mapping[str, OutboundWorker | TailWorker]]] = [
        ("outbound_workers", "outbound", p.outbound_workers),
        ("tail_workers", "tail", p.tail_workers),
    ]
    for key, label, workers in groups:
        for worker_name, any_worker in workers.items():
            names: dict[str, int] = {}
            for i, (name, _) in enumerate(outbound_modules(any_worker)):
                if name in names:
                    loc: Loc = (key, worker_name, "modules", i - 1)
                    ctx.at(
                        path,
                        doc,
                        loc,
                        (
                            f"{label} Worker '{worker_name}' has two modules named '{name}'; "
                            "module file names must be unique within a Worker"
                        ),
                    )
                names.setdefault(name, i)
    for worker_name, worker in p.outbound_workers.items():
        for i, param in enumerate(worker.parameters):
            reason = reserved_param_reason(param)
            # Declaring what the dispatcher sets anyway documents the Worker's env.
            if reason and param not in RESERVED_PARAM_NAMES:
                loc = ("outbound_workers", worker_name, "parameters", i)
                ctx.at(path, doc, loc, f"parameter {reason}; remove it from the list")
