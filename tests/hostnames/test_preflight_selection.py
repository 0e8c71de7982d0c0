"""Pre-flight picks Workers only: a repository with custom hostnames (a kind without a
bundle) is selected, and pre-flighted by apply, like any other."""

from __future__ import annotations

from pathlib import Path

from wfp_reconcile.config import load_repo_dir
from wfp_reconcile.desired import build_desired
from wfp_reconcile.preflight import fingerprints, select_changed


def test_hostnames_are_not_loaded_in_workerd(repo: Path) -> None:
    desired = build_desired(load_repo_dir(repo, env={}))
    assert desired.of("hostname"), "the repository declares a hostname"

    workers, unchanged = select_changed(desired, None)
    uploads = {("script", "alpha-shop"), ("hostname", "shop.example.com")}
    only, others = select_changed(desired, None, only=uploads)

    assert {w.kind.value for w in workers} == {"script", "dispatcher"}
    assert unchanged == 0
    assert [(w.kind.value, w.name) for w in only] == [("script", "alpha-shop")]
    assert others == len(workers) - 1
    assert set(fingerprints(desired)) == {(w.kind.value, w.name) for w in workers}
