from __future__ import annotations

from wfp_reconcile.bundle import Module, ScriptUpload
from wfp_reconcile.desired import DesiredWorker, WorkerKind, fingerprint_upload
from wfp_reconcile.details import config_fields, merge_details
from wfp_reconcile.diff import FieldChange


def _worker(metadata: dict) -> DesiredWorker:
    upload = ScriptUpload(metadata, (Module("m.mjs", b"x", "application/javascript+module"),))
    return DesiredWorker(
        WorkerKind.SCRIPT, "s", "c", upload, fingerprint_upload(upload), ("wfp-managed",)
    )


def test_same_settings_in_another_order_show_no_difference():
    desired = _worker(
        {"compatibility_flags": ["b", "a"], "bindings": [], "logpush": False, "limits": {}}
    )
    settings = {"compatibility_flags": ["a", "b"], "bindings": [], "tags": ["x"]}
    assert config_fields(desired, settings) == ()


def test_secrets_kept_across_uploads_are_not_reported_as_removed():
    desired = _worker({"bindings": [{"type": "plain_text", "name": "A", "text": "1"}]})
    settings = {
        "bindings": [
            {"type": "plain_text", "name": "A", "text": "1"},
            {"type": "secret_text", "name": "API_KEY"},
        ]
    }
    assert config_fields(desired, settings) == ()


def test_d1_and_limit_changes_are_named():
    desired = _worker(
        {"bindings": [{"type": "d1", "name": "DB", "id": "new-id"}], "limits": {"cpu_ms": 50}}
    )
    settings = {"bindings": [{"type": "d1", "name": "DB", "id": "old-id"}], "limits": {}}
    assert config_fields(desired, settings) == (
        FieldChange(field="limits", before="{}", after='{"cpu_ms": 50}'),
        FieldChange(field="binding DB", before="d1 old-id", after="d1 new-id"),
    )


def test_variable_values_are_shown_as_hashes_only():
    desired = _worker({"bindings": [{"type": "plain_text", "name": "T", "text": "new-value"}]})
    settings = {"bindings": [{"type": "plain_text", "name": "T", "text": "hunter2-prod"}]}
    (field,) = config_fields(desired, settings)
    assert field.field == "binding T"
    assert field.before is not None and field.before.startswith("text #")
    assert field.after is not None and field.after.startswith("text #")
    assert field.before != field.after
    assert "hunter2" not in str(field) and "new-value" not in str(field)


def test_long_values_are_shortened():
    flags = [f"flag_{i}" for i in range(40)]
    desired = _worker({"compatibility_flags": flags})
    (field,) = config_fields(desired, {})
    assert field.after is not None and len(field.after) == 80 and field.after.endswith("…")


def test_details_follow_the_config_field():
    code = FieldChange(field="code", before="a", after="b")
    config = FieldChange(field="config", before="c", after="d")
    detail = FieldChange(field="logpush", before="false", after="true")
    assert merge_details((code, config), (detail,)) == (code, config, detail)


def test_variable_values_are_hashed_under_a_key_not_guessable_from_the_plan():
    import hashlib
    import json

    from wfp_reconcile.details import value_key

    desired = _worker({"bindings": [{"type": "plain_text", "name": "PIN", "text": "1234"}]})
    settings = {"bindings": [{"type": "plain_text", "name": "PIN", "text": "0000"}]}
    (field,) = config_fields(desired, settings, key=value_key("token-of-this-run"))
    shown = (field.before or "").removeprefix("text #")
    # Unkeyed, a 4-digit PIN is found by hashing 10,000 guesses; keyed, no guess matches.
    guesses = {
        hashlib.sha256(json.dumps(f"{n:04}").encode()).hexdigest()[: len(shown)]
        for n in range(10_000)
    }
    assert shown not in guesses
    # The same token gives the same hash from plan to plan; another token another one.
    (again,) = config_fields(desired, settings, key=value_key("token-of-this-run"))
    (other,) = config_fields(desired, settings, key=value_key("another-token"))
    assert again == field and other.before != field.before
