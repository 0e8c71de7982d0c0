"""The files a new platform, customer and script start from."""

from __future__ import annotations

import json
import re

__all__ = [
    "DEFAULT_COMPATIBILITY_DATE",
    "PLATFORM_MODULE",
    "customer_yaml",
    "platform_yaml",
    "script_template",
    "slug",
]

DEFAULT_COMPATIBILITY_DATE = "2024-09-23"

PLATFORM_MODULE = (
    'const platformThing = "This module is provided by the platform"; export { platformThing };'
)
"""The platform module of Cloudflare's Workers for Platforms example, byte for byte."""


def script_template() -> str:
    """The default customer script of Cloudflare's example project."""
    return (
        'import { platformThing } from "./platform_module.mjs";\n'
        "\n"
        "export default {\n"
        "  async fetch(request, env, ctx) {\n"
        '    return new Response("Hello! " + platformThing);\n'
        "  },\n"
        "};\n"
    )


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def customer_yaml(customer_id: str, name: str, plan: str) -> str:
    return (
        "# yaml-language-server: $schema=../../schemas/customer.schema.json\n"
        f"id: {customer_id}\n"
        f"name: {_quote(name)}\n"
        f"plan: {plan}\n"
        "\n"
        "# Git host logins allowed to change this directory.\n"
        "owners: []\n"
        "\n"
        f"# Only SHA-256 hashes live here: `wfp-reconcile token create {customer_id} NAME`.\n"
        "tokens: []\n"
        "\n"
        f"# Add scripts with `wfp-reconcile new script {customer_id} NAME`.\n"
        "scripts: {}\n"
    )


def platform_yaml(namespace: str) -> str:
    return (
        "# yaml-language-server: $schema=schemas/platform.schema.json\n"
        "# File format: docs/format.md of wfp-reconcile.\n"
        "\n"
        "# Environment-specific values come from the environment; never put secrets here.\n"
        "account_id: ${CLOUDFLARE_ACCOUNT_ID}\n"
        f"namespace: ${{WFP_NAMESPACE:-{namespace}}}\n"
        "\n"
        "# Only scripts carrying this tag are ever updated or deleted.\n"
        "management_tag: wfp-managed\n"
        "\n"
        f'compatibility_date: "{DEFAULT_COMPATIBILITY_DATE}"\n'
        "\n"
        '# Injected into every customer bundle; customer code imports "./platform_module.mjs".\n'
        "platform_modules:\n"
        "  - platform/platform_module.mjs\n"
        "\n"
        "dispatcher:\n"
        "  name: wfp-dispatcher\n"
        "  routing: path\n"
        "\n"
        "default_limits:\n"
        "  cpu_ms: 50\n"
        "  subrequests: 50\n"
        "\n"
        "safety:\n"
        "  max_deletes: 10\n"
        "  max_delete_fraction: 0.1\n"
        "\n"
        "# Git host logins allowed to change platform.yaml and platform/.\n"
        "admins: []\n"
    )


def slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return slug[:63] or "wfp-platform"
