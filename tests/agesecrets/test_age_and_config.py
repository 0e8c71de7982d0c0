"""age values in the model: encrypt/decrypt, armor checks, validation with positions,
and plaintext never quoted back."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from wfp_reconcile.cli import main
from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.errors import ConfigError, SecretError
from wfp_reconcile.secrets.age import (
    ArmorProblem,
    decrypt,
    encrypt,
    generate_identity,
    inspect_armor,
    parse_identities,
)
from wfp_reconcile.secrets.declared import script_secrets
from wfp_reconcile.secrets.identity import DEMO_IDENTITY, DEMO_RECIPIENT, identities_from_env

from .helpers import PLAINTEXT, write_secret_repo


def _problems(repo: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_repo_dir(repo)
    return [str(p) for p in info.value.problems]


def _indent(armor: str, spaces: int) -> str:
    pad = " " * spaces
    return "".join(pad + line + "\n" for line in armor.strip().splitlines())


def _add_script_secret(repo: Path, name: str, armor_or_text: str, *, block: bool = True) -> None:
    path = repo / "customers/acme/customer.yaml"
    text = path.read_text()
    value = "|\n" + _indent(armor_or_text, 8) if block else armor_or_text + "\n"
    anchor = "    vars:\n      MODE: live\n"
    text = text.replace(anchor, f"{anchor}    secrets:\n      {name}: {value}")
    path.write_text(text)


def test_round_trip_and_header_counts_x25519_stanzas() -> None:
    _, second = generate_identity()
    armor = encrypt(PLAINTEXT, [DEMO_RECIPIENT, second])
    assert PLAINTEXT not in armor
    info = inspect_armor(armor)
    assert info.x25519_count == 2  # grease stanzas are not counted
    assert info.other_types == ()
    assert decrypt(armor, parse_identities(DEMO_IDENTITY, origin="t")) == PLAINTEXT


def test_wrong_identity_and_damage_are_clear_and_quote_nothing() -> None:
    armor = encrypt(PLAINTEXT, [DEMO_RECIPIENT])
    wrong, _ = generate_identity()
    with pytest.raises(SecretError, match="encrypted to other recipients") as info:
        decrypt(armor, parse_identities(wrong, origin="t"))
    assert wrong not in str(info.value)
    lines = armor.splitlines()
    damaged = "\n".join([lines[0], lines[1][:-4] + "AAAA", *lines[2:]])
    with pytest.raises((SecretError, ArmorProblem)):
        inspect_armor(damaged)
        decrypt(damaged, parse_identities(DEMO_IDENTITY, origin="t"))
    with pytest.raises(ArmorProblem, match="does not start"):
        inspect_armor(PLAINTEXT)


def test_identity_from_env_inline_file_and_bad(tmp_path: Path) -> None:
    assert identities_from_env({}) is None
    assert identities_from_env({"WFP_AGE_IDENTITY": DEMO_IDENTITY})
    file = tmp_path / "id.txt"
    file.write_text(f"# created: today\n# public key: {DEMO_RECIPIENT}\n{DEMO_IDENTITY}\n")
    assert identities_from_env({"WFP_AGE_IDENTITY_FILE": str(file)})
    with pytest.raises(SecretError, match="holds no age identity"):
        identities_from_env({"WFP_AGE_IDENTITY": "not-an-identity"})
    with pytest.raises(SecretError, match="cannot be read"):
        identities_from_env({"WFP_AGE_IDENTITY_FILE": str(tmp_path / "missing")})


def test_plaintext_where_ciphertext_belongs_is_an_error_with_position_and_hint(
    secret_repo: Path,
) -> None:
    _add_script_secret(secret_repo, "STRIPE_KEY", PLAINTEXT, block=False)
    problems = _problems(secret_repo)
    assert len(problems) == 1
    assert re.match(r"customers/acme/customer.yaml:14:\d+: ", problems[0]), problems
    assert "plaintext never belongs in git" in problems[0]
    assert "wfp-reconcile secret set" in problems[0]
    assert PLAINTEXT not in problems[0] and PLAINTEXT[:12] not in problems[0]


def test_numbers_identities_and_recipients_are_refused_without_quoting(
    secret_repo: Path,
) -> None:
    _add_script_secret(secret_repo, "PIN", "123456789", block=False)
    problems = _problems(secret_repo)
    assert "123456789" not in problems[0] and "not a int value" in problems[0]
    write_secret_repo(secret_repo)
    _add_script_secret(secret_repo, "KEY", DEMO_IDENTITY, block=False)
    problems = _problems(secret_repo)
    assert "is an age identity (a private key)" in problems[0]
    assert DEMO_IDENTITY[16:40] not in problems[0]
    write_secret_repo(secret_repo)
    _add_script_secret(secret_repo, "KEY", DEMO_RECIPIENT, block=False)
    assert "is an age recipient" in _problems(secret_repo)[0]


def test_damaged_armor_and_recipient_count(secret_repo: Path) -> None:
    armor = encrypt(PLAINTEXT, [DEMO_RECIPIENT])
    lines = armor.strip().splitlines()
    _add_script_secret(secret_repo, "STRIPE_KEY", "\n".join(lines[:2] + lines[3:]))
    assert "armor lines must have 64 characters" in _problems(secret_repo)[0] or (
        "not a well-formed age value" in _problems(secret_repo)[0]
    )
    write_secret_repo(secret_repo)
    _, other = generate_identity()
    _add_script_secret(secret_repo, "STRIPE_KEY", encrypt(PLAINTEXT, [DEMO_RECIPIENT, other]))
    problems = _problems(secret_repo)
    assert "encrypted to 2 recipient(s), but platform.yaml:" in problems[0]
    assert "rotate-recipients" in problems[0]


def test_names_collide_with_vars_and_reserved_names(secret_repo: Path) -> None:
    _add_script_secret(secret_repo, "MODE", encrypt(PLAINTEXT, [DEMO_RECIPIENT]))
    problems = _problems(secret_repo)
    assert "secret 'MODE' has the name of a var of script 'acme-pay'" in problems[0]
    write_secret_repo(secret_repo)
    _add_script_secret(secret_repo, "__X", encrypt(PLAINTEXT, [DEMO_RECIPIENT]))
    assert "is reserved" in _problems(secret_repo)[0]
    write_secret_repo(secret_repo)
    _add_script_secret(secret_repo, "bad-name", encrypt(PLAINTEXT, [DEMO_RECIPIENT]))
    assert "identifier" in _problems(secret_repo)[0]


def test_no_recipients_and_duplicate_recipients(tmp_path: Path) -> None:
    repo = write_secret_repo(tmp_path / "r", [DEMO_RECIPIENT, DEMO_RECIPIENT])
    assert "listed twice" in _problems(repo)[0]
    platform = repo / "platform.yaml"
    platform.write_text(platform.read_text().split("secrets:")[0])
    _add_script_secret(repo, "STRIPE_KEY", encrypt(PLAINTEXT, [DEMO_RECIPIENT]))
    assert "declares no secrets.recipients" in _problems(repo)[0]


def _cli(args: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(args)


def test_secret_set_rm_keep_comments_and_script_overrides_customer(
    secret_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    r = ["--repo", str(secret_repo)]
    assert _cli(["secret", "set", "acme", "STRIPE_KEY", *r], "customer-wide\n", monkeypatch) == 0
    assert (
        _cli(
            ["secret", "set", "acme", "--script", "acme-pay", "STRIPE_KEY", *r],
            PLAINTEXT + "\n",
            monkeypatch,
        )
        == 0
    )
    out = capsys.readouterr()
    assert PLAINTEXT not in out.out + out.err
    text = (secret_repo / "customers/acme/customer.yaml").read_text()
    assert text.startswith("# Acme's file: comments and order must survive edits.\n")
    assert "# The scripts.\n" in text and "# reads env.STRIPE_KEY" in text
    assert text.index("owners:") < text.index("secrets:") < text.index("# The scripts.")
    assert PLAINTEXT not in text
    repo = load_repo_dir(secret_repo)
    acme = repo.customer("acme")
    ids = parse_identities(DEMO_IDENTITY, origin="t")
    pay = script_secrets(acme, "acme-pay", acme.scripts["acme-pay"])
    web = script_secrets(acme, "acme-web", acme.scripts["acme-web"])
    assert pay is not None and web is not None
    assert decrypt(pay[0].ciphertext, ids) == PLAINTEXT  # the script's wins
    assert pay[0].key == "scripts.acme-pay.secrets.STRIPE_KEY"
    assert decrypt(web[0].ciphertext, ids) == "customer-wide"
    assert PLAINTEXT not in repr(pay)

    assert main(["secret", "rm", "acme", "--script", "acme-pay", "STRIPE_KEY", *r]) == 0
    assert main(["secret", "rm", "acme", "STRIPE_KEY", *r]) == 0
    text = (secret_repo / "customers/acme/customer.yaml").read_text()
    assert "secrets: {}" in text  # stays managed: the next apply removes them
    acme = load_repo_dir(secret_repo).customer("acme")
    assert script_secrets(acme, "acme-web", acme.scripts["acme-web"]) == ()
    assert main(["secret", "rm", "acme", "NOPE", *r]) == 1
    assert "declares no secret 'NOPE'" in capsys.readouterr().err


def test_set_refuses_bad_names_and_empty_values_writing_nothing(
    secret_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (secret_repo / "customers/acme/customer.yaml").read_text()
    r = ["--repo", str(secret_repo)]
    assert _cli(["secret", "set", "acme", "bad-name", *r], "x", monkeypatch) == 1
    assert _cli(["secret", "set", "acme", "EMPTY", *r], "\n", monkeypatch) == 1
    assert _cli(["secret", "set", "acme", "--script", "nope", "K", *r], "x", monkeypatch) == 1
    args = ["secret", "set", "acme", "MODE", "--script", "acme-pay", *r]
    assert _cli(args, "x", monkeypatch) == 1
    err = capsys.readouterr().err
    assert "not a valid secret name" in err and "is empty" in err and "no script 'nope'" in err
    assert (secret_repo / "customers/acme/customer.yaml").read_text() == before


def test_keygen_and_rotate_recipients(
    secret_repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    r = ["--repo", str(secret_repo)]
    assert _cli(["secret", "set", "acme", "STRIPE_KEY", *r], PLAINTEXT, monkeypatch) == 0
    capsys.readouterr()
    assert main(["secret", "keygen"]) == 0
    out = capsys.readouterr()
    new_identity = out.out.strip()
    new_recipient = out.err.split("recipients): ")[1].split()[0]
    assert new_identity.startswith("AGE-SECRET-KEY-1") and new_recipient.startswith("age1")
    # Step 1 of a rotation: add the new recipient; old values now fail validation.
    platform = secret_repo / "platform.yaml"
    platform.write_text(platform.read_text() + f"    - {new_recipient}\n")
    assert main(["validate", *r]) == 1
    assert "encrypted to 1 recipient(s)" in capsys.readouterr().err
    # Step 2: rotate with an identity that opens the old values.
    monkeypatch.delenv("WFP_AGE_IDENTITY", raising=False)
    monkeypatch.delenv("WFP_AGE_IDENTITY_FILE", raising=False)
    assert main(["secret", "rotate-recipients", *r]) == 1
    assert "set WFP_AGE_IDENTITY" in capsys.readouterr().err
    monkeypatch.setenv("WFP_AGE_IDENTITY", new_identity)
    assert main(["secret", "rotate-recipients", *r]) == 1  # the new one opens nothing yet
    err = capsys.readouterr().err
    assert "customers/acme/customer.yaml (secrets.STRIPE_KEY)" in err
    assert new_identity not in err
    monkeypatch.setenv("WFP_AGE_IDENTITY", DEMO_IDENTITY)
    assert main(["secret", "rotate-recipients", *r]) == 0
    assert main(["validate", *r]) == 0
    # Step 3: drop the old recipient, rotate with the new identity.
    platform.write_text(platform.read_text().replace(f"    - {DEMO_RECIPIENT}\n", ""))
    monkeypatch.setenv("WFP_AGE_IDENTITY", new_identity)
    assert main(["secret", "rotate-recipients", *r]) == 0
    assert main(["validate", *r]) == 0
    acme = load_repo_dir(secret_repo).customer("acme")
    value = script_secrets(acme, "acme-web", acme.scripts["acme-web"])
    assert value is not None
    assert decrypt(value[0].ciphertext, parse_identities(new_identity, origin="t")) == PLAINTEXT
    with pytest.raises(SecretError):
        decrypt(value[0].ciphertext, parse_identities(DEMO_IDENTITY, origin="t"))
    out = capsys.readouterr()
    assert PLAINTEXT not in out.out + out.err and new_identity not in out.err
