from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import httpx

from wfp_reconcile.cli import main


def test_local_api_serves_the_emulator_until_interrupted(tmp_path):
    env = {**os.environ, "CLOUDFLARE_API_TOKEN": "cli-token-0123456789", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "wfp_reconcile", "local-api", "--port", "0", "--state",
           str(tmp_path / "state"), "--fail-429", "0"]  # fmt: skip
    with subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            match = re.search(r"(http://127\.0\.0\.1:\d+/client/v4)", first)
            assert match, first
            created = httpx.post(
                match.group(1) + "/accounts/a/workers/dispatch/namespaces",
                json={"name": "ns"},
                headers={"Authorization": "Bearer cli-token-0123456789"},
                timeout=10,
            )
            assert created.json()["result"]["namespace_name"] == "ns"
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=10)
    assert (tmp_path / "state" / "emulator.sqlite3").exists()


def test_local_api_without_a_token_says_how_to_give_one(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    assert main(["local-api", "--state", str(tmp_path)]) == 1
    assert "--api-token or CLOUDFLARE_API_TOKEN" in capsys.readouterr().err


def test_local_api_rejects_a_malformed_rate_limit(tmp_path, capsys):
    code = main(
        ["local-api", "--api-token", "t" * 12, "--rate-limit", "x/y", "--state", str(tmp_path)]
    )
    assert code == 1
    assert "N/SECONDS" in capsys.readouterr().err
