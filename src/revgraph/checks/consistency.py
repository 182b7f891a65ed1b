"""RG401–RG403: what else records the graph (lock file, docstrings, file names) agrees."""

from __future__ import annotations

import posixpath
from typing import Iterator

from revgraph.checks.context import CheckContext, Hit, id_list, named, where
from revgraph.findings import Location
from revgraph.model import Revision


# ------------------------------------------------------------------ RG401
def check_lock_file(ctx: CheckContext) -> Iterator[Hit]:
    """RG401: the lock file's heads are not the graph's heads."""
    if ctx.lock_heads is None:
        return
    recorded, actual = set(ctx.lock_heads), set(ctx.head_graph.heads)
    if recorded == actual:
        return
    lock = ctx.lock_path or "the lock file"
    # No subjects: the lock file is not a revision and carries no ignore comments.
    yield Hit(
        "RG401",
        f"{lock} records heads {id_list(sorted(recorded)) or 'none'} but the graph's heads are "
        f"{id_list(sorted(actual)) or 'none'}",
        revisions=tuple(sorted(recorded | actual)),
        locations=(Location(ctx.lock_path, 1),) if ctx.lock_path else (),
        fix="revgraph lock",
    )


# ------------------------------------------------------------------ RG402
def revises_ids(text: str) -> frozenset[str]:
    """The ids of a docstring's ``Revises:`` value (``a, b`` for merges, empty for a base)."""
    ids = {part.strip().strip("'\"()") for part in text.split(",")}
    return frozenset(i for i in ids if i and i != "None")


def _docstring_disagreements(rev: Revision) -> list[str]:
    found = []
    if rev.doc_revision_id is not None and rev.doc_revision_id.strip() != rev.id:
        found.append(f"Revision ID: {rev.doc_revision_id.strip()} but revision = {rev.id}")
    if rev.doc_revises is not None and revises_ids(rev.doc_revises) != set(rev.down_revisions):
        down = ", ".join(rev.down_revisions) or "None"
        found.append(f"Revises: {rev.doc_revises.strip() or '(empty)'} but down_revision = {down}")
    return found


def check_docstrings(ctx: CheckContext) -> Iterator[Hit]:
    """RG402."""
    for rev in sorted(ctx.head_graph, key=lambda r: r.id):
        problems = _docstring_disagreements(rev)
        if not problems:
            continue
        id_wrong = (rev.doc_revision_id or rev.id).strip() != rev.id
        key = "revision_id_line" if id_wrong else "revises_line"
        if key not in rev.spans:
            key = "docstring"
        yield Hit(
            "RG402",
            f"docstring of {named(rev, key)} disagrees with the assignments: {'; '.join(problems)}",
            revisions=(rev.id,),
            locations=(where(rev, key),),
            fix="revgraph fix --docstrings",
            subjects=(rev,),
        )


# ------------------------------------------------------------------ RG403
def check_file_names(ctx: CheckContext) -> Iterator[Hit]:
    """RG403: the template puts the id in the name, but this file's name lacks it."""
    if "%(rev)s" not in ctx.file_template:
        return
    for rev in sorted(ctx.head_graph, key=lambda r: r.id):
        name = posixpath.basename(rev.path)
        if not name or rev.id in name:
            continue
        yield Hit(
            "RG403",
            f"file name of {named(rev)} does not carry its revision id {rev.id} "
            f"(file_template {ctx.file_template})",
            revisions=(rev.id,),
            locations=(where(rev),),
            subjects=(rev,),
        )
