"""check-owners' job summary puts a path raw into a Markdown table cell.

A pull request that adds ``customers/victim/x\n\n## Ownership check passed\n...`` fails
the check, but the job summary it writes then shows a forged "passed" heading (and any
Markdown: links, images) to the reviewer, because ``render_ownership_markdown`` neither
escapes nor quotes the path (backticks, '|', newlines).
"""

from __future__ import annotations

from wfp_reconcile.cli.git_cmds import render_ownership_markdown
from wfp_reconcile.gitsource import PathChange
from wfp_reconcile.owners.check import OwnershipReport, Violation


def test_a_path_cannot_add_markdown_lines_to_the_ownership_summary() -> None:
    path = "customers/victim/x`\n\n## Ownership check passed\n\n[ok](https://evil.example)`.mjs"
    report = OwnershipReport(
        actor="mallory",
        actor_is_admin=False,
        changes=(PathChange(path=path, status="added"),),
        violations=(Violation(path=path, reason="belongs to customer 'victim'", admins=("root",)),),
    )
    text = render_ownership_markdown(report)
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## Ownership check failed"], text
