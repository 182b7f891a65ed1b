"""The rules' fast paths against their plain first versions, on random check contexts.

At 20,000 revisions the rules avoid per-revision Python work: label lineages
come from one pass per graph, RG201 compares parent tuples in C and looks
closer only at irregular revisions, RG402/RG403 pre-filter in one cheap pass,
RG302 bounds its walks by the graph's topological order, base's problems are
read only when the merge has some, and the context's id sets are built
without copies. Each reference below is the rule as first written; the
contexts are random histories with a landed base, a merge base, a HEAD that
adds, deletes, re-points and edits revisions (sometimes sharing Revision
objects with base, sometimes equal copies), odd ids, docstrings and paths.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from revgraph.checks import consistency, graph as graph_rules, landed, overlap
from revgraph.checks.context import CheckContext, Hit
from revgraph.checks.registry import RULE_FUNCTIONS
from revgraph.model import Revision, RevisionGraph, Snapshot
from tests.support.dagspec import dags


# --------------------------------------------------------------- references
def ref_label_lineage(graph: RevisionGraph, head: str) -> frozenset[str]:
    lineage = graph.ancestors(head) | {head}
    return frozenset(label for label, owner in graph.labels.items() if owner in lineage)


def ref_graph_problems(ctx: CheckContext, problems_of):
    head_problems = list(problems_of(ctx.head_graph))
    for problem in head_problems:
        yield ctx.head_graph, problem, ""
    merged = ctx.merged_graph
    if merged is None:
        return
    known = {graph_rules._problem_key(p) for p in head_problems}
    if ctx.base_graph is not None:
        known |= {graph_rules._problem_key(p) for p in problems_of(ctx.base_graph)}
    suffix = f" after merging HEAD into {ctx.base_label}"
    for problem in problems_of(merged):
        if graph_rules._problem_key(problem) not in known:
            yield merged, problem, suffix


def ref_check_repointed(ctx: CheckContext):
    base = ctx.base_graph
    if base is None:
        return
    head, merge_base = ctx.head_graph, ctx.merge_base_revisions
    for rid in sorted(ctx.inherited & set(head.revisions)):
        theirs = base[rid]
        # Of several files declaring the id, the one at the landed path (the others are new: RG103).
        ours = next((r for r in head.duplicates.get(rid, ()) if r.path == theirs.path), head[rid])
        if set(ours.down_revisions) == set(theirs.down_revisions):
            continue
        if merge_base is not None and rid in merge_base:
            if set(ours.down_revisions) == set(merge_base[rid].down_revisions):
                continue
        yield rid


def ref_docstring_ids(ctx: CheckContext) -> list[str]:
    return [
        rev.id
        for rev in sorted(ctx.head_graph, key=lambda r: r.id)
        if consistency._docstring_disagreements(rev)
    ]


def ref_file_name_ids(ctx: CheckContext) -> list[str]:
    if "%(rev)s" not in ctx.file_template:
        return []
    found = []
    for rev in sorted(ctx.head_graph, key=lambda r: r.id):
        name = posixpath.basename(rev.path)
        # The id as a word of its own: no letter or digit right before or after it.
        starts = [m.start() for m in re.finditer(f"(?={re.escape(rev.id)})", name)] if rev.id else []
        carried = not rev.id or any(
            (i == 0 or not name[i - 1].isalnum()) and not name[i + len(rev.id) : i + len(rev.id) + 1].isalnum()
            for i in starts
        )
        if name and not carried and rev.id not in ctx.head_graph.duplicates:  # RG103's first
            found.append(rev.id)
    return found


def ref_depths(graph: RevisionGraph) -> dict[str, int]:
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


def ref_redundant_parents(ctx: CheckContext):
    graph = ctx.head_graph
    for rid in graph.merge_points:
        parents = graph.parents(rid)
        pairs = [(p, q) for p in parents for q in parents if p != q and p in graph.ancestors(q)]
        if pairs:
            yield rid, tuple(pairs)


def ref_sets(ctx: CheckContext) -> dict:
    head = set(ctx.head_graph.revisions)
    has_base = ctx.base_graph is not None
    base = set(ctx.base_graph.revisions) if has_base else set()
    before = {rev.id: rev for rev in ctx.merge_base.revisions} if ctx.merge_base else None
    return {
        "merge_base_revisions": before,
        "inherited": frozenset((base & set(before)) if before is not None else base),
        "head_new": frozenset(head - base),
        "base_new": frozenset(base - set(head if before is None else before)) if has_base else frozenset(),
        "added_on_both_sides": (
            frozenset((head & base) - set(before)) if has_base and before is not None else frozenset()
        ),
    }


# ------------------------------------------------------------ random inputs
_ODD_IDS = ("a b", "x,y", "'q'", "None", "(p)", "dead beef", " pad", "")


def _doc_forms(draw, rid: str, downs) -> dict:
    downs = tuple(downs)
    revises = draw(
        st.sampled_from(
            [
                None, ", ".join(downs), ",".join(downs), ", ".join(reversed(downs)),
                "(" + ", ".join(downs) + ")", "None", "", " " + ", ".join(downs),
                ", ".join(f"'{d}'" for d in downs), "zzzz",
            ]
        )
    )
    doc_id = draw(st.sampled_from([None, rid, rid, f" {rid} ", "zzzz", ""]))
    return {"doc_revises": revises, "doc_revision_id": doc_id}


def _touches(draw) -> tuple[str, ...]:
    pool = ["table:users", "column:users.email", "table:orders", "index:ix_a"]
    return tuple(draw(st.lists(st.sampled_from(pool), max_size=2, unique=True)))


def _path(draw, rid: str) -> str:
    return draw(
        st.sampled_from(
            [
                f"versions/{rid}_step.py", f"versions/{rid}_step.py", "versions/other.py",
                f"{rid}/step.py", "", "versions/", f"a/b/{rid}", f"{rid}.py",
            ]
        )
    )


@st.composite
def contexts(draw) -> CheckContext:
    spec = draw(dags(max_size=10, prefix_depends=True))
    base = []
    for r in spec:
        base.append(
            Revision(
                r.id, r.down, r.branch_labels, r.depends_on,
                path=_path(draw, r.id), blob_id=f"b-{r.id}", touches=_touches(draw),
                **_doc_forms(draw, r.id, r.down),
            )
        )
    for odd in draw(st.lists(st.sampled_from(_ODD_IDS), max_size=2, unique=True)):
        down = tuple(draw(st.lists(st.sampled_from([r.id for r in base] + list(_ODD_IDS)), max_size=2)))
        base.append(Revision(odd, down, path=_path(draw, odd), blob_id=f"b-{odd}", **_doc_forms(draw, odd, down)))
    cut = draw(st.integers(0, len(base)))
    merge_base = base[:cut]
    head: list[Revision] = []
    for rev in merge_base:
        what = draw(st.sampled_from(["same", "same", "copy", "repoint", "doc", "delete", "list"]))
        if what == "same":
            head.append(rev)
        elif what == "copy":
            head.append(dataclasses.replace(rev))
        elif what == "repoint":
            others = [r.id for r in base] + ["gone"]
            head.append(
                dataclasses.replace(rev, down_revisions=tuple(draw(st.lists(st.sampled_from(others), max_size=3))))
            )
        elif what == "doc":
            head.append(dataclasses.replace(rev, **_doc_forms(draw, rev.id, rev.down_revisions)))
        elif what == "list":
            head.append(dataclasses.replace(rev, down_revisions=list(rev.down_revisions)))
    ids = [r.id for r in head] or ["gone"]
    for n in range(draw(st.integers(0, 3))):
        rid = f"{n:x}feed{n:07x}"
        down = tuple(draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)))
        labels = draw(st.sampled_from([(), (), ("reporting",), ("jobs",)]))
        head.append(
            Revision(
                rid, down, labels, path=_path(draw, rid), blob_id=f"b-{rid}",
                touches=_touches(draw), **_doc_forms(draw, rid, down),
            )
        )
        ids.append(rid)
    if draw(st.booleans()):  # base's side of a duplicate id
        head.append(dataclasses.replace(draw(st.sampled_from(base)), path="versions/dup.py"))
    merged = None
    if draw(st.booleans()):
        merged = Snapshot("default", "merged", tuple(head) + tuple(r for r in base[cut:] if r.id not in ids))
    ids_all = sorted({r.id for r in base} | set(ids))
    return CheckContext(
        environment="default",
        head=Snapshot("default", "worktree", tuple(head)),
        base=Snapshot("default", "origin/main", tuple(base)) if draw(st.integers(0, 5)) else None,
        merged=merged,
        merge_base=Snapshot("default", "merge-base", tuple(merge_base)) if draw(st.integers(0, 4)) else None,
        base_ref="origin/main",
        landed=frozenset(r.id for r in base),
        body_changed=frozenset(draw(st.lists(st.sampled_from(ids_all), max_size=3))),
        file_template=draw(st.sampled_from(["%(rev)s_%(slug)s", "%(slug)s"])),
        allow_heads=draw(st.sampled_from([None, None, 2])),
    )


def _hits(code: str, ctx: CheckContext) -> list[Hit]:
    return list(RULE_FUNCTIONS[code](ctx))


# -------------------------------------------------------------------- tests
# Counts follow the profile (fast: 160 and 80; REVGRAPH_TEST_PROFILE=thorough: 2,000 and 1,000).
@settings(max_examples=settings.default.max_examples * 4, deadline=None)
@given(contexts())
def test_rules_with_fast_paths_find_what_their_first_versions_found(ctx):
    # The derived id sets.
    for name, expected in ref_sets(ctx).items():
        got = getattr(ctx, name)
        assert (dict(got) if isinstance(got, dict) else got) == expected, name
    # RG201: same revisions, in the same order.
    assert [h.revisions[0] for h in _hits("RG201", ctx)] == list(ref_check_repointed(ctx))
    # RG402 / RG403.
    assert [h.revisions[0] for h in _hits("RG402", ctx)] == ref_docstring_ids(ctx)
    assert [h.revisions[0] for h in _hits("RG403", ctx)] == ref_file_name_ids(ctx)
    # RG302: the same merges (the fast walk is bounded by a topological order).
    assert [h.revisions[0] for h in _hits("RG302", ctx)] == [
        rid for rid, _ in ref_redundant_parents(ctx)
    ]
    # Whole rules whose helpers changed: the reference helpers patched in.
    codes = ("RG101", "RG102", "RG104", "RG105", "RG106", "RG201", "RG202", "RG203", "RG301", "RG302")
    fast = {code: _hits(code, ctx) for code in codes}
    with mock.patch.object(graph_rules, "label_lineage", ref_label_lineage), mock.patch.object(
        graph_rules, "_graph_problems", ref_graph_problems
    ), mock.patch.object(overlap, "_reaches_ordered", _reaches_by_ancestors):
        fresh = _fresh(ctx)
        slow = {code: _hits(code, fresh) for code in codes}
    assert fast == slow


def _reaches_by_ancestors(graph, position, start, target) -> bool:
    return target in graph.ancestors(start)


def _fresh(ctx: CheckContext) -> CheckContext:
    """The same context with nothing computed yet (graphs and sets built again)."""
    return dataclasses.replace(ctx)


@settings(max_examples=settings.default.max_examples * 2, deadline=None)
@given(contexts())
def test_redundant_merge_parents_agree_with_depth_bounded_walks(ctx):
    graph = ctx.head_graph
    depth = ref_depths(graph)
    order = graph.topological_order()
    if order is None:
        return
    position = {rid: i for i, rid in enumerate(order)}
    for rid in graph.merge_points:
        for p in graph.parents(rid):
            for q in graph.parents(rid):
                assert overlap._reaches_ordered(graph, position, q, p) == overlap._reaches(
                    graph, depth, q, p
                )


@settings(max_examples=settings.default.max_examples * 2, deadline=None)
@given(contexts())
def test_repointed_candidates_cover_every_changed_down_revision(ctx):
    if ctx.base_graph is None:
        return
    head, base = ctx.head_graph, ctx.base_graph
    ids = ctx.inherited & set(head.revisions)
    changed = {
        rid for rid in ids if set(head[rid].down_revisions) != set(base[rid].down_revisions)
    }
    assert changed <= landed._down_revisions_differ(ids, head, base)


def test_a_shared_revision_object_is_never_read_again():
    rev = Revision("a1b2", ("c3d4",))
    parent = Revision("c3d4")
    ctx = CheckContext(
        "default",
        head=Snapshot("default", "worktree", (parent, rev)),
        base=Snapshot("default", "main", (parent, rev)),
        merge_base=Snapshot("default", "mb", (parent, rev)),
    )
    assert landed._down_revisions_differ(["a1b2", "c3d4"], ctx.head_graph, ctx.base_graph) == set()
    assert _hits("RG201", ctx) == []


def test_a_revises_line_naming_none_or_nothing_is_never_taken_on_trust():
    # "None" and "" read back as no parent at all: the one-pass filter must
    # leave such revisions to the exact test even when the line repeats them.
    revs = (
        Revision("c0ffee01", ("None",), doc_revises="None", path="v/c0ffee01_a.py"),
        Revision("c0ffee02", ("",), doc_revises="", path="v/c0ffee02_b.py"),
        Revision("c0ffee03", ("c0ffee01",), doc_revises="c0ffee01", path="v/c0ffee03_c.py"),
    )
    ctx = CheckContext("default", head=Snapshot("default", "worktree", revs))
    assert [h.revisions[0] for h in _hits("RG402", ctx)] == ["c0ffee01", "c0ffee02"]
    assert ref_docstring_ids(ctx) == ["c0ffee01", "c0ffee02"]


def test_an_id_both_sides_added_is_not_an_overlap_partner():
    # base_new holds it (base added it since the merge base), but HEAD has it
    # too: RG301 compares only what each side alone added.
    root = Revision("aaaa0001", path="v/aaaa0001_r.py")
    both = Revision("bbbb0002", ("aaaa0001",), path="v/bbbb0002_b.py", touches=("table:users",))
    ours = Revision("cccc0003", ("aaaa0001",), path="v/cccc0003_c.py", touches=("table:users",))
    ctx = CheckContext(
        "default",
        head=Snapshot("default", "worktree", (root, both, ours)),
        base=Snapshot("default", "main", (root, both)),
        merge_base=Snapshot("default", "mb", (root,)),
    )
    assert ctx.base_new == {"bbbb0002"}
    assert _hits("RG301", ctx) == []
