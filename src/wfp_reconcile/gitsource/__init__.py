"""Desired state from git revisions: the one package that talks to git.

``open_source(repo, ref)`` is what every command with ``--ref`` uses: without a ref
it is the work tree; with one it is that commit's tree, so uncommitted files are
ignored (``dirty_paths`` lets the caller say so). ``changed_paths`` is what a pull
request changed, with renames detected, for ``changed`` and ``check-owners``.

The platform repository may be a subdirectory of a git repository: every path
that goes in or comes out of this module is relative to the platform repository,
never to the git root. Modules: ``checkout`` (git itself), ``tree`` (a commit as a
``RepoSource``), ``changes`` (what a merge changes), ``worktree`` (HEAD and dirty files).
"""

from __future__ import annotations

from .changes import ChangeStatus, PathChange, changed_paths, merged_source
from .tree import GitTreeSource, open_source
from .worktree import dirty_paths, dirty_warning, head_commit, resolve_commit

__all__ = [
    "ChangeStatus",
    "GitTreeSource",
    "PathChange",
    "changed_paths",
    "dirty_paths",
    "dirty_warning",
    "head_commit",
    "merged_source",
    "open_source",
    "resolve_commit",
]
