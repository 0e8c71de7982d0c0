from __future__ import annotations

from wfp_reconcile.cli import entry

entry()
