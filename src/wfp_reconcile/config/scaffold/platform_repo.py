"""``new platform``: a whole new platform repository."""

from __future__ import annotations

from pathlib import Path

from wfp_reconcile.config.loader import CUSTOMER_FILE, CUSTOMERS_DIR, PLATFORM_FILE
from wfp_reconcile.config.schema import json_schemas, render_schema

from .templates import PLATFORM_MODULE, customer_yaml, platform_yaml, script_template, slug
from .writes import FileWrite, fail

__all__ = ["plan_new_platform"]


def plan_new_platform(dest: Path) -> tuple[FileWrite, ...]:
    """A new platform repository in ``dest`` (which must be empty or absent)."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise fail(str(dest), "already exists and is not an empty directory; choose a new one")
    customer_id = "example"
    writes = [
        FileWrite(dest / PLATFORM_FILE, platform_yaml(slug(dest.resolve().name))),
        FileWrite(dest / "platform" / "platform_module.mjs", PLATFORM_MODULE),
        FileWrite(
            dest / CUSTOMERS_DIR / customer_id / CUSTOMER_FILE,
            customer_yaml(customer_id, "Example customer", "basic").replace(
                "scripts: {}\n", "scripts:\n  example-hello:\n    main_module: example-hello.mjs\n"
            ),
        ),
        FileWrite(dest / CUSTOMERS_DIR / customer_id / "example-hello.mjs", script_template()),
    ]
    writes += [
        FileWrite(dest / "schemas" / name, render_schema(schema))
        for name, schema in json_schemas().items()
    ]
    return tuple(writes)
