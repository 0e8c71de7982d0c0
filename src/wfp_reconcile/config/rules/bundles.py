"""Module names within a bundle are unique and the bundle fits max_bundle_bytes."""

from __future__ import annotations

from pathlib import PurePosixPath

from wfp_reconcile.config.yamlread import Loc

from .common import script_modules
from .context import RuleContext


def check(ctx: RuleContext) -> None:
    p = ctx.platform.platform
    platform_names = {PurePosixPath(path).name for path in p.platform_modules}
    for entry in ctx.customers:
        for name, script in entry.customer.scripts.items():
            modules = script_modules(entry.directory, script, p)
            customer_part = modules[: 1 + len(script.modules)]
            seen: set[str] = set()
            for i, (module_name, _) in enumerate(customer_part):
                loc: Loc = (
                    ("scripts", name, "main_module")
                    if i == 0
                    else ("scripts", name, "modules", i - 1)
                )
                if module_name in platform_names:
                    ctx.at(
                        entry.path,
                        entry.doc,
                        loc,
                        (
                            f"module '{module_name}' has the name of a platform module; "
                            "rename the file"
                        ),
                    )
                elif module_name in seen:
                    ctx.at(
                        entry.path,
                        entry.doc,
                        loc,
                        (f"module '{module_name}' is listed twice in script '{name}'"),
                    )
                seen.add(module_name)
            unique_paths = {path for _, path in modules}
            if any(path not in ctx.sizes for path in unique_paths):
                continue  # already reported as unreadable
            total = sum(ctx.sizes[path] for path in unique_paths)
            if total > p.max_bundle_bytes:
                ctx.at(
                    entry.path,
                    entry.doc,
                    ("scripts", name),
                    (
                        f"script '{name}' bundles {total} bytes (with platform modules), more "
                        f"than max_bundle_bytes ({p.max_bundle_bytes}); make it smaller"
                    ),
                    key=True,
                )
