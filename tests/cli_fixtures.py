"""What the CLI suites share: the CLI's environment pointed at an emulator, and ``run``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from wfp_reconcile.cli import main
from wfp_reconcile.local.emulator import EmulatorServer


def point_cli_at(monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer, account: str) -> None:
    """The CLI's credentials and API base, as CI would set them, for the emulator."""
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", emulator.api_token)
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", emulator.api_base)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", account)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run the CLI in-process: (exit code, stdout, stderr)."""

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke
