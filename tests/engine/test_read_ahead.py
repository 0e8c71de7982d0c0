"""The listings started ahead of the desired state (kinds.ahead) read what read_actual
would read itself: the same items, the same counted calls, the same errors."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, cast

import pytest

from wfp_reconcile.actual import read_actual
from wfp_reconcile.cloudflare import ScriptInfo
from wfp_reconcile.config.model import Platform
from wfp_reconcile.desired import DesiredState
from wfp_reconcile.errors import ApiError, NotFoundError, WfpError
from wfp_reconcile.kinds.ahead import read_ahead

TAG = "wfp-managed"
PLATFORM = cast(Platform, types.SimpleNamespace(namespace="ns", management_tag=TAG))


class Reader:
    def __init__(self, fail: WfpError | None = None) -> None:
        self.fail = fail
        self.calls: list[str] = []

    def list_scripts(
        self, namespace: str, *, tags: Sequence[tuple[str, bool]] = (), page_size: int = 1000
    ) -> Iterator[ScriptInfo]:
        self.calls.append(f"list_scripts {namespace} {list(tags)}")
        if self.fail is not None:
            raise self.fail
        yield ScriptInfo("a", None, (TAG, "acme", "plan-basic"), None, None)

    def list_workers(self) -> Sequence[ScriptInfo]:
        self.calls.append("list_workers")
        return []

    def get_script_tags(self, namespace: str, name: str) -> tuple[str, ...]:
        raise NotFoundError(name)

    def get_worker_tags(self, name: str) -> tuple[str, ...]:
        raise NotFoundError(name)

    def get_worker_settings(self, name: str) -> dict[str, Any]:
        return {}

    def map_concurrent(self, fn: Callable[[str], Any], items: Iterable[str]) -> list[Any]:
        return [fn(i) for i in items]


def _desired() -> DesiredState:
    return DesiredState.of_workers("ns", TAG, [])


def test_the_listings_read_ahead_give_the_state_read_actual_reads_itself() -> None:
    alone, ahead = Reader(), Reader()
    expected = read_actual(alone, _desired())
    interval = sys.getswitchinterval()
    with read_ahead(ahead, PLATFORM) as started:
        got = read_actual(ahead, _desired(), started=started)
    assert sys.getswitchinterval() == interval  # restored
    assert (got.items, got.read_calls) == (expected.items, expected.read_calls)
    assert "a" in got.items["script"]
    assert sorted(ahead.calls) == sorted(alone.calls)  # each listing once


def test_a_listing_that_fails_ahead_fails_the_read() -> None:
    reader = Reader(fail=ApiError("the list broke"))
    with read_ahead(reader, PLATFORM) as started, pytest.raises(ApiError, match="broke"):
        read_actual(reader, _desired(), started=started)


def test_a_missing_namespace_read_ahead_is_a_new_platform() -> None:
    reader = Reader(fail=NotFoundError("no namespace"))
    with read_ahead(reader, PLATFORM) as started:
        actual = read_actual(reader, _desired(), started=started)
    assert not actual.namespace_exists and actual.items["script"] == {}
