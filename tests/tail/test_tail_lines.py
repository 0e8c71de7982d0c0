"""The runtime's ``wfp-tail`` lines and how ``dev`` shows them."""

from __future__ import annotations

import json

from wfp_reconcile.local.runtime.tailevents import format_tail_event, parse_tail_line


def _line(**fields: object) -> str:
    base: dict[str, object] = {
        "consumer": "trace",
        "at": 1700000000000,
        "script": "hello",
        "namespace": "ns",
        "tags": ["wfp-managed", "acme"],
        "outcome": "ok",
        "cpu_ms": 2,
        "wall_ms": 5,
        "status": 200,
        "method": "GET",
        "url": "http://127.0.0.1:8787/hello/x?token=REDACTED",
        "exceptions": [],
    }
    base.update(fields)
    return "wfp-tail " + json.dumps(base)


def test_other_log_lines_are_not_tail_events() -> None:
    assert parse_tail_line("hello from a script") is None
    assert parse_tail_line("wfp-tail {not json") is None
    assert parse_tail_line('wfp-tail {"no": "script"}') is None


def test_a_customer_invocation_shows_script_customer_request_and_times() -> None:
    event = parse_tail_line(_line())
    assert event is not None
    text = format_tail_event(event, {"hello": "acme"})
    assert text.split() == ("ok hello (acme) GET /hello/x -> 200 cpu 2 ms, wall 5 ms".split())
    assert "token" not in text  # the query string is left out


def test_exceptions_are_listed_and_the_dispatcher_is_named_as_such() -> None:
    event = parse_tail_line(
        _line(script="disp", outcome="exception", status=None, exceptions=["Error: boom"])
    )
    assert event is not None
    text = format_tail_event(event, {"hello": "acme"})
    assert text.startswith("exception  disp (dispatcher)  GET /hello/x  cpu")
    assert text.endswith("exceptions: Error: boom")


def test_a_prefix_from_the_runtime_log_format_is_tolerated() -> None:
    event = parse_tail_line("[wfp-runtime] " + _line(cpu_ms="n/a"))
    assert event is not None and event.cpu_ms == 0.0 and event.script == "hello"
