from __future__ import annotations

import pytest

from wfp_reconcile.actual import ActualState, ActualWorker
from wfp_reconcile.bundle import Module, ScriptUpload
from wfp_reconcile.desired import (
    DesiredState,
    DesiredWorker,
    WorkerKind,
    fingerprint_upload,
    own_tags,
)
from wfp_reconcile.diff import Action, compute_diff

MGMT = "wfp-managed"


def _worker(
    name: str,
    customer: str = "acme",
    *,
    code: bytes = b"x",
    plan: str = "basic",
    protect: bool = False,
    suspended: bool = False,
    date: str = "2024-09-01",
) -> DesiredWorker:
    upload = ScriptUpload(
        metadata={"main_module": "m.mjs", "compatibility_date": date},
        modules=(Module("m.mjs", code, "application/javascript+module"),),
    )
    fp = fingerprint_upload(upload)
    return DesiredWorker(
        kind=WorkerKind.SCRIPT,
        name=name,
        customer=customer,
        upload=upload,
        fingerprint=fp,
        tags=own_tags(MGMT, customer, plan, fp, protect=protect),
        protect=protect,
        suspended=suspended,
    )


def _desired(*workers: DesiredWorker) -> DesiredState:
    return DesiredState.of_workers("ns", MGMT, workers)


def _actual(
    *workers: DesiredWorker | ActualWorker, unmanaged: tuple[ActualWorker, ...] = ()
) -> ActualState:
    scripts = {}
    for w in workers:
        if isinstance(w, DesiredWorker):
            w = ActualWorker(w.name, w.tags, True)
        scripts[w.name] = w
    return ActualState.of_workers("ns", {**scripts, **{u.name: u for u in unmanaged}})


def _actions(changes) -> list[tuple[str, str]]:
    return [(c.action.value, c.name) for c in changes]


def test_identical_states_have_no_changes():
    w = _worker("a")
    assert compute_diff(_desired(w), _actual(w)) == ()


@pytest.mark.parametrize(
    ("before", "after", "action", "fields"),
    [
        pytest.param(_worker("a"), _worker("a", code=b"y"), Action.UPDATE, ["code"], id="code"),
        pytest.param(
            _worker("a"), _worker("a", date="2025-01-01"), Action.UPDATE, ["config"], id="config"
        ),
        pytest.param(_worker("a"), _worker("a", plan="pro"), Action.RETAG, ["tags"], id="plan"),
        pytest.param(
            _worker("a"), _worker("a", protect=True), Action.RETAG, ["tags"], id="protect"
        ),
    ],
)
def test_each_kind_of_difference_maps_to_one_action(before, after, action, fields):
    (change,) = compute_diff(_desired(after), _actual(before))
    assert change.action is action
    assert [f.field for f in change.fields] == fields


def test_undeclared_managed_script_is_deleted_unless_protected():
    keep, gone, vault = _worker("keep"), _worker("gone"), _worker("vault", protect=True)
    changes = compute_diff(_desired(keep), _actual(keep, gone, vault), known_customers={"acme"})
    assert _actions(changes) == [("delete", "gone"), ("protected", "vault")]


def test_unmanaged_script_with_a_declared_name_is_a_conflict_or_adopted():
    intruder = ActualWorker("a", ("other",), False)
    (change,) = compute_diff(_desired(_worker("a")), _actual(unmanaged=(intruder,)))
    assert change.action is Action.CONFLICT
    assert "wfp-reconcile adopt a" in change.reason
    (change,) = compute_diff(_desired(_worker("a")), _actual(unmanaged=(intruder,)), adopt={"a"})
    assert change.action is Action.ADOPT


def test_suspended_customer_changes_and_deletes_are_skipped():
    before = _worker("a", customer="sus")
    after = _worker("a", customer="sus", code=b"new", suspended=True)
    orphan = _worker("b", customer="sus")
    changes = compute_diff(
        _desired(after), _actual(before, orphan), suspended={"sus"}, known_customers={"sus"}
    )
    assert _actions(changes) == [("skipped", "a"), ("skipped", "b")]


def test_customer_scope_limits_deletes_to_that_customer():
    mine, theirs = _worker("mine", "acme"), _worker("theirs", "globex")
    changes = compute_diff(
        _desired(), _actual(mine, theirs), customers={"acme"}, known_customers={"acme", "globex"}
    )
    assert _actions(changes) == [("delete", "mine")]


def test_fingerprint_ignores_tags_and_module_order():
    a = ScriptUpload(
        {"main_module": "a", "tags": ["x"]}, (Module("a", b"1", "t"), Module("b", b"2", "t"))
    )
    b = ScriptUpload(
        {"main_module": "a", "tags": ["y"]}, (Module("b", b"2", "t"), Module("a", b"1", "t"))
    )
    assert fingerprint_upload(a) == fingerprint_upload(b)
    c = ScriptUpload({"main_module": "a"}, (Module("a", b"1", "t"), Module("b", b"2", "u")))
    assert fingerprint_upload(a).code != fingerprint_upload(c).code
