"""A saved plan's guard inputs (actual_count, desired_count) are trusted from the file.

The integrity digest is an unkeyed SHA-256, so whoever can write the plan file (the CI
artifact between the plan and apply jobs) recomputes it; apply re-plans and compares the
desired digest, the state digest and the (action, kind, name) keys, but never the counts
that check_guards reads. Editing them switches the delete-fraction guard off.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wfp_reconcile.errors import NotFoundError
from wfp_reconcile.plan import Plan

pytestmark = pytest.mark.list_modes("flat")


def test_untampered_plan_is_refused_by_the_delete_fraction_guard(
    platform_repo, cf, run, tmp_path: Path
):
    platform_repo.customer("acme", ["a1", "a2", "a3", "a4"])
    assert run("apply", "--repo", str(platform_repo.root), "--auto-approve")[0] == 0
    platform_repo.customer("acme", ["a1"])  # 3 of 4 deleted: 0.75 > max_delete_fraction 0.5
    out_file = tmp_path / "plan.json"
    run("plan", "--repo", str(platform_repo.root), "--out", str(out_file))
    code, _, err = run("apply", str(out_file), "--repo", str(platform_repo.root))
    assert code != 0 and "--allow-deletes 3" in err


def test_a_plan_with_an_edited_actual_count_bypasses_the_delete_fraction_guard(
    platform_repo, cf, run, emulator_client, tmp_path: Path
):
    platform_repo.customer("acme", ["a1", "a2", "a3", "a4"])
    assert run("apply", "--repo", str(platform_repo.root), "--auto-approve")[0] == 0
    platform_repo.customer("acme", ["a1"])
    out_file = tmp_path / "plan.json"
    run("plan", "--repo", str(platform_repo.root), "--out", str(out_file))
    doc = json.loads(out_file.read_text())
    assert doc["actual_count"] == 4
    doc["actual_count"] = 1000  # 3/1000 is under any fraction
    doc["integrity"] = Plan.model_validate(doc).content_digest()
    out_file.write_text(json.dumps(doc))

    code, out, err = run("apply", str(out_file), "--repo", str(platform_repo.root))
    # Expected: refused exactly like the unedited file (the counts are re-derived or sealed).
    assert code != 0, f"tampered plan applied: {out}"
    remaining = set()
    for name in ("a1", "a2", "a3", "a4"):
        try:
            emulator_client.get_script_tags("test-ns", name)
            remaining.add(name)
        except NotFoundError:
            pass
    assert remaining == {"a1", "a2", "a3", "a4"}
