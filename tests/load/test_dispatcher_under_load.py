"""1,000+ concurrent eyeball requests through the local runtime while the engine applies a
round of updates, additions and removals (CI size; ``scripts/load_dispatcher.py`` is the
full-size run). The judge's own rules are tested without a runtime below."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from wfp_reconcile.apply import Phase

from .harness import (
    SETTLE_SECONDS,
    ApplyTimes,
    Expect,
    Fleet,
    LoadResult,
    Outcome,
    Stack,
    judge,
    run_load,
    start_stack,
    summary,
)

requires_node = pytest.mark.skipif(
    shutil.which("node") is None, reason="Node.js is not installed (CI installs it)"
)

SEED = 8
FIRST = Fleet.create(scripts=40, customers=5, seed=SEED)
SECOND = FIRST.mutate(update=8, remove=5, add=5)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with start_stack(FIRST, api_latency_ms=40) as running:
        yield running


@pytest.fixture(scope="module")
def load(stack: Stack) -> LoadResult:
    return run_load(stack, [FIRST, SECOND], requests=1000, concurrency=64, time_limit=45)


@requires_node
@pytest.mark.workerd
def test_no_request_gets_an_answer_it_must_not_while_an_apply_runs(
    load: LoadResult, stack: Stack
) -> None:
    assert not load.timed_out, summary(load, [])
    assert len(load.outcomes) >= 1000
    violations = judge(load, FIRST)
    assert violations == [], (
        "\n".join(str(v) for v in violations[:20]) + "\n" + "\n".join(stack.logs[-20:])
    )


@requires_node
@pytest.mark.workerd
def test_the_only_5xx_are_the_throwing_scripts_502s(load: LoadResult) -> None:
    server_errors = {(o.name, o.status) for o in load.outcomes if o.status >= 500}
    assert server_errors == {("thrower", 502)}
    assert not [o for o in load.outcomes if o.status == 0]


@requires_node
@pytest.mark.workerd
def test_the_apply_ran_under_load_and_its_result_was_served(load: LoadResult) -> None:
    [(before, after, times)] = load.rounds
    assert times.ok and times.changes >= 18  # 8 updates, 5 adds, 5 deletes, the dispatcher
    overlapping = [
        o for o in load.outcomes if o.ended >= times.started and o.started <= times.ended
    ]
    assert len(overlapping) >= 50, "too few requests overlapped the apply to prove anything"
    settled = [o for o in load.outcomes if o.started >= times.ended + SETTLE_SECONDS]
    assert settled, "no request observed the state after the apply"
    removed = set(before.scripts) - set(after.scripts)
    added = set(after.scripts) - set(before.scripts)
    seen = {(o.name, o.status) for o in settled}
    # The random mix reaches every kind of script at least once after the apply.
    assert {name for name, status in seen if status == 404} & removed
    assert {name for name, status in seen if status == 200} & added


# -- the judge ------------------------------------------------------------------------------


def _result(outcome: Outcome, *, dispatcher_at: float = 10.0) -> list[str]:
    times = ApplyTimes(started=9.0, ended=11.0, ok=True, changes=3)
    times.phase_started[Phase.DISPATCHER] = dispatcher_at
    result = LoadResult([outcome], [(FIRST, SECOND, times)], 1.0, False)
    return [v.why for v in judge(result, FIRST)]


def _name(kind: Expect) -> str:
    from .harness import expectations

    return next(n for n, e in sorted(expectations(FIRST, SECOND).items()) if e is kind)


def test_judge_accepts_a_404_for_a_removed_script_only_after_the_dispatcher_phase() -> None:
    name = _name(Expect.REMOVED)
    body = '{"error":"script_not_found","message":"x"}'
    assert _result(Outcome(name, 9.5, 10.5, 404, body)) == []
    assert _result(Outcome(name, 9.1, 9.5, 404, body)) == [
        "404 before the dispatcher stopped routing the script"
    ]


def test_judge_flags_a_stale_body_once_settled_but_not_during_the_apply() -> None:
    name = _name(Expect.UPDATED)
    old = FIRST.text(name)
    assert old is not None and old != SECOND.text(name)
    assert _result(Outcome(name, 10.0, 10.1, 200, old)) == []
    late = 11.0 + SETTLE_SECONDS + 0.1
    assert _result(Outcome(name, late, late + 0.1, 200, old)) == ["stale body"]


def test_judge_flags_5xx_from_the_platform_and_missing_answers() -> None:
    name = _name(Expect.KEPT)
    body = '{"error":"runtime_error","message":"x"}'
    assert _result(Outcome(name, 1.0, 1.1, 502, body)) == ["5xx from the platform"]
    assert _result(Outcome(name, 1.0, 1.1, 0, "ConnectionResetError")) == ["no HTTP answer"]


def test_judge_requires_the_throwing_script_to_fail_cleanly() -> None:
    clean = '{"error":"script_error","message":"The script failed to handle the request."}'
    assert _result(Outcome("thrower", 1.0, 1.1, 502, clean)) == []
    leaky = '{"error":"script_error","message":"designed to fail: secret detail 7f3a"}'
    assert _result(Outcome("thrower", 1.0, 1.1, 502, leaky)) == ["the 502 leaks the exception"]
    assert _result(Outcome("thrower", 1.0, 1.1, 200, "ok")) == [
        "a throwing script must answer 502 script_error"
    ]


def test_judge_refuses_a_body_from_another_script() -> None:
    name = _name(Expect.KEPT)
    other = _name(Expect.UPDATED)
    wrong = FIRST.text(other)
    assert wrong is not None
    assert _result(Outcome(name, 1.0, 1.1, 200, wrong)) == [
        "200 with neither the old nor the new body"
    ]
