"""RevisionGraph's fast paths against a deliberately plain reference, on random histories.

``RevisionGraph`` reads each revision once and leaves the rest to set
operations and to data computed on first use (children, a Kahn peel, label
lineages by walks or by a sweep, bisected id prefixes). ``ReferenceGraph``
below is the graph as first written: a loop per question, no shortcuts, and
networkx for the strongly connected components. Both must agree on every
answer, on histories that are anything but tidy: cycles (through
down_revision, depends_on and self-loops), duplicate ids, dangling names,
repeated parents, labels declared twice or equal to an id, depends_on by id,
label and prefix (unique or not), down_revisions given as a list, files in
any order.
"""

from __future__ import annotations

import dataclasses
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from revgraph import model
from revgraph.model import Dangling, LabelProblem, Revision, RevisionGraph
from tests.support.dagspec import dags


# ---------------------------------------------------------------- reference
class ReferenceGraph:
    """The obvious implementation of every question RevisionGraph answers."""

    def __init__(self, revisions: list[Revision]) -> None:
        by_id: dict[str, Revision] = {}
        seen: dict[str, list[Revision]] = {}
        for rev in revisions:
            seen.setdefault(rev.id, []).append(rev)
            by_id[rev.id] = rev
        self.revisions = by_id
        self.duplicates = {rid: tuple(revs) for rid, revs in seen.items() if len(revs) > 1}

        labels: dict[str, str] = {}
        problems: list[LabelProblem] = []
        for rev in by_id.values():
            for label in rev.branch_labels:
                if label in by_id and by_id[label].id != rev.id:
                    problems.append(LabelProblem(label, (rev.id, label), "collides with a revision id"))
                elif label in labels and labels[label] != rev.id:
                    problems.append(LabelProblem(label, (labels[label], rev.id), "declared twice"))
                else:
                    labels[label] = rev.id
        self.labels = labels
        self.label_problems = tuple(problems)

        dangling: list[Dangling] = []
        self.parents_down: dict[str, tuple[str, ...]] = {}
        self.resolved: dict[str, tuple[str, ...]] = {}
        for rev in by_id.values():
            downs = tuple(dict.fromkeys(rev.down_revisions))
            for parent in downs:
                if parent not in by_id:
                    dangling.append(Dangling(rev.id, parent, "down"))
            self.parents_down[rev.id] = tuple(p for p in downs if p in by_id)
            deps = []
            for dep in rev.depends_on:
                target = self.resolve(dep)
                if target is None:
                    dangling.append(Dangling(rev.id, dep, "depends"))
                else:
                    deps.append(target)
            self.resolved[rev.id] = tuple(dict.fromkeys(deps))
        self.dangling = tuple(dangling)
        self.parents_all = {
            rid: tuple(dict.fromkeys(self.parents_down[rid] + self.resolved[rid])) for rid in by_id
        }
        self.kids_down = {rid: [c for c in by_id if rid in self.parents_down[c]] for rid in by_id}
        self.kids_dep = {rid: [c for c in by_id if rid in self.resolved[c]] for rid in by_id}
        self.heads = tuple(sorted(rid for rid in by_id if not self.kids_down[rid]))
        self.bases = tuple(sorted(rid for rid, rev in by_id.items() if not rev.down_revisions))
        self.branch_points = tuple(sorted(rid for rid in by_id if len(self.kids_down[rid]) > 1))
        self.merge_points = tuple(
            sorted(
                rid
                for rid, rev in by_id.items()
                if len(rev.down_revisions) > 1 and len(set(rev.down_revisions)) > 1
            )
        )

    def resolve(self, name: str) -> str | None:
        if name in self.revisions:
            return name
        if name in self.labels:
            return self.labels[name]
        matches = [rid for rid in self.revisions if rid.startswith(name)] if len(name) > 3 else []
        return matches[0] if len(matches) == 1 else None

    @property
    def cycles(self) -> tuple[tuple[str, ...], ...]:
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from(self.revisions)
        g.add_edges_from((p, rid) for rid, ps in self.parents_all.items() for p in ps)
        found = [
            tuple(sorted(c))
            for c in nx.strongly_connected_components(g)
            if len(c) > 1 or g.has_edge(next(iter(c)), next(iter(c)))
        ]
        return tuple(sorted(found))

    def children(self, rid: str, include_depends: bool = False) -> tuple[str, ...]:
        kids = list(self.kids_down.get(rid, ()))
        if include_depends:
            kids += self.kids_dep.get(rid, [])
        return tuple(dict.fromkeys(kids))

    def _reach(self, rid: str, step) -> set[str]:
        seen: set[str] = set()
        todo = list(step(rid))
        while todo:
            nxt = todo.pop()
            if nxt not in seen:
                seen.add(nxt)
                todo.extend(step(nxt))
        return seen - {rid}

    def ancestors(self, rid: str, include_depends: bool = False) -> set[str]:
        parents = self.parents_all if include_depends else self.parents_down
        return self._reach(rid, parents.__getitem__)

    def descendants(self, rid: str, include_depends: bool = False) -> set[str]:
        return self._reach(rid, lambda r: self.children(r, include_depends))

    def closure(self, rids) -> set[str]:
        start = [r for r in rids if r in self.revisions]
        found = set(start)
        for rid in start:
            found |= self.ancestors(rid, include_depends=True)
        return found

    def labels_of(self, rid: str) -> tuple[str, ...]:
        found = set()
        for label, owner in self.labels.items():
            if rid == owner or rid in self.ancestors(owner) or rid in self.descendants(owner):
                found.add(label)
        return tuple(sorted(found))

    def lineage_labels(self, rid: str) -> frozenset[str]:
        line = self.ancestors(rid) | {rid}
        return frozenset(label for label, owner in self.labels.items() if owner in line)


# ------------------------------------------------------------ random inputs
OTHER_NAMES = ("deadbeef0000", "None", "", "0", "abcd")


@st.composite
def messy_histories(draw) -> list[Revision]:
    """A random DAG, then a few of the ways real histories go wrong."""
    spec = draw(dags(max_size=14, prefix_depends=True))
    revs = [
        Revision(
            r.id, r.down, r.branch_labels, r.depends_on, path=f"versions/{r.id}_x.py", blob_id=r.id
        )
        for r in spec
    ]
    ids = [r.id for r in revs]
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(
            st.sampled_from(
                [
                    "cycle", "self-loop", "dangling", "duplicate", "label-is-id",
                    "label-twice", "repeat-parent", "dep-is-down",
                    "short-prefix", "dep-cycle", "orphan",
                ]
            )
        )
        at = draw(st.integers(0, len(revs) - 1))
        rev = revs[at]
        other = draw(st.sampled_from(ids))
        if kind == "cycle":  # a parent from anywhere, often a descendant
            revs[at] = dataclasses.replace(rev, down_revisions=rev.down_revisions + (other,))
        elif kind == "self-loop":
            revs[at] = dataclasses.replace(rev, down_revisions=(rev.id,))
        elif kind == "dangling":
            name = draw(st.sampled_from(OTHER_NAMES))
            field = draw(st.sampled_from(["down_revisions", "depends_on"]))
            revs[at] = dataclasses.replace(rev, **{field: getattr(rev, field) + (name,)})
        elif kind == "duplicate":
            copy = dataclasses.replace(rev, down_revisions=(other,), path=f"versions/{rev.id}_y.py")
            revs.insert(draw(st.integers(0, len(revs))), copy)
        elif kind == "label-is-id":
            revs[at] = dataclasses.replace(rev, branch_labels=rev.branch_labels + (other,))
        elif kind == "label-twice":
            labels = [label for r in revs for label in r.branch_labels] or ["jobs"]
            revs[at] = dataclasses.replace(
                rev, branch_labels=rev.branch_labels + (draw(st.sampled_from(labels)),)
            )
        elif kind == "repeat-parent" and rev.down_revisions:
            revs[at] = dataclasses.replace(rev, down_revisions=rev.down_revisions * 2)
        elif kind == "dep-is-down" and rev.down_revisions:
            revs[at] = dataclasses.replace(rev, depends_on=rev.down_revisions[:1] * 2)
        elif kind == "short-prefix":  # 4 hex chars: often ambiguous, sometimes unique
            revs[at] = dataclasses.replace(rev, depends_on=(other[:4], other[:5]))
        elif kind == "dep-cycle":
            revs[at] = dataclasses.replace(rev, depends_on=rev.depends_on + (other,))
        elif kind == "orphan":
            revs[at] = dataclasses.replace(rev, down_revisions=(), depends_on=())
    if draw(st.integers(0, 5)) == 0:  # a caller passing lists: parents still come out as tuples
        at = draw(st.integers(0, len(revs) - 1))
        revs[at] = dataclasses.replace(revs[at], down_revisions=list(revs[at].down_revisions))
    if draw(st.booleans()):
        revs = draw(st.permutations(revs))
    return revs


def _names(revs: list[Revision]) -> list[str]:
    return sorted({r.id for r in revs} | {"deadbeef0000", "nothing"})


def assert_same_graph(revs: list[Revision]) -> None:
    fast, ref = RevisionGraph(revs), ReferenceGraph(revs)
    assert list(fast.revisions.items()) == list(ref.revisions.items())
    assert fast.duplicates == ref.duplicates
    assert fast.labels == ref.labels
    assert fast.label_problems == ref.label_problems
    assert fast.dangling == ref.dangling
    assert fast.heads == ref.heads
    assert fast.bases == ref.bases
    assert fast.branch_points == ref.branch_points
    assert fast.merge_points == ref.merge_points
    assert fast.cycles == ref.cycles
    assert dict(fast.resolved_depends_on) == ref.resolved
    assert dict(fast.parent_map) == ref.parents_down
    for rid in ref.revisions:
        rev = ref.revisions[rid]
        for deps in (False, True):
            assert fast.parents(rid, include_depends=deps) == (
                ref.parents_all[rid] if deps else ref.parents_down[rid]
            )
            assert fast.children(rid, include_depends=deps) == ref.children(rid, deps)
            assert fast.ancestors(rid, include_depends=deps) == ref.ancestors(rid, deps)
            assert fast.descendants(rid, include_depends=deps) == ref.descendants(rid, deps)
        assert fast.closure([rid, "nothing"]) == ref.closure([rid, "nothing"])
        assert fast.labels_of(rid) == ref.labels_of(rid)
        assert fast.lineage_labels(rid) == ref.lineage_labels(rid)
        if rid not in fast.irregular:  # the promise fast paths rely on
            assert fast.parents(rid) is rev.down_revisions
            assert isinstance(rev.down_revisions, tuple) and len(rev.down_revisions) == 1
            assert not rev.depends_on and not rev.branch_labels
    assert fast.labels_of("nothing") == ()
    assert fast.descendants("nothing") == set()
    order = fast.topological_order()
    if ref.cycles:
        assert order is None
    else:
        assert order is not None and sorted(order) == sorted(ref.revisions)
        placed = {rid: i for i, rid in enumerate(order)}
        assert all(placed[p] < placed[rid] for rid, ps in ref.parents_all.items() for p in ps)
    for name in _names(revs) + [rid[:n] for rid in ref.revisions for n in (3, 4, 6)]:
        assert fast.resolve(name) == ref.resolve(name)


# -------------------------------------------------------------------- tests
@settings(max_examples=100, deadline=None)
@given(messy_histories())
def test_graph_answers_like_the_reference(revs):
    assert_same_graph(revs)


@settings(max_examples=60, deadline=None)
@given(messy_histories(), st.sampled_from([0.0, float("inf")]))
def test_label_lineages_agree_whether_walked_or_swept(revs, budget):
    # Budget 0 sweeps in topological order whenever there is one (walks on a
    # cycle); an infinite budget always walks from each owner.
    with mock.patch.object(model, "_LABEL_WALK_BUDGET", budget):
        fast, ref = RevisionGraph(revs), ReferenceGraph(revs)
        for rid in ref.revisions:
            assert fast.lineage_labels(rid) == ref.lineage_labels(rid)
            assert fast.labels_of(rid) == ref.labels_of(rid)


@settings(max_examples=60, deadline=None)
@given(messy_histories(), st.integers(0, 2))
def test_depends_on_prefixes_resolve_the_same_by_scan_or_bisect(revs, scans):
    with mock.patch.object(model, "_PREFIX_SCANS", scans):
        fast, ref = RevisionGraph(revs), ReferenceGraph(revs)
        assert dict(fast.resolved_depends_on) == ref.resolved
        assert fast.dangling == ref.dangling


def test_a_long_chain_and_a_long_cycle_need_no_recursion():
    chain = [Revision("r0")] + [Revision(f"r{i}", (f"r{i - 1}",)) for i in range(1, 20000)]
    graph = RevisionGraph(chain)
    assert graph.heads == ("r19999",) and graph.cycles == ()
    assert graph.topological_order() == tuple(r.id for r in chain)
    looped = [Revision("r0", ("r19999",))] + chain[1:]
    graph = RevisionGraph(looped)
    assert graph.topological_order() is None
    assert graph.cycles == (tuple(sorted(r.id for r in chain)),)


def test_many_labels_on_one_line_are_swept_not_walked_again_and_again():
    line = [Revision("a0", branch_labels=("l0",))] + [
        Revision(f"a{i}", (f"a{i - 1}",), branch_labels=(f"l{i}",) if i % 10 == 0 else ())
        for i in range(1, 300)
    ]
    graph = RevisionGraph(line)
    sweep = RevisionGraph._sweep_labels
    with mock.patch.object(RevisionGraph, "_sweep_labels", side_effect=sweep) as swept:
        lineage = graph.lineage_labels("a299")
        assert graph.labels_of("a0") == tuple(sorted(f"l{i}" for i in range(0, 300, 10)))
    assert swept.call_count == 2  # down and up, once each for the whole graph
    assert lineage == frozenset(f"l{i}" for i in range(0, 300, 10))
