"""Reads started before the desired state is built, so that planning's I/O overlaps its CPU.

Listing the namespace is most of a large plan's wall time (one round trip per 1,000
scripts, each waiting on Cloudflare to build the page), and it needs nothing of the
desired state: only platform.yaml's namespace and management tag. ``read_ahead`` starts
that listing and the account's Worker list in threads; the kinds' reads then wait for
them through ``ReadSession.once``, which counts their calls as if they were made there.
Start it only once the repository is validated: an invalid repository makes no API call.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from wfp_reconcile.config.model import Platform

from .protocol import WORKERS_READ, StateReader
from .script import list_managed, managed_read

__all__ = ["read_ahead"]

_SWITCH_SECONDS = 0.0005


@contextlib.contextmanager
def read_ahead(reader: StateReader, platform: Platform) -> Iterator[Mapping[str, Future[Any]]]:
    """The listings every plan makes, started now (for ``read_actual(started=...)``).

    On leaving, waits for them: no read outlives the plan, and one nobody asked for (the
    desired state failed to build) is dropped with its result or error.
    """
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="wfp-read-ahead")
    interval = sys.getswitchinterval()
    # The main thread computes meanwhile and holds the GIL; the reading threads need it
    # after every socket read, and by default wait up to 5 ms for it each time.
    sys.setswitchinterval(min(interval, _SWITCH_SECONDS))
    try:
        namespace, tag = platform.namespace, platform.management_tag
        yield {
            managed_read(namespace, tag): pool.submit(list_managed, reader, namespace, tag),
            WORKERS_READ: pool.submit(reader.list_workers),
        }
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        sys.setswitchinterval(interval)
