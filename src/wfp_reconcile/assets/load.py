"""The loader's one call for static assets: read every declared asset directory.

Called by ``wfp_reconcile.config.loader`` after the customer files validated, so asset
problems are reported with everything else, at ``assets.directory`` of the script.
"""

from __future__ import annotations

from collections.abc import Iterable

from wfp_reconcile.config.source import RepoSource
from wfp_reconcile.errors import ConfigProblem

from .rules import CustomerFile
from .walk import scan_assets

__all__ = ["LoadedAssets", "load_assets"]

LoadedAssets = tuple[dict[str, bytes], dict[str, tuple[str, ...]], list[ConfigProblem]]


def load_assets(source: RepoSource, entries: Iterable[CustomerFile]) -> LoadedAssets:
    """``(files, index, problems)``: the bytes of every asset by repository path, each
    script's asset paths (sorted by URL path), and every problem of reading them (the
    declarations themselves are checked by the ``assets`` rule family)."""
    problems: list[ConfigProblem] = []
    files: dict[str, bytes] = {}
    index: dict[str, tuple[str, ...]] = {}
    for entry in entries:
        for name, script in sorted(entry.customer.scripts.items()):
            if script.assets is None:
                continue
            scan = scan_assets(source, entry.directory, script.assets.directory)
            pos = entry.doc.value_pos(("scripts", name, "assets", "directory"))
            for message in scan.problems:
                problems.append(ConfigProblem(entry.path, pos.line, pos.column, message))
            for _, repo_path, content in scan.files:
                files[repo_path] = content
            index[name] = tuple(repo_path for _, repo_path, _ in scan.files)
    return files, index, problems
