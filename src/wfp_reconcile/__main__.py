from __future__ import annotations

from wfp_reconcile.cli import main

raise SystemExit(main())
