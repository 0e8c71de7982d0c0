"""Customer secrets: each value against platform.yaml's recipients, each name against
the script's other bindings. The rules live with the feature, in
``wfp_reconcile.secrets.rules``."""

from __future__ import annotations

from wfp_reconcile.secrets.rules import check

__all__ = ["check"]
