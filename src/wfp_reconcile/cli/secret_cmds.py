"""``secret set|rm|rotate-recipients|keygen``: customer secrets, age-encrypted in git."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from wfp_reconcile.errors import SecretError
from wfp_reconcile.secrets.age import generate_identity
from wfp_reconcile.secrets.identity import ENV_IDENTITY, ENV_IDENTITY_FILE, identities_from_env

from .group import cli, repo_option

# The file editing (wfp_reconcile.secrets.edit, the scaffold and their YAML editor) is
# imported by the commands that edit files, not by every command of the CLI.

__all__ = ["cli"]

script_option = click.option(
    "--script",
    "script",
    default=None,
    metavar="NAME",
    help="Set it for this script only (it overrides the customer's of the same name).",
)


@cli.group()
def secret() -> None:
    """Customer secrets, encrypted with age to platform.yaml's recipients."""


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        value: str = click.prompt(
            f"Value of {name}", hide_input=True, confirmation_prompt=True, err=True
        )
        return value
    # One trailing newline is what `echo` adds; the value is everything before it.
    text = sys.stdin.read()
    return text.removesuffix("\n").removesuffix("\r")


@secret.command("set")
@click.argument("customer_id", metavar="CUSTOMER")
@click.argument("name", metavar="SECRET")
@script_option
@repo_option
def secret_set(customer_id: str, name: str, script: str | None, repo: Path) -> int:
    """Encrypt a value read from stdin (or a prompt without echo) as SECRET of CUSTOMER."""
    from wfp_reconcile.config.scaffold import write_files
    from wfp_reconcile.secrets.edit import plan_set

    write = plan_set(repo, customer_id, name, _read_value(name), script=script)
    write_files((write,))
    where = f"script '{script}'" if script else f"customer '{customer_id}'"
    click.echo(f"Encrypted secret {name} for {where} into {write.path}.", err=True)
    return 0


@secret.command("rm")
@click.argument("customer_id", metavar="CUSTOMER")
@click.argument("name", metavar="SECRET")
@script_option
@repo_option
def secret_rm(customer_id: str, name: str, script: str | None, repo: Path) -> int:
    """Remove SECRET; the next apply removes it from Cloudflare too."""
    from wfp_reconcile.config.scaffold import write_files
    from wfp_reconcile.secrets.edit import plan_rm

    write = plan_rm(repo, customer_id, name, script=script)
    write_files((write,))
    click.echo(f"Removed secret {name} from {write.path}.", err=True)
    return 0


@secret.command("rotate-recipients")
@repo_option
def secret_rotate(repo: Path) -> int:
    """Re-encrypt every secret to platform.yaml's recipients (needs an identity)."""
    from wfp_reconcile.config.scaffold import write_files
    from wfp_reconcile.secrets.edit import plan_rotation

    identities = identities_from_env(os.environ)
    if identities is None:
        raise SecretError(
            f"set {ENV_IDENTITY} (or {ENV_IDENTITY_FILE}) to an identity that decrypts the "
            "current values"
        )
    rotation = plan_rotation(repo, identities)
    write_files(rotation.writes)
    for write in rotation.writes:
        click.echo(f"updated {write.path}")
    click.echo(
        f"Re-encrypted {rotation.values} value(s) in {len(rotation.writes)} file(s).", err=True
    )
    return 0


@secret.command("keygen")
def secret_keygen() -> int:
    """Make an age identity: the identity on stdout, its recipient on stderr."""
    identity, recipient = generate_identity()
    click.echo(identity)
    click.echo(
        f"Recipient (public; add it to platform.yaml secrets.recipients): {recipient}\n"
        f"Keep the identity above only in the CI secret {ENV_IDENTITY}; never commit it.",
        err=True,
    )
    return 0
