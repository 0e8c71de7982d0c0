"""Runs store_records.test.mjs (the store mode's customer API on odd records) in Node."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.node_tests import NODE, run_node_tests


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed (CI installs it)")
def test_the_customer_api_fails_closed_on_records_it_cannot_vouch_for() -> None:
    run_node_tests(Path(__file__).with_name("store_records.test.mjs"))
