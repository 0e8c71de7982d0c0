"""Secrets through plan and apply against the emulator over HTTP: added, changed,
removed, kept when undeclared (keep_bindings), and a wrong identity failing one script."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from wfp_reconcile.cli import main
from wfp_reconcile.errors import SecretError
from wfp_reconcile.local.emulator import EmulatorServer
from wfp_reconcile.secrets.age import encrypt, generate_identity
from wfp_reconcile.secrets.delivery import SecretKeys
from wfp_reconcile.secrets.identity import DEMO_IDENTITY, DEMO_RECIPIENT

from .helpers import ACCOUNT, PLAINTEXT, write_secret_repo

NS = "secrets-ns"
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def identity() -> tuple[str, str]:
    return generate_identity()


@pytest.fixture
def repo(tmp_path: Path, identity: tuple[str, str]) -> Path:
    return write_secret_repo(tmp_path / "repo", [identity[1]])


@pytest.fixture
def run(
    emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Run:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", emulator.api_token)
    monkeypatch.setenv("CLOUDFLARE_API_BASE_URL", emulator.api_base)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
    monkeypatch.delenv("WFP_AGE_IDENTITY", raising=False)
    monkeypatch.delenv("WFP_AGE_IDENTITY_FILE", raising=False)

    def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(args))
        out = capsys.readouterr()
        assert PLAINTEXT not in out.out + out.err  # never, whatever the command
        return code, out.out, out.err

    return invoke


def _bindings(emulator: EmulatorServer, script: str) -> dict[str, dict[str, Any]]:
    row = emulator.state.store.get_script(ACCOUNT, NS, script)
    assert row is not None
    return {b["name"]: b for b in row.metadata.get("bindings", [])}


def _secret_texts(emulator: EmulatorServer, script: str) -> dict[str, str]:
    return {
        n: b["text"] for n, b in _bindings(emulator, script).items() if b["type"] == "secret_text"
    }


def test_added_changed_removed_without_identity_in_plans(
    repo: Path,
    identity: tuple[str, str],
    run: Run,
    emulator: EmulatorServer,
    emulator_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r = ["--repo", str(repo)]
    assert (
        run("secret", "set", "acme", "--script", "acme-pay", "STRIPE_KEY", *r, stdin=PLAINTEXT)[0]
        == 0
    )

    # A pull request's plan: no identity at all.
    code, out, err = run("plan", *r, "--detailed-exitcode")
    assert code == 2, err
    assert "secret STRIPE_KEY: added" in out
    monkeypatch.setenv("WFP_AGE_IDENTITY", identity[0])
    code, out, err = run("apply", *r, "--auto-approve")
    assert code == 0, err
    assert _secret_texts(emulator, "acme-pay") == {"STRIPE_KEY": PLAINTEXT}
    # Cloudflare's settings list the secret without its value.
    settings = emulator_client.get_script_settings(NS, "acme-pay")
    listed = [b for b in settings["bindings"] if b["type"] == "secret_text"]
    assert listed == [{"type": "secret_text", "name": "STRIPE_KEY"}]
    monkeypatch.delenv("WFP_AGE_IDENTITY")
    assert run("plan", *r, "--detailed-exitcode")[0] == 0

    # The same value encrypted again is an update, and the plan says why.
    assert (
        run("secret", "set", "acme", "--script", "acme-pay", "STRIPE_KEY", *r, stdin=PLAINTEXT)[0]
        == 0
    )
    assert (
        run("secret", "set", "acme", "--script", "acme-pay", "OTHER_KEY", *r, stdin="o" * 20)[0]
        == 0
    )
    code, out, _ = run("plan", *r, "--detailed-exitcode")
    assert code == 2
    assert "secret STRIPE_KEY: changed (new ciphertext: a new value, or the same value" in out
    assert "secret OTHER_KEY: added" in out
    assert "__wfp_secrets" not in out
    code, out, _ = run("plan", *r, "--format", "markdown")
    assert "secret STRIPE_KEY: changed" in out
    monkeypatch.setenv("WFP_AGE_IDENTITY", identity[0])
    assert run("apply", *r, "--auto-approve")[0] == 0
    assert set(_secret_texts(emulator, "acme-pay")) == {"STRIPE_KEY", "OTHER_KEY"}

    # Removing it from git removes it from Cloudflare.
    assert run("secret", "rm", "acme", "--script", "acme-pay", "STRIPE_KEY", *r)[0] == 0
    code, out, _ = run("plan", *r, "--detailed-exitcode")
    assert code == 2 and "secret STRIPE_KEY: removed" in out
    assert run("apply", *r, "--auto-approve")[0] == 0
    assert set(_secret_texts(emulator, "acme-pay")) == {"OTHER_KEY"}
    assert run("plan", *r, "--detailed-exitcode")[0] == 0


def _put_out_of_band(emulator: EmulatorServer, script: str) -> None:
    """What `wrangler secret put` does: the secrets API (the emulator's, over HTTP)."""
    url = (
        f"{emulator.api_base}/accounts/{ACCOUNT}/workers/dispatch/namespaces/{NS}"
        f"/scripts/{script}/secrets"
    )
    body = {"name": "OOB_KEY", "text": "out-of-band-value", "type": "secret_text"}
    headers = {"Authorization": f"Bearer {emulator.api_token}"}
    response = httpx.put(url, json=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text


def test_undeclared_secrets_are_kept_and_declaring_secrets_takes_them_over(
    repo: Path,
    identity: tuple[str, str],
    run: Run,
    emulator: EmulatorServer,
    emulator_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r = ["--repo", str(repo)]
    assert run("apply", *r, "--auto-approve")[0] == 0  # no secrets: no identity needed
    _put_out_of_band(emulator, "acme-web")
    (repo / "customers/acme/web.mjs").write_text("export default { fetch() { return 1; } };\n")
    assert run("apply", *r, "--auto-approve")[0] == 0
    assert _secret_texts(emulator, "acme-web") == {"OOB_KEY": "out-of-band-value"}  # kept

    # Declaring secrets (even none) makes git the whole truth for this customer's scripts.
    path = repo / "customers/acme/customer.yaml"
    path.write_text(
        path.read_text().replace("owners: [acme-dev]\n", "owners: [acme-dev]\nsecrets: {}\n")
    )
    code, out, _ = run("plan", *r, "--detailed-exitcode")
    assert code == 2
    assert "secret OOB_KEY: removed (it was set out of band)" in out
    assert run("apply", *r, "--auto-approve")[0] == 0
    assert _secret_texts(emulator, "acme-web") == {}
    assert run("plan", *r, "--detailed-exitcode")[0] == 0


def test_a_value_for_another_identity_fails_only_its_script(
    tmp_path: Path, run: Run, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, ours_recipient = generate_identity()
    _, theirs = generate_identity()
    repo = write_secret_repo(tmp_path / "repo", [ours_recipient])
    path = repo / "customers/acme/customer.yaml"
    good = encrypt(PLAINTEXT, [ours_recipient])
    wrong = encrypt("wrong-recipient-value", [theirs])
    text = path.read_text()
    text = text.replace(
        "      MODE: live\n",
        "      MODE: live\n    secrets:\n      STRIPE_KEY: |\n" + _indent(wrong),
    ).replace(
        "    main_module: web.mjs\n",
        "    main_module: web.mjs\n    secrets:\n      WEB_KEY: |\n" + _indent(good),
    )
    path.write_text(text)
    r = ["--repo", str(repo)]
    assert run("validate", *r)[0] == 0  # the header cannot tell whose key it is

    monkeypatch.setenv("WFP_AGE_IDENTITY", ours)
    code, out, err = run("apply", *r, "--auto-approve")
    assert code == 1
    assert (
        "customers/acme/customer.yaml: secret STRIPE_KEY (scripts.acme-pay.secrets.STRIPE_KEY) "
        "cannot be decrypted with the given identity"
    ) in out + err
    assert emulator.state.store.get_script(ACCOUNT, NS, "acme-pay") is None
    assert _secret_texts(emulator, "acme-web") == {"WEB_KEY": PLAINTEXT}  # the other went out
    assert ours not in out + err


def _indent(armor: str) -> str:
    return "".join(f"        {line}\n" for line in armor.strip().splitlines())


def test_demo_identity_and_demo_recipient_are_refused_off_the_local_emulator() -> None:
    from wfp_reconcile.secrets.declared import DeclaredSecret

    value = DeclaredSecret(
        "K", encrypt(PLAINTEXT, [DEMO_RECIPIENT]), "customers/a/customer.yaml", "secrets.K"
    )
    remote = "https://api.cloudflare.com/client/v4"
    with pytest.raises(SecretError, match="public demo recipient"):
        SecretKeys(api_base=remote, recipients=[DEMO_RECIPIENT], env={}).reveal([value])
    with pytest.raises(SecretError, match="public demo identity"):
        SecretKeys(api_base=remote, env={"WFP_AGE_IDENTITY": DEMO_IDENTITY}).reveal([value])
    with pytest.raises(SecretError, match="no identity"):
        SecretKeys(api_base=remote, env={}, demo_fallback=True).reveal([value])
    local = SecretKeys(
        api_base="http://127.0.0.1:8788", recipients=[DEMO_RECIPIENT], env={}, demo_fallback=True
    )
    assert local.reveal([value]) == [{"type": "secret_text", "name": "K", "text": PLAINTEXT}]
    assert json.dumps(value.__repr__()).find(PLAINTEXT) == -1


@pytest.mark.workerd
def test_a_skipped_upload_keeps_its_secrets_and_names_no_value(
    repo: Path,
    identity: tuple[str, str],
    run: Run,
    emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from wfp_reconcile.preflight.upload_gate import gate_enabled

    if not gate_enabled():
        pytest.skip("the local runtime is not installed")
    r = ["--repo", str(repo)]
    assert (
        run("secret", "set", "acme", "--script", "acme-pay", "STRIPE_KEY", *r, stdin=PLAINTEXT)[0]
        == 0
    )
    monkeypatch.setenv("WFP_AGE_IDENTITY", identity[0])
    assert run("apply", *r, "--auto-approve")[0] == 0
    # A broken version that would read the secret: pre-flight skips it before any
    # secret is decrypted into an upload (the run fixture checks no output has it).
    (repo / "customers" / "acme" / "pay.mjs").write_text(
        "const key = env.STRIPE_KEY;\nexport default { fetch() { return new Response(key); } };\n"
    )

    code, out, err = run("apply", *r, "--auto-approve")

    assert code == 1, out + err
    assert "skipped: update script acme-pay" in out
    assert "customers/acme/pay.mjs:1:" in out and "env is not defined" in out
    assert _secret_texts(emulator, "acme-pay") == {"STRIPE_KEY": PLAINTEXT}
