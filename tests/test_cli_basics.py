from __future__ import annotations

from wfp_reconcile import __version__
from wfp_reconcile.cli import main


def test_version_prints_the_package_version(capsys):
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_unknown_command_exits_1(capsys):
    assert main(["no-such-command"]) == 1
    assert "No such command" in capsys.readouterr().err
