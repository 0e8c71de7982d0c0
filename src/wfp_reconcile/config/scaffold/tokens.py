"""``token create``: a random token shown once, its SHA-256 added to ``tokens``."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
from pathlib import Path

from wfp_reconcile.config import yamledit

from .customers import check_customer_text, ensure_block, load_customer_for_edit
from .writes import FileWrite, fail

__all__ = ["NewToken", "plan_token"]

_TOKEN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclasses.dataclass(frozen=True)
class NewToken:
    """A token to show once, and the edit that stores its hash."""

    token: str = dataclasses.field(repr=False)
    name: str
    customer_file: Path
    writes: tuple[FileWrite, ...]


def plan_token(repo: Path, customer_id: str, name: str) -> NewToken:
    """A new random token whose SHA-256 is added to the customer's ``tokens``."""
    relative, data = load_customer_for_edit(repo, customer_id)
    if not _TOKEN_NAME.match(name):
        raise fail(
            relative,
            f"'{name}' is not a valid token name: use letters, digits, '.', '_' and '-' "
            "(at most 64 characters)",
        )
    tokens = ensure_block(data, "tokens", yamledit.new_seq(), ("owners", "plan", "name", "id"))
    if not isinstance(tokens, yamledit.CommentedSeq):
        raise fail(relative, "tokens must be a list; fix it and retry")
    for item in tokens:
        if isinstance(item, dict) and item.get("name") == name:
            raise fail(
                relative,
                f"a token named '{name}' already exists; choose another name, or remove the "
                "old entry first to replace it",
            )
    token = secrets.token_hex(32)
    digest = hashlib.sha256(token.encode()).hexdigest()
    yamledit.append_item(tokens, yamledit.new_map(name=name, sha256=digest))
    text = yamledit.dump(data)
    check_customer_text(relative, text)
    return NewToken(
        token=token,
        name=name,
        customer_file=repo / relative,
        writes=(FileWrite(repo / relative, text, create_only=False),),
    )
