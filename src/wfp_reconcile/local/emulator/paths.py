"""Path patterns of the emulated API (after ``/client/v4``), shared by the route tables."""

from __future__ import annotations

__all__ = ["ACCOUNT", "D1", "NAMESPACES", "NS_SCRIPT", "WORKER"]

ACCOUNT = r"/accounts/(?P<account>[^/]+)"
NAMESPACES = ACCOUNT + r"/workers/dispatch/namespaces"
NS_SCRIPT = NAMESPACES + r"/(?P<ns>[^/]+)/scripts/(?P<script>[^/]+)"
WORKER = ACCOUNT + r"/workers/scripts/(?P<script>[^/]+)"
D1 = ACCOUNT + r"/d1/database"
