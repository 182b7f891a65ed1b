"""RG301, RG302: changes whose order matters, and merges that join nothing."""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

from revgraph.checks.context import CheckContext, Hit, named, where
from revgraph.model import Revision, RevisionGraph


# ------------------------------------------------------------------ RG301
def touched_items(rev: Revision) -> frozenset[str]:
    """What a revision touches, for comparison: tables by name, other objects by kind.

    ``column:users.email`` also touches table ``users``: a column change and a
    table rename collide as surely as two column changes do.
    """
    return frozenset(f"{kind} {name}" if kind else name for kind, name in _items(rev.touches))


def touched_names(touches: Iterable[str]) -> set[str]:
    """The names in ``touched_items`` of a revision with ``touches`` (tables, indexes, ...)."""
    return {name for _, name in _items(touches)}


def _items(touches: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(kind, name)`` per touch; kind "" for a table (a column counts as its table)."""
    for touch in touches:
        kind, _, name = touch.partition(":")
        if not name:
            continue
        if kind == "table":
            yield "", name
        elif kind == "column":
            yield "", name.rpartition(".")[0] or name
        else:
            yield kind, name


def _new_since_merge_base(ctx: CheckContext) -> tuple[list[Revision], list[Revision]]:
    assert ctx.base_graph is not None and ctx.merge_base_revisions is not None
    head, base = ctx.head_graph, ctx.base_graph
    before = ctx.merge_base_revisions
    # head_new is HEAD minus base, base_new base minus the merge base (there
    # is one here): each side's few new ids, without sets of every id.
    ours = sorted(rid for rid in ctx.head_new if rid not in before)
    theirs = sorted(rid for rid in ctx.base_new if rid not in head)
    return [head[r] for r in ours], [base[r] for r in theirs]


def check_overlapping_changes(ctx: CheckContext) -> Iterator[Hit]:
    """RG301: one finding per (HEAD revision, base revision) pair that touch the same thing."""
    if ctx.base_graph is None or ctx.merge_base_revisions is None:
        return
    ours, theirs = _new_since_merge_base(ctx)
    theirs_by_item: dict[str, list[Revision]] = {}
    for rev in theirs:
        for item in touched_items(rev):
            theirs_by_item.setdefault(item, []).append(rev)
    for mine in ours:
        shared: dict[str, set[str]] = {}
        for item in touched_items(mine):
            for other in theirs_by_item.get(item, ()):
                shared.setdefault(other.id, set()).add(item)
        for other_id in sorted(shared):
            other = ctx.base_graph[other_id]
            yield Hit(
                "RG301",
                f"{named(mine)} in HEAD and {named(other)} in {ctx.base_label} both touch "
                f"{', '.join(sorted(shared[other_id]))}: their order matters",
                revisions=(mine.id, other.id),
                locations=(where(mine), where(other)),
                subjects=(mine, other),
            )


# ------------------------------------------------------------------ RG302
def check_redundant_merge_parents(ctx: CheckContext) -> Iterator[Hit]:
    """RG302: a merge parent that another parent already descends from."""
    graph = ctx.head_graph
    if not graph.merge_points:
        return
    order = graph.topological_order()  # shared with the cycle search (RG105)
    if order is None:  # a cycle: depths, as far as they are defined
        depth = _depths(graph)

        def reaches(start: str, target: str) -> bool:
            return _reaches(graph, depth, start, target)
    else:
        position = dict(zip(order, range(len(order))))

        def reaches(start: str, target: str) -> bool:
            return _reaches_ordered(graph, position, start, target)

    for rid in graph.merge_points:
        parents = graph.parents(rid)
        redundant = [(p, q) for p in parents for q in parents if p != q and reaches(q, p)]
        if not redundant:
            continue
        rev = graph[rid]
        pairs = "; ".join(f"{p} is already an ancestor of {q}" for p, q in redundant)
        yield Hit(
            "RG302",
            f"merge revision {named(rev, 'down_revision')} names a redundant parent: {pairs}",
            revisions=(rid,) + tuple(dict.fromkeys(p for p, _ in redundant)),
            locations=(where(rev, "down_revision"),),
            subjects=(rev,),
        )


def _depths(graph: RevisionGraph) -> dict[str, int]:
    """Longest down_revision path from a base; revisions on a cycle get none."""
    waiting = {rid: len(graph.parents(rid)) for rid in graph.revisions}
    ready = [rid for rid, count in waiting.items() if count == 0]
    depth = {rid: 0 for rid in ready}
    while ready:
        rid = ready.pop()
        for child in graph.children(rid):
            depth[child] = max(depth.get(child, 0), depth[rid] + 1)
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return {rid: d for rid, d in depth.items() if waiting[rid] == 0}


def _reaches(graph: RevisionGraph, depth: dict[str, int], start: str, target: str) -> bool:
    """Whether ``target`` is an ancestor of ``start`` through down_revision.

    Depth only falls going down, so nothing shallower than ``target`` can lead
    to it: the walk stays near the merge instead of covering all history.
    """
    floor = depth.get(target)
    if floor is None:
        return _walk_reaches(graph, start, target, lambda rid: False)
    return _walk_reaches(graph, start, target, lambda rid: rid in depth and depth[rid] <= floor)


def _reaches_ordered(
    graph: RevisionGraph, position: dict[str, int], start: str, target: str
) -> bool:
    """``_reaches`` bounded by a topological order instead of depths.

    Every revision on a path from ``start`` down to ``target`` descends from
    ``target``, so comes after it in the order: whatever comes before it is
    left alone. The order is the graph's own (computed once, shared with
    the cycle search), where the depths would cost a pass of their own.
    """
    floor = position[target]
    return _walk_reaches(graph, start, target, lambda rid: position[rid] < floor)


def _walk_reaches(graph: RevisionGraph, start: str, target: str, cannot_lead: Callable[[str], bool]) -> bool:
    """Walk down from ``start``'s parents to ``target``, not past what ``cannot_lead`` to it."""
    seen: set[str] = set()
    stack = list(graph.parents(start))
    while stack:
        rid = stack.pop()
        if rid == target:
            return True
        if rid in seen:
            continue
        seen.add(rid)
        if cannot_lead(rid):
            continue
        stack.extend(graph.parents(rid))
    return False
