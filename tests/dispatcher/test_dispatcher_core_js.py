"""Runs the dispatcher's JavaScript unit tests (Node's test runner) as one pytest test."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.node_tests import NODE, run_node_tests


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed (CI installs it)")
def test_dispatcher_error_mapping_routing_and_customer_api_pass_node_tests() -> None:
    run_node_tests(Path(__file__).with_name("dispatcher_core.test.mjs"))
