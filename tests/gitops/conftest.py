"""Real git repositories in ``tmp_path`` for the GitOps tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


class GitRepo:
    """A scratch git repository driven through the git command line."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        env = {**os.environ, **_GIT_ENV, "HOME": str(self.root.parent)}
        done = subprocess.run(
            ["git", *args], cwd=self.root, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    def write(self, files: Mapping[str, str | bytes | object]) -> None:
        for rel, content in files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            elif isinstance(content, str):
                path.write_text(content)
            else:
                path.write_text(yaml.safe_dump(content, sort_keys=False))

    def commit(self, message: str, files: Mapping[str, str | bytes | object] | None = None) -> str:
        if files:
            self.write(files)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


def platform_yaml(admins: list[str]) -> dict[str, object]:
    return {
        "account_id": "${CLOUDFLARE_ACCOUNT_ID}",
        "namespace": "customers",
        "compatibility_date": "2025-01-01",
        "admins": admins,
    }


def customer_yaml(cid: str, owners: list[str], scripts: list[str]) -> dict[str, object]:
    return {
        "id": cid,
        "name": cid.title(),
        "plan": "free",
        "owners": owners,
        "scripts": {name: {"main_module": f"{name}.mjs"} for name in scripts},
    }


def module(text: str) -> str:
    return f"export default {{ fetch() {{ return new Response({text!r}); }} }};\n"


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "platform")


@pytest.fixture
def platform_repo(repo: GitRepo) -> GitRepo:
    """A platform with admin ``root-admin`` and customers ``acme`` (alice) and ``bolt`` (bob)."""
    repo.commit(
        "base",
        {
            "platform.yaml": platform_yaml(["root-admin"]),
            "platform/platform_module.mjs": "export const platform = 1;\n",
            "customers/acme/customer.yaml": customer_yaml("acme", ["alice"], ["acme-shop"]),
            "customers/acme/acme-shop.mjs": module("acme"),
            "customers/bolt/customer.yaml": customer_yaml("bolt", ["bob"], ["bolt-api"]),
            "customers/bolt/bolt-api.mjs": module("bolt"),
        },
    )
    return repo
