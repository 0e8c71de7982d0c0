from __future__ import annotations

from wfp_reconcile.desired import WorkerKind
from wfp_reconcile.diff import Action, Change, FieldChange
from wfp_reconcile.plan import Estimate, Plan, Summary
from wfp_reconcile.render import render_plan_markdown, render_plan_text


def _plan(changes: tuple[Change, ...]) -> Plan:
    return Plan(
        created_at="2026-11-27T00:00:00Z",
        tool_version="0",
        account_id="a" * 32,
        namespace="ns",
        management_tag="wfp-managed",
        commit="0123456789abcdef",
        customers=(),
        changes=changes,
        summary=Summary.of(changes),
        estimate=Estimate.of(changes, read_calls=2, requests_per_window=1000, window_seconds=300),
        desired_digest="d",
        state_digest="s",
        desired_count=len(changes),
        actual_count=0,
        tags_from_list=True,
    )


def _create(name: str, customer: str) -> Change:
    return Change(
        action=Action.CREATE,
        kind=WorkerKind.SCRIPT,
        name=name,
        customer=customer,
        fields=(FieldChange(field="code", before=None, after="ab" * 8),),
    )


def test_text_plan_groups_by_customer_and_ends_with_summary_and_cost():
    text = render_plan_text(_plan((_create("w1", "acme"), _create("w2", "globex"))))
    lines = text.splitlines()
    assert "customer acme:" in lines and "customer globex:" in lines
    assert "  + script w1" in lines
    assert lines[-2] == "Plan: 2 to add, 0 to change, 0 to destroy."
    assert lines[-1].startswith("Cost: 2 read calls; apply needs 2 write calls")


def test_markdown_plan_stays_under_the_limit_and_says_what_was_cut():
    changes = tuple(_create(f"s{i:05d}", f"c{i // 10:04d}") for i in range(20_000))
    md = render_plan_markdown(_plan(changes))
    assert len(md) < 65_000
    assert md.startswith("### wfp-reconcile plan for `ns` at `0123456789ab`")
    assert "**Plan: 20000 to add, 0 to change, 0 to destroy.**" in md
    assert "more section(s) cut" in md
    assert md.count("<details>") == md.count("</details>")


def test_estimate_counts_pacing_only_beyond_one_window():
    many = tuple(_create(f"s{i}", "c") for i in range(2500))
    estimate = Estimate.of(many, read_calls=0, requests_per_window=1000, window_seconds=300)
    assert estimate.write_calls == 2500
    assert estimate.seconds == 600
