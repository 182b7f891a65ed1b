"""The merge driver says clean exactly when `revgraph check` finds the merged graph healthy.

Random small histories with branch labels (a landed base, then new
revisions on each side: on a head, on an older revision, merges of two
heads, new labelled roots) are split into ours and theirs. The driver's
decision (``gitops.union.decide``, or the reference ``driver.union_of``
where the fast path leaves it undecided) must be CLEAN if and only if the
rules that make a graph unusable (RG101 heads, RG103 an id declared by two
files, RG104 dangling, RG105 cycle, RG106 a label declared twice or equal to
an id) find nothing in the merged graph, with either side taken as the base (the
driver cannot tell which side has landed); and a clean lock must list the
merged graph's heads as `revgraph lock` would.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from revgraph.checks.context import CheckContext
from revgraph.checks.registry import run_checks
from revgraph.gitops import driver, union
from revgraph.lockfile import entries_for
from revgraph.model import Revision, RevisionGraph, Snapshot

LABELS = ("app", "rep", "bill")
UNUSABLE = ["RG101", "RG103", "RG104", "RG105", "RG106"]


def _heads(revs: list[Revision]) -> list[str]:
    named = {p for r in revs for p in r.down_revisions}
    # A set: a reused id (two files) is one head, and a merge's two parents must differ.
    return sorted({r.id for r in revs if r.id not in named})


@st.composite
def _grow(draw, revs: list[Revision], counter: list[int], most: int, reuse: list[str] = ()) -> list[Revision]:
    """Up to ``most`` new revisions on top of ``revs``; returns only the new ones.

    Now and then a new revision (in a new file) takes an id from ``reuse``
    (the other side's new ones: RG103 across the sides) or a label that is
    an id (RG106).
    """
    new: list[Revision] = []
    for _ in range(draw(st.integers(0, most))):
        have = revs + new
        counter[0] += 1
        rid = f"{counter[0]:012x}"
        if reuse and draw(st.integers(0, 5)) == 0:
            rid = draw(st.sampled_from(list(reuse)))
        heads = _heads(have)
        shape = draw(st.sampled_from(["head"] * 4 + ["older", "merge", "merge", "root"]))
        if not heads or shape == "root":  # (no heads: a reused id closed a loop)
            downs: tuple[str, ...] = ()
        elif shape == "merge" and len(heads) > 1:
            downs = tuple(draw(st.lists(st.sampled_from(heads), min_size=2, max_size=2, unique=True)))
        elif shape == "older":
            downs = (draw(st.sampled_from([r.id for r in have])),)
        else:
            downs = (draw(st.sampled_from(heads)),)
        labelled = not downs or draw(st.integers(0, 5)) == 0
        names = LABELS + tuple(r.id for r in have[:1])  # the first revision's id, now and then
        labels = (draw(st.sampled_from(names)),) if labelled and draw(st.booleans()) else ()
        new.append(Revision(rid, downs, labels, path=f"v/{counter[0]:03d}.py", message=f"m{counter[0]}"))
    return new


@st.composite
def split_histories(draw):
    """(base, ours' new revisions, theirs' new revisions)."""
    counter = [0]
    base = draw(_grow([], counter, 6))
    ours = draw(_grow(base, counter, 3))
    theirs = draw(_grow(base, counter, 3, [r.id for r in ours]))
    return base, ours, theirs


def _fact(rev: Revision):
    return union.fact_of(rev)


def _driver_entries(ours: list[Revision], theirs: list[Revision]):
    """What the driver decides: the fast path, else the reference (None: a conflict)."""
    ours_ids = {r.path: r for r in ours}
    theirs_by_path = {r.path: r for r in theirs}
    removed = {p for p in ours_ids if theirs_by_path.get(p) != ours_ids[p]}
    added = [(p, _fact(r)) for p, r in sorted(theirs_by_path.items()) if ours_ids.get(p) != r]
    decision = union.decide([(r.path, _fact(r)) for r in ours], removed, added)
    if decision.outcome == union.UNDECIDED:
        return driver.union_of(Snapshot("default", "HEAD", tuple(ours)), Snapshot("default", "theirs", tuple(theirs)))
    return list(decision.entries) if decision.outcome == union.CLEAN else None


def _healthy_per_check(merged: Snapshot, sides: list[list[Revision]]) -> bool:
    for side in sides:
        base = Snapshot("default", "base", tuple(side))
        ctx = CheckContext("default", merged, base=base, landed=frozenset(r.id for r in side))
        if run_checks(ctx, select=UNUSABLE):
            return False
    return True


@settings(max_examples=settings.default.max_examples * 5, deadline=None)
@given(split_histories())
def test_driver_is_clean_exactly_when_check_finds_the_merge_healthy(history):
    base, ours_new, theirs_new = history
    ours, theirs = base + ours_new, base + theirs_new
    merged = Snapshot("default", "merge", tuple(base + ours_new + theirs_new))

    entries = _driver_entries(ours, theirs)

    assert (entries is not None) == _healthy_per_check(merged, [ours, theirs])
    if entries is not None:
        key = lambda e: e.revision  # noqa: E731
        assert sorted(entries, key=key) == sorted(entries_for(RevisionGraph(merged.revisions)), key=key)
