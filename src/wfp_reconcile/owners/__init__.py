"""Who may change what: the ownership check for pull requests.

Every changed path must be owned by the pull request's author:

- ``customers/<dir>/...`` by the ``owners`` of that customer **as declared at the
  base revision** (a pull request cannot add its author as an owner and pass);
- everything else (``platform.yaml``, ``platform/``, the tool, CI) and every new
  customer directory by the platform ``admins``, also read at the base revision;
  when the platform is a subdirectory of a git repository, every path outside it
  (``../.github/...``, the tool's code) is the admins' too.

Some changes need a platform admin even when the author owns the files, because
they would hand one customer's identity or scripts to another: moving files
between customer directories (renaming a customer), changing a customer's ``id``
(it is the tag Cloudflare lists that customer's scripts by), and declaring a script
name that another customer declares at the base revision. Platform policy in a
customer's own ``customer.yaml`` is the admins' as well: every field the model marks
``ADMIN_ONLY`` (plan, suspension, limits, outbound Worker, tail, Logpush, and each
script's limits and D1 bindings; see ``config.policy``); tokens, owners and the
scripts' code and settings are the owners'. Platform admins may change anything.

The files are read by the config loader, exactly as ``validate``, ``plan`` and
``apply`` read them (one YAML reader; ``${VAR}`` parsed by the same rules, with a
placeholder environment so the result does not depend on where the check runs). A
``customer.yaml`` that does not load at the head is a violation: what it would change
cannot be known, so nothing in it is assumed harmless. At the base, a file that does
not load owns nothing, so only admins can approve changes to it.

The changes are what merging the pull request would change on the base branch
(see ``gitsource.changed_paths``), and the head state is read from that merge
result, so what is checked is what lands.

Modules: ``state`` (what each revision declares), ``check`` (the pure rules),
``summary`` (``changed``), ``revisions`` (git revisions to reports).
"""

from __future__ import annotations

from .check import OwnershipReport, Violation, check_ownership
from .paths import customer_dir
from .revisions import check_revisions, check_revisions_for
from .state import CustomerOwnership, OwnershipState, read_state
from .summary import ChangeSummary, summarize_changes

__all__ = [
    "ChangeSummary",
    "CustomerOwnership",
    "OwnershipReport",
    "OwnershipState",
    "Violation",
    "check_ownership",
    "check_revisions",
    "check_revisions_for",
    "customer_dir",
    "read_state",
    "summarize_changes",
]
