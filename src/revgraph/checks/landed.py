"""RG201–RG204: what HEAD did to revisions that have already landed on base.

Only revisions HEAD inherited count (in base and in the merge base): what base
added after HEAD branched is not HEAD's to delete or re-point, and an id both
sides added independently is RG103's business. Base's remote copy (a local
main behind origin/main) is judged the same way against its own merge base
with HEAD, and named in messages and restore hints.
"""

from __future__ import annotations

from itertools import compress
from operator import is_not, ne
from typing import Container, Iterable, Iterator

from revgraph.checks.context import CheckContext, Hit, named, where
from revgraph.model import Revision, RevisionGraph
from revgraph.shellwords import git_remove, git_restore, shell_word


def parents_text(down_revisions: tuple[str, ...]) -> str:
    """A down_revision tuple as messages write it: ``a, b``, or ``None`` for a base."""
    return ", ".join(down_revisions) if down_revisions else "None"


def edited_landed_history(
    graph: RevisionGraph, landed: Container[str], base: RevisionGraph
) -> tuple[list[str], dict[str, str]]:
    """The landed revisions ``graph`` re-points (sorted) and those it lacks though a landed
    revision names them as a parent (missing id -> the first landed one naming it):
    what makes ``fix`` refuse either strategy (RG201, RG202), and what RG101/RG102
    then say instead of offering it.

    Missing: deleted here, or never brought in (a cherry-pick of its child);
    the graph alone cannot tell, so the messages say both.
    """
    mine = graph.revisions
    # A file both snapshots read alike is one Revision object (the parse cache
    # places one per blob and path): only the others can differ.
    repointed = sorted(
        rid for rid, rev in base.revisions.items()
        if (here := mine.get(rid)) is not None and here is not rev and rid in landed
        and set(here.down_revisions) != set(rev.down_revisions)
    )  # fmt: skip
    named_by: dict[str, str] = {}
    for d in graph.dangling:
        if d.kind == "down" and d.revision in landed and d.target in base and d.target not in graph:
            named_by.setdefault(d.target, d.revision)
    return repointed, named_by


def repointed_landed(ctx: CheckContext, rev: Revision) -> Revision | None:
    """The landed copy of ``rev`` (base's, else base's remote copy's) when ``rev`` is a
    landed revision HEAD inherited and gave other parents, else None."""
    base = ctx.base_graph
    if base is None:
        return None
    if rev.id in ctx.inherited and rev.id in base:
        landed = base[rev.id]
    elif rev.id in ctx.remote_inherited:
        landed = ctx.remote_only[rev.id]
    else:
        return None
    if rev.path != landed.path and ctx.head_copy(rev.id, landed.path) is not rev:
        return None  # another file at the landed path declares it: this one is new (RG103)
    return landed if set(landed.down_revisions) != set(rev.down_revisions) else None


def restore_command(
    ctx: CheckContext, landed: Revision, current: Revision | None, source: str | None = None
) -> str | None:
    """``git restore`` of the landed file from ``source`` (default: where ``landed`` was
    read, base or its remote copy); when HEAD keeps it under another name, that copy
    is removed too (two files declaring one id would be RG103)."""
    source = source or _source_of(ctx, landed)
    if not source:
        return None
    restore = git_restore(source, [ctx.here(landed.path)])
    if current is not None and current.path != landed.path:
        return f"{restore} && {git_remove(ctx.here(current.path))}"
    return restore


def _source_of(ctx: CheckContext, landed: Revision) -> str | None:
    """The ref ``landed`` (a landed copy the rules compare with) was read from."""
    return ctx.remote_ref if ctx.remote_only.get(landed.id) is landed else ctx.base_ref


def check_repointed(ctx: CheckContext) -> Iterator[Hit]:
    """RG201: HEAD changed a landed revision's down_revision."""
    base = ctx.base_graph
    if base is None:
        return
    head, merge_base = ctx.head_graph, ctx.merge_base_revisions
    inherited = ctx.inherited.intersection(head.revisions)
    candidates = _down_revisions_differ(inherited, head, base)
    if head.duplicates:  # the graph keeps one file of several: the landed one is judged
        candidates.update(inherited.intersection(head.duplicates))
    for rid in sorted(candidates):
        ours = ctx.head_copy(rid, base[rid].path)
        landed = repointed_landed(ctx, ours)
        if landed is None:
            continue
        if merge_base is not None and rid in merge_base:
            if set(ours.down_revisions) == set(merge_base[rid].down_revisions):
                continue  # base re-pointed it, not HEAD
        yield _repointed(ours, landed, ctx.base_label, restore_command(ctx, landed, ours))
    yield from check_repointed_remote(ctx)
    yield from check_repointed_protected(ctx)


def check_repointed_remote(ctx: CheckContext) -> Iterator[Hit]:
    """RG201 for revisions landed on base's remote copy only, judged as base's are.

    Only what HEAD inherited (the merge base of HEAD and the remote copy has
    it), and only when HEAD's parents differ from that merge base's too: a
    revision the remote copy re-pointed after HEAD took it comes back with
    the merge, unchanged by HEAD.
    """
    head = ctx.head_graph
    for rid in sorted(set(ctx.remote_inherited).intersection(head.revisions)):
        ours = ctx.head_copy(rid, ctx.remote_only[rid].path)
        landed = repointed_landed(ctx, ours)
        if landed is None or set(ours.down_revisions) == set(ctx.remote_inherited[rid].down_revisions):
            continue
        yield _repointed(ours, landed, ctx.remote_label, restore_command(ctx, landed, ours))


def _repointed(ours: Revision, landed: Revision, where_landed: str, fix: str | None) -> Hit:
    return Hit(
        "RG201",
        f"landed revision {named(ours, 'down_revision')} was re-pointed: down_revision is "
        f"{parents_text(ours.down_revisions)} but {parents_text(landed.down_revisions)} "
        f"in {where_landed}",
        revisions=(ours.id,),
        locations=(where(ours, "down_revision"),),
        fix=fix,
        subjects=(ours,),
    )


def check_repointed_protected(ctx: CheckContext) -> Iterator[Hit]:
    """RG201 for revisions landed on a protected ref only: HEAD's copy has other parents.

    Compared by content alone, as the result cache keys it (each protected
    ref's tree): whoever re-pointed it, the copy deployed from that ref is
    the one databases have run.
    """
    head = ctx.head_graph
    base = ctx.base_graph
    for rid in sorted(set(ctx.protected_only).intersection(head.revisions)):
        if base is not None and rid in base:
            continue
        ref, landed = ctx.protected_only[rid]
        ours = ctx.head_copy(rid, landed.path)
        if set(ours.down_revisions) == set(landed.down_revisions):
            continue
        yield _repointed(ours, landed, f"{ref} (protected)", restore_command(ctx, landed, ours, ref))


def _down_revisions_differ(ids: Iterable[str], head: RevisionGraph, base: RevisionGraph) -> set[str]:
    """A superset of the ``ids`` whose down_revisions differ between HEAD and base.

    Runs over every landed revision, so in C (map/compress) and without
    reading the Revision objects: one object serving both snapshots (a
    shared parse) is unchanged; a revision regular in both graphs has its
    down_revisions as its parents, so equal parents mean nothing was
    re-pointed; the irregular ones (merges, bases, ...) are looked at in full.
    """
    ids = list(ids)
    ours = map(head.revisions.__getitem__, ids)
    theirs = map(base.revisions.__getitem__, ids)
    ids = list(compress(ids, map(is_not, ours, theirs)))
    ours_parents = map(head.parent_map.__getitem__, ids)
    theirs_parents = map(base.parent_map.__getitem__, ids)
    differ = set(compress(ids, map(ne, ours_parents, theirs_parents)))
    differ.update(head.irregular.intersection(ids))
    differ.update(base.irregular.intersection(ids))
    return differ


def check_deleted(ctx: CheckContext) -> Iterator[Hit]:
    """RG202: a landed revision HEAD inherited is gone from HEAD."""
    base = ctx.base_graph
    if base is None:
        return
    head = ctx.head_graph.revisions
    # A file HEAD holds but cannot read (RG107, e.g. conflict markers mid-merge)
    # is not a deletion: restoring base's copy would throw away HEAD's side.
    unreadable = {problem.path for problem in ctx.head.problems}
    for rid in sorted(ctx.inherited.difference(head)):
        if base[rid].path not in unreadable:
            yield _deleted(ctx, base[rid], ctx.base_label)
    for rid in sorted(set(ctx.remote_inherited).difference(head)):
        if ctx.remote_only[rid].path not in unreadable:
            yield _deleted(ctx, ctx.remote_only[rid], ctx.remote_label)
    for rid in sorted(set(ctx.protected_inherited).difference(head)):
        ref, landed = ctx.protected_inherited[rid]
        if landed.path not in unreadable:
            yield _deleted(ctx, landed, f"protected ref {ref}", source=ref)


def _deleted(ctx: CheckContext, landed: Revision, where_landed: str, *, source: str | None = None) -> Hit:
    # No subjects: the file that could carry an ignore comment is gone.
    moved = ctx.moved_out.get(landed.path)
    if moved is not None:  # alembic no longer sees it: moving it back is the fix
        return Hit(
            "RG202",
            f"landed revision {landed.id} ({landed.path} in {where_landed}) was moved to {moved}, "
            "where alembic does not look for revisions",
            revisions=(landed.id,),
            locations=(where(landed),),
            fix=f"git mv -- {shell_word(ctx.here(moved))} {shell_word(ctx.here(landed.path))}",
        )
    return Hit(
        "RG202",
        f"landed revision {landed.id} ({landed.path} in {where_landed}) was deleted",
        revisions=(landed.id,),
        locations=(where(landed),),
        fix=restore_command(ctx, landed, None, source),
    )


def check_body_edited(ctx: CheckContext) -> Iterator[Hit]:
    """RG203: the edge found the landed body changed beyond layout, comments and docstrings (``parse.fingerprint``)."""
    head = ctx.head_graph
    base = ctx.base_graph
    for rid in sorted(ctx.body_changed.intersection(head.revisions) - ctx.added_on_both_sides):
        landed = base.revisions.get(rid) if base is not None else None
        where_landed, source = ctx.base_label, None
        if landed is None and rid in ctx.remote_inherited:
            landed, where_landed = ctx.remote_only[rid], ctx.remote_label
        elif landed is None and rid in ctx.protected_only:
            source, landed = ctx.protected_only[rid]
            where_landed = f"{source} (protected)"
        ours = ctx.head_copy(rid, landed.path) if landed is not None else head[rid]
        yield Hit(
            "RG203",
            f"landed revision {named(ours)} was edited: its body differs from "
            f"{where_landed} beyond layout, comments and docstrings",
            revisions=(rid,),
            locations=(where(ours),),
            fix=restore_command(ctx, landed, ours, source) if landed is not None else None,
            subjects=(ours,),
        )


def check_new_base(ctx: CheckContext) -> Iterator[Hit]:
    """RG204: HEAD adds a root base does not have (never for the project's first root)."""
    base = ctx.base_graph
    if base is None or len(base) == 0:
        return
    head = ctx.head_graph
    roots = ", ".join(base.bases) or "none"
    for rid in head.bases:
        if rid in base or rid in ctx.landed:
            continue
        rev = head[rid]
        yield Hit(
            "RG204",
            f"new base {named(rev, 'down_revision')}: down_revision is None, starting a "
            f"history beside {ctx.base_label}'s base {roots}",
            revisions=(rid,),
            locations=(where(rev, "down_revision"),),
            subjects=(rev,),
        )
