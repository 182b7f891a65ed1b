"""RG402's autofix: make the docstring's ``Revision ID:`` / ``Revises:`` say what the code says.

Pure planning, like rebase.py: only the value bytes of those two docstring
lines change. This applies to landed revisions too: the repair never changes
an id or a ``down_revision`` (nothing moves), and a disagreeing docstring on
a landed file is almost always a local edit that the repair undoes.
"""

from __future__ import annotations

from typing import Mapping

from revgraph.checks.consistency import revises_ids
from revgraph.fixes.plan import EditPlan, FileEdit
from revgraph.fixes.textedit import render_revises, replace_spans
from revgraph.model import RevisionGraph


def plan_docstrings(
    graph: RevisionGraph, *, landed: frozenset[str], sources: Mapping[str, bytes]
) -> EditPlan:
    edits: list[FileEdit] = []
    notes: list[str] = []
    for rev in sorted(graph, key=lambda r: r.path):
        id_span = rev.spans.get("revision_id_line")
        fix_id = rev.doc_revision_id is not None and rev.doc_revision_id.strip() != rev.id and id_span
        revises_span = rev.spans.get("revises_line")
        fix_revises = (
            rev.doc_revises is not None and revises_ids(rev.doc_revises) != set(rev.down_revisions) and revises_span
        )
        if not (fix_id or fix_revises):
            continue
        source = sources.get(rev.path)
        if source is None:
            notes.append(f"could not read {rev.path}; its docstring was not repaired")
            continue
        replacements = []
        if fix_id:
            replacements.append((id_span.start, id_span.end, rev.id.encode("utf-8")))
        if fix_revises:
            # In the value's own form: `a, b`, or the ('a', 'b') some templates write.
            like = source[revises_span.start : revises_span.end]
            replacements.append((revises_span.start, revises_span.end, render_revises(rev.down_revisions, like=like)))
        new = replace_spans(source, replacements)
        if new != source:
            edits.append(FileEdit(rev.path, source, new))
    return EditPlan(strategy="docstrings", edits=tuple(edits), moves=(), notes=tuple(notes))
