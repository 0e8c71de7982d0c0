"""A small platform repository with age recipients (the demo one by default)."""

from __future__ import annotations

from pathlib import Path

from wfp_reconcile.secrets.identity import DEMO_IDENTITY, DEMO_RECIPIENT

ACCOUNT = "0123456789abcdef0123456789abcdef"
PLAINTEXT = "sk_live_SEKRET-0f1e2d3c4b5a6978"
"""A value that must never appear anywhere but workerd's env."""


def platform_yaml(recipients: list[str]) -> str:
    listed = "".join(f"    - {r}\n" for r in recipients)
    return (
        f'account_id: "{ACCOUNT}"\n'
        "namespace: secrets-ns\n"
        'compatibility_date: "2024-09-23"\n'
        "admins: [admin]\n"
        "dispatcher:\n  name: sec-dispatcher\n"
        "secrets:\n  recipients:\n" + listed
    )


CUSTOMER_YAML = """\
# Acme's file: comments and order must survive edits.
id: acme
name: Acme
plan: basic
owners: [acme-dev]

# The scripts.
scripts:
  acme-pay:
    main_module: pay.mjs  # reads env.STRIPE_KEY
    vars:
      MODE: live
  acme-web:
    main_module: web.mjs
"""

PAY_MJS = """\
export default {
  async fetch(request, env) {
    const key = env.STRIPE_KEY ?? "";
    return Response.json({ has: key.length > 0, len: key.length, mode: env.MODE,
      prefix: key.slice(0, 3), others: Object.keys(env).filter((k) => k.endsWith("_KEY")) });
  },
};
"""
WEB_MJS = 'export default { fetch() { return new Response("web"); } };\n'


def write_secret_repo(root: Path, recipients: list[str] | None = None) -> Path:
    files = {
        "platform.yaml": platform_yaml(recipients or [DEMO_RECIPIENT]),
        "customers/acme/customer.yaml": CUSTOMER_YAML,
        "customers/acme/pay.mjs": PAY_MJS,
        "customers/acme/web.mjs": WEB_MJS,
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


__all__ = ["ACCOUNT", "DEMO_IDENTITY", "DEMO_RECIPIENT", "PLAINTEXT", "write_secret_repo"]
