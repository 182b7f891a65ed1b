"""``revgraph diff`` as a PR comment (markdown) and as GitHub workflow commands.

PRODUCT §6 gives ``diff`` the output formats of ``check``. Two of them fit a
list of changes: ``markdown`` (what a pull request does to the revision graph,
for a comment or ``$GITHUB_STEP_SUMMARY``) and ``github`` (one notice per
change, a warning per file that cannot be read). ``sarif`` and ``junit`` report
findings against rules; a diff has none, and the command says so.

Pure: the caller hands over ``api.diff``'s results and the snapshots' names.
"""

from __future__ import annotations

from typing import Any, Sequence

from revgraph.render.github import escape_data, escape_property
from revgraph.render.markdown import MAX_CHARS, cell, code_span, shorten

# ``api.diffing``'s RevisionDiff and UnreadableFile (render does not import the api).
RevisionDiff = UnreadableFile = Any

COMMENT_MARKER = "<!-- revgraph-diff -->"
MAX_ROWS = 200


def changes(found: RevisionDiff) -> list[tuple[str, str, str]]:
    """``(change, revision, detail)`` for each line of a diff, in the text output's order."""
    rows = [("added", rid, "") for rid in found.added]
    rows += [("removed", rid, "") for rid in found.removed]
    rows += [
        ("edited", rid, "comments, docstrings or layout only" if rid in found.cosmetic else "")
        for rid in found.edited
    ]
    rows += [
        ("re-pointed", rid, f"{', '.join(was) or 'None'} -> {', '.join(now) or 'None'}")
        for rid, was, now in found.repointed
    ]
    rows += [("declared twice", rid, ", ".join(paths)) for rid, paths in found.duplicated]
    rows += [("declared by fewer files", rid, ", ".join(paths) + " removed") for rid, paths in found.deduplicated]
    return rows


def snapshot_markdown(name: str, *, is_ref: bool) -> str:
    """A snapshot in the heading: a ref as code, "the working tree" as words."""
    return code_span(shorten(name), in_table=False) if is_ref else name


def render_markdown(diffs: Sequence[RevisionDiff], old: str, new: str, unreadable_line) -> str:
    """A comment: a heading, then per environment a table of changes (cut to fit GitHub).

    ``old``, ``new``: the snapshots as markdown (``snapshot_markdown``)."""
    many = len(diffs) > 1
    total = sum(len(changes(d)) for d in diffs)
    heading = f"## revgraph diff: {total} revision change(s) from {old} to {new}"

    def document(rows_each: int) -> str:
        parts = [COMMENT_MARKER, heading]
        for found in diffs:
            if many:
                parts.append(f"### Environment {code_span(shorten(found.environment), in_table=False)}")
            parts.append(_section(found, rows_each, unreadable_line))
        return "\n\n".join(parts) + "\n"

    rows = MAX_ROWS
    text = document(rows)
    while len(text) > MAX_CHARS and rows > 1:  # GitHub refuses a longer comment outright
        rows //= 2
        text = document(rows)
    return text


def _section(found: RevisionDiff, max_rows: int, unreadable_line) -> str:
    rows = changes(found)
    if not rows and not found.unreadable:
        return "No revision changes."
    out = []
    if rows:
        table = ["| change | revision | detail |", "| --- | --- | --- |"]
        table += [f"| {what} | {code_span(shorten(rid))} | {cell(shorten(detail))} |" for what, rid, detail in rows[:max_rows]]
        if len(rows) > max_rows:
            table.append(f"\n… and {len(rows) - max_rows} more; `revgraph diff` lists them all.")
        out.append("\n".join(table))
    if found.unreadable:
        listed = [f"- {cell(shorten(unreadable_line(u)))}" for u in found.unreadable[:max_rows]]
        if len(found.unreadable) > max_rows:
            listed.append(f"- … and {len(found.unreadable) - max_rows} more")
        out.append("Files that cannot be read statically (RG107): what they hold is not in the table.\n\n"
                   + "\n".join(listed))  # fmt: skip
    return "\n\n".join(out)


def render_github(diffs: Sequence[RevisionDiff], unreadable_line) -> str:
    """One ``::notice`` per change and one ``::warning`` per unreadable file, each a line."""
    many = len(diffs) > 1
    lines = []
    for found in diffs:
        prefix = f"[{found.environment}] " if many else ""
        for what, rid, detail in changes(found):
            message = f"{prefix}{rid} {what}" + (f": {detail}" if detail else "")
            lines.append(f"::notice title=revgraph diff::{escape_data(message)}")
        for unreadable in found.unreadable:
            lines.append(_unreadable_command(unreadable, prefix, unreadable_line))
    return "".join(line + "\n" for line in lines)


def _unreadable_command(unreadable: UnreadableFile, prefix: str, unreadable_line) -> str:
    problem = unreadable.problem
    props = ",".join(
        f"{key}={escape_property(value)}"
        for key, value in (("file", problem.path), ("line", str(problem.line)), ("title", "RG107"))
    )
    return f"::warning {props}::{escape_data(prefix + unreadable_line(unreadable))}"
