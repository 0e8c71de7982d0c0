"""Secrets: the API token and customer tokens never show up anywhere the tool writes."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from wfp_reconcile.cli import main
from wfp_reconcile.local.emulator import EmulatorServer, FaultConfig, run_emulator
from wfp_reconcile.local.emulator.store import REGULAR
from wfp_reconcile.secrets.age import generate_identity

from .harness import ACCOUNT
from .test_hostile_input import _platform, _write_base

API_TOKEN = "SEKRET-api-token-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
WRONG_TOKEN = "SEKRET-wrong-token-a1b2c3d4e5f60718293a4b5c6d7e8f90"
DECRYPTED = ("sk_live_SEKRET-9a8b7c6d5e4f30211203", "whsec_SEKRET-0a1b2c3d4e5f60718293")
WINDOW = 12  # any 12 characters of a secret count as a leak


def _leaks(text: str, secrets: list[str]) -> list[str]:
    found = []
    for secret in secrets:
        for i in range(len(secret) - WINDOW + 1):
            if secret[i : i + WINDOW] in text:
                found.append(f"{secret[:6]}… at offset {i}")
                break
    return found


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmulatorServer]:
    with run_emulator(tmp_path / "state", api_token=API_TOKEN) as emulator:
        yield emulator


def _delivered_secrets(server: EmulatorServer) -> dict[str, str]:
    """The secret_text values the emulator holds: where decrypted secrets belong."""
    return {
        f"{row.name}.{b['name']}": b["text"]
        for row in server.state.store.list_scripts(ACCOUNT, "hostile-ns")
        for b in row.metadata.get("bindings", [])
        if b.get("type") == "secret_text"
    }


def _stored_bundles(server: EmulatorServer) -> str:
    store = server.state.store
    out = []
    for namespace in ("hostile-ns", REGULAR):
        for row in store.list_scripts(ACCOUNT, namespace):
            # Cloudflare's side keeps secret values (that is the point); everything else
            # stored (other bindings, the manifest, tags, modules) is scanned.
            bindings = [
                {k: v for k, v in b.items() if not (b.get("type") == "secret_text" and k == "text")}
                for b in row.metadata.get("bindings", [])
            ]
            out.append(json.dumps([{**row.metadata, "bindings": bindings}, row.tags]))
            for module in store.get_modules(ACCOUNT, namespace, row.name):
                out.append(module.content.decode("utf-8", "replace"))
                out.append(base64.b64encode(module.content).decode())
    return "\n".join(out)


def _code(version: str) -> str:
    # Changed code apply still uploads (it pre-flights every upload: a fetch handler).
    return f'export default {{ fetch() {{ return new Response("{version}"); }} }};\n'


def test_tokens_never_appear_in_output_logs_errors_plans_or_requests(
    tmp_path: Path,
    server: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = tmp_path / "repo"
    _write_base(repo)
    customer_tokens = []
    for cid, name in (("acme", "ci"), ("acme", "deploy"), ("globex", "ci")):
        assert main(["token", "create", cid, name, "--repo", str(repo)]) == 0
        shown = capsys.readouterr().out.split()[0]  # shown once, by design
        assert len(shown) == 64
        customer_tokens.append(shown)
    # Customer secrets, age-encrypted in git: their decrypted values and the identity.
    identity, recipient = generate_identity()
    wrong_identity, _ = generate_identity()
    _platform(repo, secrets={"recipients": [recipient]})
    decrypted = {"acme-web.STRIPE_KEY": DECRYPTED[0], "globex-web.WEBHOOK_KEY": DECRYPTED[1]}
    monkeypatch.setattr("sys.stdin", io.StringIO(DECRYPTED[0]))
    assert (
        main(["secret", "set", "acme", "--script", "acme-web", "STRIPE_KEY", "--repo", str(repo)])
        == 0
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(DECRYPTED[1]))
    assert main(["secret", "set", "globex", "WEBHOOK_KEY", "--repo", str(repo)]) == 0
    monkeypatch.setenv("WFP_AGE_IDENTITY", identity)
    secrets = [API_TOKEN, WRONG_TOKEN, *customer_tokens, *DECRYPTED, identity, wrong_identity]

    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", API_TOKEN)
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", server.api_base)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
    caplog.set_level(logging.DEBUG)
    plan_file = tmp_path / "plan.json"
    r = ["--repo", str(repo)]
    runs: list[tuple[list[str], set[int]]] = [
        (["validate", *r], {0}),
        (["plan", *r], {0}),
        (["--debug", "plan", *r, "--format", "json"], {0}),
        (["plan", *r, "--format", "markdown"], {0}),
        (["plan", *r, "--out", str(plan_file)], {0}),
        (["--debug", "apply", str(plan_file), *r], {0}),
        (["apply", *r, "--auto-approve"], {0}),
    ]
    transcript: list[str] = []
    for args, codes in runs:
        assert main(args) in codes, args
        captured = capsys.readouterr()
        transcript += [captured.out, captured.err]

    # Failures: a failing upload, persistent 5xx, dropped connections, a wrong token.
    (repo / "customers" / "acme" / "w.mjs").write_text(_code("v2"))
    (repo / "customers" / "globex" / "w.mjs").write_text(_code("v2"))
    server.set_faults(FaultConfig(fail_scripts=("acme-web",), fail_5xx=0.3, seed=1))
    assert main(["--debug", "apply", *r, "--auto-approve"]) == 1
    server.set_faults(FaultConfig(drop=0.5, seed=3))
    assert main(["--debug", "plan", *r]) in (0, 1)
    server.set_faults(FaultConfig())
    # A wrong identity fails the uploads of scripts with secrets, quoting nothing.
    (repo / "customers" / "acme" / "w.mjs").write_text(_code("v3"))
    monkeypatch.setenv("WFP_AGE_IDENTITY", wrong_identity)
    assert main(["--debug", "apply", *r, "--auto-approve"]) == 1
    monkeypatch.setenv("WFP_AGE_IDENTITY", identity)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", WRONG_TOKEN)
    assert main(["--debug", "plan", *r]) == 1
    captured = capsys.readouterr()
    transcript += [captured.out, captured.err]
    assert "Error:" in captured.err  # the failures were reported...
    assert "acme-web" in captured.err
    assert "secret STRIPE_KEY (scripts.acme-web.secrets.STRIPE_KEY) cannot be decrypted" in (
        "\n".join(transcript)
    )

    # ...and a separate process with --debug logging to its real stderr.
    env = {
        "WFP_AGE_IDENTITY": identity,
        "CLOUDFLARE_API_TOKEN": API_TOKEN,
        "CLOUDFLARE_API_BASE_URL": server.api_base,
        "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
        "PATH": "/usr/bin:/bin",
    }
    server.set_faults(FaultConfig(fail_5xx=0.3, seed=2))
    proc = subprocess.run(
        [sys.executable, "-m", "wfp_reconcile", "--debug", "apply", *r, "--auto-approve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "DEBUG" in proc.stderr  # debug logging really was on
    transcript += [proc.stdout, proc.stderr]

    logs = "\n".join(
        f"{rec.getMessage()} {rec.exc_text or ''} {rec.args!r}" for rec in caplog.records
    )
    requests = json.dumps([r.to_json() for r in server.requests()])
    places = {
        "stdout/stderr": "\n".join(transcript),
        "log records": logs,
        "saved plan": plan_file.read_text(),
        "emulator request log": requests,
        "uploaded bundles": _stored_bundles(server),
    }
    assert len(server.requests()) > 20 and len(caplog.records) > 20
    for place, text in places.items():
        assert _leaks(text, secrets) == [], place
    # The dispatcher checks customer tokens by hash: the hashes did reach the namespace.
    for token in customer_tokens:
        assert hashlib.sha256(token.encode()).hexdigest() in places["uploaded bundles"]
    assert any(r.fault == "drop" for r in server.requests())
    # The decrypted secrets did reach the namespace, as secret_text bindings only.
    assert _delivered_secrets(server) == decrypted
