"""RG101–RG107: the shape of the graph, in HEAD and in the predicted merge.

Problems of the predicted merge (RG103–RG106) are reported only when the merge
makes them: a problem HEAD or base already has is reported once, on HEAD (or is
base's own business).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import AbstractSet, Callable, Container, Iterable, Iterator, Mapping, Sequence

from revgraph.checks.context import CheckContext, Hit, at, chain, id_list, name_carries, named, where
from revgraph.findings import Location
from revgraph.model import LabelProblem, Revision, RevisionGraph
from revgraph.shellwords import shell_word


# ------------------------------------------------------------------ heads
def label_lineage(graph: RevisionGraph, head: str) -> frozenset[str]:
    """Branch labels declared by ``head`` or one of its ancestors.

    One sweep per graph serves every head (``RevisionGraph.lineage_labels``),
    instead of a walk over all of each head's ancestors.
    """
    return graph.lineage_labels(head)


def landed_labels(ctx: CheckContext, graph: RevisionGraph) -> frozenset[str]:
    """Labels of ``graph`` that count as landed.

    Without a base snapshot nothing tells a new label from a landed one, so
    every label counts (outside git, labelled branches are the only layout).
    """
    base_labels = ctx.base_graph.labels if ctx.base_graph is not None else None
    return landed_label_names(graph.labels, base_labels, ctx.landed)


def landed_label_names(
    labels: Mapping[str, str], base_labels: Container[str] | None, landed: Container[str]
) -> frozenset[str]:
    """``landed_labels`` from plain data: ``labels`` (label -> declaring id) that base has or whose declarer landed.

    ``base_labels`` None: no base to ask, every label counts. The merge
    driver calls this with its own facts (it builds no graph).
    """
    if base_labels is None:
        return frozenset(labels)
    return frozenset(
        label for label, owner in labels.items() if label in base_labels or owner in landed
    )


@dataclass(frozen=True)
class HeadLanes:
    """Heads sorted into lanes: heads whose landed labels overlap share a lane.

    Each lane may hold one head: alembic's ``label@head`` names every head
    on the label's line, so two heads that share a landed label (even beside
    labels of their own, as a merge revision has) make it ambiguous. The
    unlabelled lane is a lane of its own only when there is nothing else,
    when base already has an unlabelled head beside its labelled ones, or
    when there is no base to ask; otherwise a head on it (say, on a label
    that has not landed) competes with every other head.
    """

    heads: tuple[str, ...]
    competing: tuple[str, ...]  # the heads to name; empty when the layout is fine
    excess: int  # heads beyond one per lane


def head_lanes(ctx: CheckContext, graph: RevisionGraph) -> HeadLanes:
    return sort_into_lanes(
        graph.heads,
        partial(label_lineage, graph),
        landed_labels(ctx, graph),
        partial(_base_has_unlabelled_head, ctx),
    )


def sort_into_lanes(
    heads: Sequence[str],
    lineage: Callable[[str], AbstractSet[str]],
    allowed: AbstractSet[str],
    base_has_unlabelled_head: Callable[[], bool],
) -> HeadLanes:
    """``head_lanes`` from plain data, the one definition RG101, RG102 and the merge driver share.

    ``lineage(head)``: the labels declared by the head or its ancestors;
    ``allowed``: the landed labels; ``base_has_unlabelled_head`` is asked
    only when an unlabelled head shares the graph with labelled ones.
    """
    heads = tuple(heads)
    if len(heads) < 2:
        return HeadLanes(heads, (), 0)
    lanes = _lanes_by_shared_labels(heads, lineage, allowed)
    unlabelled = lanes.pop(frozenset(), None)
    unlabelled_ok = unlabelled is None or not lanes or base_has_unlabelled_head()
    legit = len(lanes) + (1 if unlabelled is not None and unlabelled_ok else 0)
    excess = len(heads) - legit
    if not unlabelled_ok:
        return HeadLanes(heads, heads, excess)
    members = list(lanes.values()) + ([unlabelled] if unlabelled is not None else [])
    crowded = sorted(h for lane in members if len(lane) > 1 for h in lane)
    return HeadLanes(heads, tuple(crowded), excess)


def _lanes_by_shared_labels(
    heads: Sequence[str], lineage: Callable[[str], AbstractSet[str]], allowed: AbstractSet[str]
) -> dict[frozenset[str], list[str]]:
    """Landed labels of a lane -> its heads; a head joins every lane it shares a label with."""
    lanes: dict[frozenset[str], list[str]] = {}
    for head in heads:
        key = frozenset(lineage(head) & allowed)
        members = [head]
        if key:
            for other in [k for k in lanes if k & key]:
                key |= other
                members = lanes.pop(other) + members
        lanes.setdefault(key, []).extend(members)
    return lanes


def _base_has_unlabelled_head(ctx: CheckContext) -> bool:
    base = ctx.base_graph
    if base is None:
        return True
    return any(not label_lineage(base, head) for head in base.heads)


def within_allowance(ctx: CheckContext, graph: RevisionGraph) -> bool:
    return heads_allowed(len(graph.heads), ctx.allow_heads)


def heads_allowed(count: int, allow_heads: int | None) -> bool:
    """``[tool.revgraph] allow_heads`` permits ``count`` heads whatever their lanes."""
    return allow_heads is not None and count <= allow_heads


def competing_heads(
    heads: Sequence[str],
    lineage: Callable[[str], AbstractSet[str]],
    allowed: AbstractSet[str],
    base_has_unlabelled_head: Callable[[], bool],
    allow_heads: int | None,
) -> tuple[str, ...]:
    """RG101's verdict on a graph given as plain data: the heads to name, empty when healthy.

    ``check_multiple_heads`` asks it of HEAD's graph; the merge driver of
    the graph a merge would leave (``gitops.union``).
    """
    if heads_allowed(len(heads), allow_heads):
        return ()
    return sort_into_lanes(heads, lineage, allowed, base_has_unlabelled_head).competing


def check_multiple_heads(ctx: CheckContext) -> Iterator[Hit]:
    """RG101."""
    graph = ctx.head_graph
    competing = competing_heads(
        graph.heads,
        partial(label_lineage, graph),
        landed_labels(ctx, graph),
        partial(_base_has_unlabelled_head, ctx),
        ctx.allow_heads,
    )
    if not competing:
        return
    heads = [graph[h] for h in competing]
    allowance = f" (allow_heads = {ctx.allow_heads})" if ctx.allow_heads is not None else ""
    # The heads on lines of their own (a landed branch label) are not named:
    # say how many of the count compete, so the list does not look short.
    which = "competing" if len(heads) == len(graph.heads) else f"{len(heads)} of them competing"
    message = f"{len(graph.heads)} heads{allowance}, {which} for `upgrade head`: " + ", ".join(
        named(rev) for rev in heads
    )
    fix: str | None = _multiple_heads_fix(ctx, competing)
    landed = landed_labels(ctx, graph)
    joins = merge_groups(ctx, graph, competing)
    orphans = _hang_off_a_missing_parent(graph, competing)
    doubled = _ids_fix_will_not_renumber(ctx)
    if orphans:
        # A head made by a missing parent: alembic cannot load this graph at all,
        # and fix refuses it until RG104 (or RG202's restore) is done.
        fix = None
        verb = "hangs" if len(orphans) == 1 else "hang"
        message += f"; {', '.join(orphans)} {verb} off a missing parent (RG104): mend that first"
    elif edited := _edited_history_note(ctx):
        fix = None
        message += edited
    elif doubled and fix is not None:
        # Either strategy refuses while an id is declared twice, unless it is the
        # branch's copy of an id base has landed once (fix renumbers that one).
        fix = None
        verb = "is" if len(doubled) == 1 else "are"
        message += f"; {', '.join(doubled)} {verb} declared by several files (RG103): mend that first"
    elif not joins.groups and joins.unplaced:
        # Neither strategy can tell which labelled line they continue.
        fix = None
        message += (
            f"; {', '.join(joins.unplaced)} {'continues' if len(joins.unplaced) == 1 else 'continue'} "
            "no branch line, beside several "
            f"({', '.join(joins.lines)}): point its down_revision at the head of the line it belongs to"
        )
    elif not joins.groups and (new_lines := [h for h in competing if set(graph.labels_of(h)) - landed]):
        # Each head is alone on its own branch labels, one of them not landed yet:
        # neither strategy joins distinct labelled lines, so no command fixes it.
        # Once the label lands its head is allowed, so the pull request that starts
        # the line is the one to let through: a comment in its head's file says so
        # for this line only, where allow_heads would let any extra head pass.
        fix = None
        message += (
            f"; if the new branch line is meant, add `# revgraph: ignore[RG101]` to "
            f"{_files_of(graph, new_lines)} (once its label lands, its head is allowed), "
            "or count it in `allow_heads` in [tool.revgraph]"
        )
    elif fix == MERGE_FIX and (why := merge_unavailable(ctx.template_path, ctx.has_template)):
        # The merge revision is rendered from the environment's script.py.mako:
        # without one, `fix --strategy merge` cannot run (nor can `alembic merge`).
        fix = None
        message += f"; {why}"
    elif fix is not None and ctx.base_ref and ctx.base_graph is not None and ctx.merge_base is not None:
        message += _from_base_note(ctx, competing)  # (not fix's own re-check: no merge base there)
    # The first location is where annotations and the report line point: a head
    # this branch adds, not a landed file outside the pull request. Revisions
    # follow the same order, so revisions[i] is at locations[i] (fix pairs them).
    placed = sorted(heads, key=lambda rev: rev.id not in ctx.head_new)
    yield Hit(
        "RG101",
        message,
        revisions=tuple(rev.id for rev in placed),
        locations=tuple(where(rev) for rev in placed),
        fix=fix,
        subjects=tuple(heads),
    )


def _edited_history_note(ctx: CheckContext) -> str | None:
    """What RG101 and RG102 say instead of a fix while landed history is edited here:
    ``fix`` refuses either strategy then (``checks.landed.edited_landed_history``), and
    RG201/RG202 carry the restore, after which the extra heads may be gone."""
    if ctx.base_graph is None:
        return None
    from revgraph.checks.landed import edited_landed_history

    repointed, missing = edited_landed_history(ctx.head_graph, ctx.landed, ctx.base_graph)
    edited = sorted({*repointed, *missing})
    if not edited:
        return None
    one = len(edited) == 1
    return (
        f"; landed {', '.join(edited)} {'was' if one else 'were'} re-pointed or deleted here "
        f"(RG201, RG202): restore {'it' if one else 'them'} first"
    )


def _ids_fix_will_not_renumber(ctx: CheckContext) -> list[str]:
    """Ids HEAD declares in several files that fix refuses: not one landed copy in base
    beside the branch's own (both new, or base itself declares the id twice)."""
    duplicates = ctx.head_graph.duplicates
    if not duplicates:
        return []
    base = ctx.base_graph
    return sorted(rid for rid in duplicates if base is None or rid not in base or rid in base.duplicates)


def _from_base_note(ctx: CheckContext, competing: Sequence[str]) -> str:
    """Where a new head competes with base's own: the fix runs on a branch that has both.

    A pull request's CI checkout (GitHub's merge ref) is base with the branch
    merged in, so the classic race shows here as RG101; on the developer's
    branch, which lacks base's revision, the rebase refuses until base is
    merged. Said in the message, not the fix line: on a branch that already
    merged base, the fix line is right as it is. Not while the lock file holds
    the merge driver's conflict: base is being merged or rebased onto right
    now, and RG401 says to run `revgraph fix`.
    """
    from_base = [h for h in competing if h in ctx.base_graph]  # (so none of them is new)
    if ctx.lock_conflicted or not from_base or not any(h in ctx.head_new for h in competing):
        return ""
    return (
        f"; {', '.join(from_base)} came from {ctx.base_label}: on a branch without "
        f"{'it' if len(from_base) == 1 else 'them'}, run `git merge {shell_word(ctx.base_ref)}` first"
    )


def _files_of(graph: RevisionGraph, ids: Sequence[str]) -> str:
    return " and ".join(graph[rid].path for rid in ids)


def _hang_off_a_missing_parent(graph: RevisionGraph, heads: Iterable[str]) -> list[str]:
    """The ``heads`` whose line reaches a revision naming a down_revision that does not exist."""
    named_missing = {d.revision for d in graph.dangling if d.kind == "down"}
    if not named_missing:
        return []
    return [h for h in heads if h in named_missing or named_missing.intersection(graph.ancestors(h))]


def _multiple_heads_fix(ctx: CheckContext, competing: Iterable[str] = ()) -> str:
    """The rebase, unless the landed revisions themselves fork (it never moves those),
    a competing head's new chain starts a new base (nothing to re-point it from)
    or joins several branch lines (the rebase cannot tell which line it continues)."""
    if (
        ctx.base_ref
        and not _landed_side_forks(ctx)
        and not _new_base_competes(ctx, competing)
        and not _new_chain_joins_lines(ctx, competing)
    ):
        return ctx.fix_with_base(ctx.fix_command())
    return MERGE_FIX


MERGE_FIX = "revgraph fix --strategy merge"


def merge_unavailable(template_path: str | None, has_template: bool) -> str | None:
    """Why ``fix --strategy merge`` cannot write a merge revision in an environment, and
    what lets it; None when it can (``has_template``: its script.py.mako exists).

    ``template_path``: where that template belongs, as messages name paths (None for
    an environment given by its versions folders alone). RG101 says it instead of
    offering the merge; fix's hints, where the rebase cannot help, do too.
    """
    if has_template:
        return None
    if template_path is None:
        return (
            "no script.py.mako to render a merge revision from (the environment is given by its "
            "versions folder alone): point revgraph at its alembic.ini (-c), then "
            f"`{MERGE_FIX}` joins the heads"
        )
    return (
        f"no {template_path} to render a merge revision from: add alembic's template there "
        f"(`alembic init` writes one), then `{MERGE_FIX}` joins the heads"
    )


@dataclass(frozen=True)
class MergeGroups:
    """What ``fix --strategy merge`` joins: one merge revision per group of heads."""

    groups: tuple[tuple[str, ...], ...]
    # Unlabelled heads competing with several labelled lines: joining them to
    # one line or another is a choice nothing in the graph makes (``lines``).
    unplaced: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()


def merge_groups(ctx: CheckContext, graph: RevisionGraph, heads: Iterable[str] | None = None) -> MergeGroups:
    """The heads a merge revision joins, per line: RG101's lanes, with every branch label a line.

    Heads whose labels overlap share a line, as in RG101 (a merge revision of
    ``app`` and ``rep`` and a head on ``rep``). Unlike RG101, a label that has
    not landed is a line too: a branch started on purpose is not folded into
    another one (``allow_heads`` lets it through). Unlabelled heads share one
    line, unless RG101 has them compete with the labelled lines (base has no
    unlabelled head): beside one labelled line they are joined to it, as
    ``alembic merge heads`` would; beside several, they are ``unplaced``.
    """
    heads = tuple(graph.heads if heads is None else heads)
    lanes = _lanes_by_shared_labels(heads, partial(label_lineage, graph), frozenset(graph.labels))
    unlabelled = tuple(lanes.pop(frozenset(), ()))
    groups = [tuple(lane) for lane in lanes.values() if len(lane) > 1]
    if not unlabelled:
        return MergeGroups(tuple(groups))
    if not lanes or _base_has_unlabelled_head(ctx):
        return MergeGroups(tuple(groups) + ((unlabelled,) if len(unlabelled) > 1 else ()))
    if len(lanes) == 1:
        (line,) = lanes.values()
        return MergeGroups((tuple(line) + unlabelled,))
    return MergeGroups(tuple(groups), unlabelled, tuple(sorted(frozenset().union(*lanes))))


def _new_base_competes(ctx: CheckContext, competing: Iterable[str]) -> bool:
    """Whether a competing head's chain of new revisions reaches a ``down_revision = None``."""
    graph = ctx.head_graph
    for head in competing:
        if head in ctx.head_new:
            chain = _walk_down_within(graph, head, ctx.head_new)
            if any(not graph[rid].down_revisions for rid in chain):
                return True
    return False


def _new_chain_joins_lines(ctx: CheckContext, competing: Iterable[str]) -> bool:
    """Whether a competing head's chain of new revisions holds a merge revision whose
    parents lie on different branch lines and must move: it competes with a landed
    head. (Beside new heads only, the rebase keeps it in place and stacks the others.)"""
    graph = ctx.head_graph
    competing = tuple(competing)
    if all(head in ctx.head_new for head in competing):
        return False
    for head in competing:
        if head in ctx.head_new:
            for rid in _walk_down_within(graph, head, ctx.head_new):
                parents = graph.parents(rid)
                if len(parents) > 1 and len({graph.lineage_labels(p) for p in parents}) > 1:
                    return True
    return False


def _landed_side_forks(ctx: CheckContext) -> bool:
    """The landed revisions, as base (or HEAD, for the database's) records them, compete.

    Base's own version counts: a landed revision re-pointed in HEAD (RG201)
    is to be restored, not joined by a merge revision.
    """
    base, head = ctx.base_graph, ctx.head_graph
    if base is None:
        return False
    extra = [head[rid] for rid in sorted(ctx.landed) if rid in head and rid not in base]
    landed = RevisionGraph([*base, *extra]) if extra else base
    return bool(head_lanes(ctx, landed).competing) and not within_allowance(ctx, landed)


# ----------------------------------------------------- predicted merge (RG102)
def check_merge_would_fork(ctx: CheckContext) -> Iterator[Hit]:
    """RG102: the predicted merge has more competing heads than base and HEAD."""
    merged, base = ctx.merged_graph, ctx.base_graph
    if merged is None or base is None or within_allowance(ctx, merged):
        return
    lanes = head_lanes(ctx, merged)
    base_lanes = head_lanes(ctx, base)
    already = max(base_lanes.excess, head_lanes(ctx, ctx.head_graph).excess)
    if lanes.excess <= already or not lanes.competing:
        return  # HEAD's own extra heads are RG101's; base's are not this branch's doing
    chains = sorted(
        (_chain_of(ctx, merged, head) for head in lanes.competing), key=_Chain.sort_key
    )
    # Base may have heads on lines of their own: the count alone ("2 heads where
    # main has 2") would not say what is wrong; the heads that compete do.
    count = (
        f"{len(merged.heads)} heads where {ctx.base_label} has {len(base.heads)}"
        if len(merged.heads) > len(base.heads)
        else f"{len(lanes.competing)} heads competing on one line"
    )
    message = f"merging HEAD into {ctx.base_label} would leave {count}: {_describe_chains(chains)}"
    # The fork exists only once base's revisions are in the tree: bring
    # them in (the lock file stops the merge if the driver is installed),
    # then fix re-points this branch's chain onto base's head.
    fix: str | None = _merge_base_then_fix(ctx)
    orphans = _hang_off_a_missing_parent(merged, lanes.competing)
    merged_heads = set(merged.heads)
    base_own = [h for h in base_lanes.competing if h in merged_heads]
    if orphans:  # as in RG101: fix refuses a line with a missing parent (RG104)
        fix = None
        message += f"; {', '.join(orphans)} would hang off a missing parent (RG104): mend that first"
    elif edited := _edited_history_note(ctx):
        fix = None  # as in RG101
        message += edited
    elif base_own:
        # Base's own competing heads stay heads after the merge: the rebase never
        # moves landed heads, so it refuses; they are joined on base itself.
        fix = None
        message += (
            f"; {ctx.base_label} itself has competing heads ({', '.join(base_own)}): join them with a "
            f"merge revision on {ctx.base_label} first (`revgraph fix --strategy merge` there)"
        )
    elif _new_base_competes(ctx, lanes.competing):
        # This branch's chain starts a new base (two branches each wrote a
        # project's first migration): the rebase re-points no base and refused
        # the plain `revgraph fix` offered here; a merge revision joins them,
        # as RG101 and the lock file's conflict text already say.
        if why := merge_unavailable(ctx.template_path, ctx.has_template):
            fix = None
            message += f"; {why}"
        else:
            fix = f"git merge {shell_word(ctx.base_ref)}; {MERGE_FIX}" if ctx.base_ref else MERGE_FIX
    yield Hit(
        "RG102",
        message,
        revisions=tuple(rid for chain in chains for rid in chain.ids),
        locations=tuple(chain.location for chain in chains),
        fix=fix,
        subjects=tuple(rev for chain in chains if chain.new for rev in chain.revisions),
    )


def _merge_base_then_fix(ctx: CheckContext, *, renumbers: bool = False) -> str:
    """RG102's fix: bring base in, then the rebase (with ``--db`` when the check had one);
    ``renumbers``: the fix gives a revision a new id (RG103, see ``fix_command``)."""
    fix = ctx.with_db(ctx.fix_command(renumbers=renumbers))
    if ctx.base_ref:
        return f"git merge {shell_word(ctx.base_ref)}; {fix}"
    return fix


@dataclass(frozen=True)
class _Chain:
    """The revisions one side added leading to a head of the merge, oldest first.

    ``new`` is False for a landed head that merely competes (its "chain" is itself).
    """

    side: str  # "HEAD" or the base's name
    revisions: tuple[Revision, ...]
    hangs_off: tuple[str, ...]  # parents outside the chain
    new: bool

    def sort_key(self) -> tuple:
        # HEAD's chain first: it is the one the fix moves.
        return (self.side != "HEAD", not self.new, self.ids)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(rev.id for rev in self.revisions)

    @property
    def location(self) -> Location:
        root = self.revisions[0]
        return where(root, "down_revision" if self.new else "revision")

    def _linear(self) -> bool:
        """Whether each revision builds on the one before it: only then is ``a -> b -> c`` true.
        A side may add two lines and a merge revision joining them."""
        members = set(self.ids)
        previous = None
        for rev in self.revisions:
            within = [p for p in rev.down_revisions if p in members]
            if within != ([] if previous is None else [previous]):
                return False
            previous = rev.id
        return True

    def describe(self, with_parent: bool) -> str:
        root = self.revisions[0]
        key = "down_revision" if self.new else "revision"
        verb = "adds" if self.new else "has head"
        # Arrows only for a line: for lines joined by a merge they would claim an order.
        if self._linear():
            ids = chain(self.ids)
        else:
            ids = f"{len(self.ids):,} revisions up to {self.ids[-1]}: {id_list(self.ids)}"
        text = f"{self.side} {verb} {ids} ({at(root, key)})"
        if with_parent and self.hangs_off:
            text += f" on {', '.join(self.hangs_off)}"
        return text


def _chain_of(ctx: CheckContext, merged: RevisionGraph, head: str) -> _Chain:
    if head in ctx.head_new:
        side, new_ids = "HEAD", ctx.head_new
    elif head in ctx.base_new:
        # What HEAD already has is no part of base's chain: after a squash merge
        # the merge base is old, and HEAD's own revisions came back as base's.
        side, new_ids = ctx.base_label, ctx.base_new.difference(ctx.head_graph.revisions)
        if head not in new_ids:  # both sides added this head: its chain is base's as listed
            new_ids = ctx.base_new
    else:
        return _Chain(ctx.base_label, (merged[head],), (), new=False)
    members = _walk_down_within(merged, head, new_ids)
    order = topological(merged, members)
    hangs_off = sorted({p for rid in members for p in merged.parents(rid) if p not in members})
    return _Chain(side, tuple(merged[rid] for rid in order), tuple(hangs_off), new=True)


def _walk_down_within(graph: RevisionGraph, start: str, allowed: frozenset[str]) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        rid = stack.pop()
        if rid in seen or rid not in allowed:
            continue
        seen.add(rid)
        stack.extend(graph.parents(rid))
    return seen


def _describe_chains(chains: list[_Chain]) -> str:
    new_parents = {chain.hangs_off for chain in chains if chain.new}
    shared = len(new_parents) == 1 and next(iter(new_parents)) != ()
    text = ", ".join(chain.describe(with_parent=not shared) for chain in chains)
    if shared:
        parents = ", ".join(next(iter(new_parents)))
        both = "both" if len(chains) == 2 else "all"
        text += f"; {both} hang off {parents}"
    return text


def topological(graph: RevisionGraph, ids: Iterable[str]) -> list[str]:
    """``ids`` parents-first (down_revision and depends_on), ties by id; cycles last."""
    import heapq

    members = set(ids)
    waiting = {
        rid: sum(1 for p in graph.parents(rid, include_depends=True) if p in members)
        for rid in members
    }
    ready = [rid for rid, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        rid = heapq.heappop(ready)
        order.append(rid)
        for child in graph.children(rid, include_depends=True):
            if child in members:
                waiting[child] -= 1
                if waiting[child] == 0:
                    heapq.heappush(ready, child)
    placed = set(order)
    return order + sorted(members - placed)


# -------------------------------------------------------------- duplicates
def check_duplicate_ids(ctx: CheckContext) -> Iterator[Hit]:
    """RG103: in HEAD, across the two sides of the merge, in the predicted merge."""
    head = ctx.head_graph
    reported = set(head.duplicates)
    for rid in sorted(head.duplicates):
        revs = head.duplicates[rid]
        message = f"revision {rid} is declared by {len(revs)} files: {', '.join(at(r) for r in revs)}"
        fix = None
        base = ctx.base_graph
        if base is not None and rid in base and branch_copy(revs, base.duplicates.get(rid, (base[rid],))):
            # Base merged (or rebased onto) already: fix gives the other copy a new id.
            message += f"; {ctx.base_label} has landed {base[rid].path}: `revgraph fix` gives the other a new id"
            fix = ctx.fix_with_base(ctx.fix_command(renumbers=True))
        yield Hit(
            "RG103",
            message,
            revisions=(rid,),
            locations=tuple(where(r) for r in revs),
            fix=fix,
            subjects=revs,
        )
    for rid in sorted(ctx.added_on_both_sides - reported):
        ours, theirs = head[rid], ctx.base_graph[rid]  # type: ignore[index]
        if not different_files(ours, theirs):
            continue
        reported.add(rid)
        how = "at different paths" if ours.path != theirs.path else "with different content"
        fix = None
        if ours.path != theirs.path:
            # Two revisions that took one id (numbered ids taking the same next number):
            # base's has landed, so fix gives HEAD's a new one (``fixes.renumber``).
            how += f"; `revgraph fix` gives HEAD's a new id and re-points it once {ctx.base_label} is merged"
            fix = _merge_base_then_fix(ctx, renumbers=True)
        yield Hit(
            "RG103",
            f"revision {rid} is declared by HEAD in {at(ours)} and by {ctx.base_label} in "
            f"{at(theirs)} {how}",
            revisions=(rid,),
            locations=(where(ours), where(theirs)),
            fix=fix,
            subjects=(ours, theirs),
        )
    yield from _merge_only_duplicates(ctx, reported)


def branch_copy(copies: Sequence[Revision], landed: Sequence[Revision]) -> Revision | None:
    """Of the two files HEAD declares one id in, the one that is not base's: when base
    (``landed``: its files with that id) has the id in one file, at the other copy's
    path. None otherwise, and for a byte-for-byte copy of base's file (one migration
    twice: the copy is deleted, it takes no new id). What ``fixes.renumber`` gives a
    new id, and what RG103 says it will."""
    if len(copies) != 2 or len(landed) != 1:
        return None
    ours = [rev for rev in copies if rev.path != landed[0].path]
    if len(ours) != 1 or (ours[0].blob_id and ours[0].blob_id == landed[0].blob_id):
        return None
    return ours[0]


def different_files(ours: Revision, theirs: Revision) -> bool:
    """Whether two declarations of one id are two files (another path, or other bytes)."""
    if ours.path != theirs.path:
        return True  # git keeps both files: a duplicate whatever their content
    if ours.blob_id and theirs.blob_id:
        return ours.blob_id != theirs.blob_id
    return ours != theirs


def _merge_only_duplicates(ctx: CheckContext, reported: set[str]) -> Iterator[Hit]:
    merged = ctx.merged_graph
    if merged is None:
        return
    base_dups = set(ctx.base_graph.duplicates) if ctx.base_graph is not None else set()
    for rid in sorted(set(merged.duplicates) - reported - base_dups):
        revs = merged.duplicates[rid]
        if len({r.path for r in revs}) == 1:
            # Both sides of a content conflict in one file (the predicted merge
            # keeps each side): not two files, but git stops with markers there.
            what = f"be a merge conflict in {at(revs[0])}"
            how, locations = "both sides changed that file", (where(revs[0]),)
        else:
            what = f"be declared by {len(revs)} files"
            how, locations = ", ".join(at(r) for r in revs), tuple(where(r) for r in revs)
        yield Hit(
            "RG103",
            f"revision {rid} would {what} after merging HEAD into {ctx.base_label}: {how}",
            revisions=(rid,),
            locations=locations,
            subjects=revs,
        )


# ---------------------------------------------------------------- dangling
def check_dangling(ctx: CheckContext) -> Iterator[Hit]:
    """RG104."""
    for graph, dangling, suffix in _graph_problems(ctx, lambda g: g.dangling):
        rev = graph[dangling.revision]
        key = "down_revision" if dangling.kind == "down" else "depends_on"
        if dangling.kind == "down" and dangling.target in graph.labels:
            # depends_on may name a branch label; down_revision may not (alembic: KeyError).
            heads = [h for h in graph.heads if dangling.target in graph.labels_of(h) and h != rev.id]
            message = (
                f"{named(rev, key)}: down_revision names {dangling.target!r}{suffix}, a branch label "
                f"(declared by {graph.labels[dangling.target]}); alembic looks down_revision up by revision "
                f"id only, so it cannot load the revisions (KeyError: {dangling.target!r}): write the id of "
                "the revision it continues"
                + (f" ({dangling.target}'s head is {', '.join(heads)})" if heads else "")
            )
        else:
            message = (
                f"{named(rev, key)}: {key} names {dangling.target!r}, which does not exist{suffix}"
                + (_unreadable_declarer(ctx, dangling.target, merged=bool(suffix))
                   or _deleted_by_base(ctx, rev, dangling.target, key))
            )  # fmt: skip
        yield Hit(
            "RG104",
            message,
            revisions=(rev.id,),
            locations=(where(rev, key),),
            subjects=(rev,),
        )
    for graph, by_prefix, suffix in _graph_problems(ctx, lambda g: g.depends_by_prefix):
        rev = graph[by_prefix.revision]
        name, full = by_prefix.target, graph.resolve(by_prefix.target)
        yield Hit(
            "RG104",
            f"{named(rev, 'depends_on')}: depends_on names {name!r}, a prefix of {full}{suffix}: "
            f"alembic looks depends_on up by full id or branch label, so it cannot load the "
            f"revisions (KeyError: {name!r}); write {full!r}",
            revisions=(rev.id,),
            locations=(where(rev, "depends_on"),),
            subjects=(rev,),
        )


def _unreadable_declarer(ctx: CheckContext, target: str, merged: bool) -> str:
    """The unreadable file (RG107) that probably declares ``target``: its name carries the id.

    One non-literal value (neutron's ``branch_labels = (cli.EXPAND_BRANCH,)``)
    keeps a whole file out of the graph, so each revision built on it dangles;
    the message points at the cause instead of leaving "does not exist".
    """
    problems = list(ctx.head.problems)
    if merged:
        problems += ctx.merged.problems if ctx.merged is not None else ctx.base.problems if ctx.base else ()
    for problem in problems:
        if name_carries(problem.path.rpartition("/")[2], target):
            return (
                f"; {problem.path}, whose name carries that id, cannot be read statically "
                f"(RG107, line {problem.line}): mend that file first"
            )
    return ""


def _deleted_by_base(ctx: CheckContext, rev: Revision, target: str, key: str) -> str:
    """Why the target is missing when base deleted it since HEAD forked (a revert, typically).

    No command fixes that: whether ``rev`` still applies without the deleted
    migration is a decision for a person, so the message says what happened.
    """
    was_there = ctx.merge_base_revisions
    if not was_there or target not in was_there or ctx.base_graph is None or target in ctx.base_graph:
        return ""
    if rev.id in ctx.landed:
        return ""  # a landed revision's parent: RG202 names the deletion
    return (
        f"; {ctx.base_label} deleted it after HEAD forked (reverted?): decide whether {rev.id} "
        f"still applies without it, then point its {key} at the revision it now follows"
    )


def _graph_problems(ctx: CheckContext, problems_of) -> Iterator[tuple[RevisionGraph, object, str]]:
    """HEAD's problems, then those only the predicted merge has (with a suffix saying so)."""
    head_problems = list(problems_of(ctx.head_graph))
    for problem in head_problems:
        yield ctx.head_graph, problem, ""
    merged = ctx.merged_graph
    if merged is None:
        return
    merged_problems = list(problems_of(merged))
    if not merged_problems:
        return  # base's problems are asked only when needed: its cycles cost a pass
    known = {_problem_key(p) for p in head_problems}
    if ctx.base_graph is not None:
        known |= {_problem_key(p) for p in problems_of(ctx.base_graph)}
    suffix = f" after merging HEAD into {ctx.base_label}"
    for problem in merged_problems:
        if _problem_key(problem) not in known:
            yield merged, problem, suffix


def _problem_key(problem: object) -> object:
    # A label problem lists its revisions in file order, which differs between snapshots.
    if isinstance(problem, LabelProblem):
        return (problem.label, frozenset(problem.revisions), problem.reason)
    return problem


# ------------------------------------------------------------------ cycles
def _places(revs: list[Revision], keep: int = 10) -> str:
    shown = ", ".join(at(r, "down_revision") for r in revs[:keep])
    return shown + (f", and {len(revs) - keep:,} more" if len(revs) > keep else "")


def check_cycles(ctx: CheckContext) -> Iterator[Hit]:
    """RG105."""
    for graph, component, suffix in _graph_problems(ctx, lambda g: g.cycles):
        loop = cycle_path(graph, component)  # type: ignore[arg-type]
        revs = [graph[rid] for rid in loop[:-1]]
        yield Hit(
            "RG105",
            f"revisions form a cycle{suffix}: {chain(loop)} "
            f"({_places(revs)})",
            revisions=tuple(sorted(component)),  # type: ignore[arg-type]
            locations=tuple(where(r, "down_revision") for r in revs),
            subjects=tuple(graph[rid] for rid in sorted(component)),  # type: ignore[arg-type]
        )


def _by_id(rev: Revision) -> str:
    return rev.id


def cycle_path(graph: RevisionGraph, component: tuple[str, ...]) -> list[str]:
    """One loop through the smallest id of a strongly connected component, child -> parent.

    Returns the ids with the first repeated at the end (``a -> b -> a``).
    """
    members = set(component)
    start = min(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt_frontier = []
        for rid in frontier:
            for parent in sorted(graph.parents(rid, include_depends=True)):
                if parent == start:
                    return _unwind(came_from, rid, start) + [start]
                if parent in members and parent not in came_from:
                    came_from[parent] = rid
                    nxt_frontier.append(parent)
        frontier = nxt_frontier
    return [start, start]  # unreachable for a real component; keeps callers total


def _unwind(came_from: dict[str, str], last: str, start: str) -> list[str]:
    path = [last]
    while path[-1] != start:
        path.append(came_from[path[-1]])
    return path[::-1]


# ------------------------------------------------------------------ labels
def check_label_problems(ctx: CheckContext) -> Iterator[Hit]:
    """RG106."""
    for graph, problem, suffix in _graph_problems(ctx, lambda g: g.label_problems):
        assert isinstance(problem, LabelProblem)
        if problem.reason == "collides with a revision id":
            # revisions = (declarer, the revision whose id the label repeats)
            declarers = [graph[problem.revisions[0]]]
            named_ids = tuple(problem.revisions)
            text = f"branch label {problem.label!r} collides with revision id {problem.label}"
        else:
            declarers = sorted((graph[r] for r in problem.revisions if r in graph), key=_by_id)
            named_ids = tuple(r.id for r in declarers)
            text = f"branch label {problem.label!r} is declared twice"
        declared = ", ".join(named(r, "branch_labels") for r in declarers)
        yield Hit(
            "RG106",
            f"{text}{suffix}: declared by {declared}",
            revisions=named_ids,
            locations=tuple(where(r, "branch_labels") for r in declarers),
            subjects=tuple(declarers),
        )


# ------------------------------------------------------ alembic cannot load
def alembic_load_problems(graph: RevisionGraph, unreadable: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Why alembic's revision map would refuse to load ``graph``: ``(rule, reason)`` each.

    Read from what RG104-RG106 report on (``dangling``, ``depends_by_prefix``,
    ``cycles``, ``label_problems``), on one graph with no merge: alembic raises
    KeyError for a missing down_revision or depends_on (and for a depends_on
    prefix), CycleDetected for a cycle, RevisionError for a branch label
    declared twice or equal to a revision id. ``unreadable``: the paths of the
    files that could not be read statically. A missing revision whose id such a
    file's name carries is probably declared there: alembic imports that file
    and finds it, so it is left to the file's own warning (RG107).
    """
    names = [path.rpartition("/")[2] for path in unreadable]
    found: list[tuple[str, str]] = []
    for dangling in graph.dangling:
        if any(name_carries(name, dangling.target) for name in names):
            continue
        if dangling.kind == "down" and dangling.target in graph.labels:
            found.append(("RG104", f"{dangling.revision}'s down_revision names {dangling.target!r}, a branch "
                                   "label: alembic takes revision ids there"))  # fmt: skip
            continue
        key = "down_revision" if dangling.kind == "down" else "depends_on"
        found.append(("RG104", f"{dangling.revision}'s {key} names {dangling.target!r}, which does not exist"))
    for by_prefix in graph.depends_by_prefix:
        found.append((
            "RG104",
            f"{by_prefix.revision}'s depends_on names {by_prefix.target!r}, a prefix of "
            f"{graph.resolve(by_prefix.target)}: alembic takes full ids",
        ))  # fmt: skip
    for component in graph.cycles:
        members = set(component)
        through = "down_revision"
        if any(t in members for rid in component for t in graph.resolved_depends_on.get(rid, ())):
            through = "down_revision and depends_on"
        found.append(("RG105", f"cycle in {through} ({id_list(component)})"))
    for problem in graph.label_problems:
        if problem.reason == "collides with a revision id":
            found.append(("RG106", f"branch label {problem.label!r} of {problem.revisions[0]} is a revision id"))
        else:
            found.append((
                "RG106", f"branch label {problem.label!r} is declared twice ({id_list(sorted(problem.revisions))})"
            ))  # fmt: skip
    return found


# ---------------------------------------------------------- parse problems
def check_parse_problems(ctx: CheckContext) -> Iterator[Hit]:
    """RG107: HEAD's unreadable files (the merge's would repeat them or be base's)."""
    for problem in ctx.head.problems:
        yield Hit(
            "RG107",
            problem.describe(),
            locations=(Location(problem.path, problem.line),),
        )

