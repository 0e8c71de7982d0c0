"""``new platform|customer|script`` and ``token create``: planned edits, then writes.

Each ``plan_*`` function checks everything and returns the complete set of file
writes; nothing touches the disk until ``write_files`` runs, so a refused
request leaves the repository exactly as it was.

Modules: ``templates`` (what new files hold), ``platform_repo``, ``customers`` (new
customers and scripts), ``tokens``, ``writes`` (the planned writes and ``write_files``).
"""

from __future__ import annotations

from .customers import plan_new_customer, plan_new_script
from .platform_repo import plan_new_platform
from .templates import DEFAULT_COMPATIBILITY_DATE, PLATFORM_MODULE, script_template
from .tokens import NewToken, plan_token
from .writes import FileWrite, write_files

__all__ = [
    "DEFAULT_COMPATIBILITY_DATE",
    "PLATFORM_MODULE",
    "FileWrite",
    "NewToken",
    "plan_new_customer",
    "plan_new_platform",
    "plan_new_script",
    "plan_token",
    "script_template",
    "write_files",
]
