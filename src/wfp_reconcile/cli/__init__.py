"""Command line interface: the only package that touches the terminal (with render).

Exit codes are decided here and nowhere else:

====  =====================================================
0     success, or no changes
1     expected error (any ``WfpError``) or bad usage
2     ``--detailed-exitcode`` and there are changes
3     unexpected exception (a bug); ``--debug`` shows the traceback
130   interrupted (Ctrl-C)
====  =====================================================
"""

from __future__ import annotations

import gc
import sys
import traceback

import click

from wfp_reconcile.errors import ConfigError, WfpError, redact

# Importing the command modules registers their commands on the group.
from . import config_cmds, dev_cmd, git_cmds, local_cmds, plan_cmds, status_cmd  # noqa: F401
from .group import cli
from .output import redacted_output
from .secret_cmds import secret as _secret_commands  # noqa: F401

__all__ = ["cli", "entry", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (output redacted of known secrets)."""
    with redacted_output():
        return _main(argv)


def entry() -> None:
    """The process's entry point (the ``wfp-reconcile`` script, ``python -m wfp_reconcile``)."""
    code = main()
    # The process ends here. Python's exit runs one more full collection over the whole
    # heap, a fifth of a 10,000-script plan's CPU: frozen objects are left out of it (and
    # still released). It could only finalize objects in reference cycles, and nothing
    # this tool writes relies on that: every file and connection is closed explicitly.
    gc.freeze()
    raise SystemExit(code)


def _main(argv: list[str] | None) -> int:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        result = cli.main(args=argv, prog_name="wfp-reconcile", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 1
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"Error: {exc.message.splitlines()[0].rstrip(':')}.", err=True)
        return 1
    except WfpError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"Error: {exc.message}", err=True)
        return 1
    except Exception as exc:  # a bug: say so, and where to look
        if debug:
            traceback.print_exc()
        else:
            click.echo(
                f"Internal error: {type(exc).__name__}: {redact(str(exc))[:500]}\n"
                "This is a bug in wfp-reconcile; run again with --debug for the traceback.",
                err=True,
            )
        return 3
    return result if isinstance(result, int) else 0
