"""A rebase never leaves a new merge revision naming a parent twice over (RG302).

A feature that joined its chain to main's head with a merge revision
(``m = (x, a2)``) and is then rebased: ``x`` moves onto main's newer head
``a3``, so ``a2`` is below ``x`` as well and ``m`` would name it redundantly.
The plan drops exactly the parents its own moves made redundant; landed merge
revisions and the author's own redundancy are left as they are.
"""

from __future__ import annotations

from revgraph.fixes.rebase import plan_rebase
from tests.unit.test_fix_rebase import LANDED, Tree, heads, linear

# main: a1 <- a2 <- a3; the feature branched at a1.


def redundant_parents(tree: Tree) -> dict[str, set[str]]:
    """Per merge revision, the parents that are ancestors of another parent (what RG302 flags)."""
    graph = tree.graph()
    found = {}
    for rid in graph.merge_points:
        parents = graph.parents(rid)
        below = {p for p in parents for q in parents if p != q and p in graph.ancestors(q)}
        if below:
            found[rid] = below
    return found


def test_a_merge_joining_a_moved_chain_to_an_older_landed_head_drops_that_parent():
    tree = linear("a1", "a2", "a3").add("x", "a1").add("m", "x", "a2")

    plan = tree.plan(LANDED)

    assert [(m.revision, m.old_down, m.new_down) for m in plan.moves] == [
        ("x", ("a1",), ("a3",)),
        ("m", ("x", "a2"), ("x",)),
    ]
    assert any("drop parent a2 of merge revision m" in note and "ordinary revision" in note for note in plan.notes)
    tree.apply(plan)
    assert redundant_parents(tree) == {}
    assert heads(tree) == ("m",)
    assert tree.graph().ancestors("m") >= {"a1", "a2", "a3", "x"}  # nothing it applied is lost


def test_dropping_keeps_the_merge_when_other_parents_still_join():
    tree = linear("a1", "a2", "a3").add("x", "a1").add("y", "a1").add("m", "x", "a2", "y")

    plan = tree.plan(LANDED)
    tree.apply(plan)

    assert tree.down("m") == ("x", "y")  # the author's order, a2 gone
    assert redundant_parents(tree) == {}
    assert heads(tree) == ("m",)


def test_a_redundant_parent_the_author_wrote_is_not_the_rebases_to_drop():
    # m already named a1 beside x (x's own parent): RG302 before any move.
    tree = linear("a1", "a2", "a3").add("x", "a1").add("m", "x", "a1")

    plan = tree.plan(LANDED)

    assert [m.revision for m in plan.moves] == ["x"]
    assert not any("drop parent" in note for note in plan.notes)


def test_a_merge_whose_parents_the_moves_leave_apart_is_not_touched():
    tree = linear("a1", "a2", "a3").add("r1", "a1").add("r2", "a2").add("m", "r1", "r2")

    plan = tree.plan(LANDED)

    assert "m" not in {m.revision for m in plan.moves}


def test_a_landed_merge_revision_is_never_edited():
    # Landed: a1 <- a2, a1 <- b2, j = (a2, b2) <- a4. New: x on a1 and a merge
    # (x, j)... the landed merge j keeps both parents whatever moves.
    tree = linear("a1", "a2").add("b2", "a1").add("j", "a2", "b2").add("a4", "j")
    tree.add("x", "a1").add("m", "x", "j")
    landed = {"a1", "a2", "b2", "j", "a4"}

    plan = tree.plan(landed)

    assert "j" not in {m.revision for m in plan.moves}
    tree.apply(plan)
    assert tree.down("j") == ("a2", "b2")
    assert redundant_parents(tree) == {}
    assert heads(tree) == ("m",)


def test_the_drop_is_a_byte_exact_edit_of_the_literal_and_revises_line():
    tree = linear("a1", "a2", "a3").add("x", "a1").add("m", "x", "a2")
    before = tree.files[tree.paths["m"]]

    plan = tree.plan(LANDED)
    after = next(e.new for e in plan.edits if e.path == tree.paths["m"])

    assert after == before.replace(b"Revises: x, a2", b"Revises: x").replace(
        b"= ('x', 'a2')", b"= ('x',)"
    )


def test_a_second_plan_after_the_drop_is_empty():
    tree = linear("a1", "a2", "a3").add("x", "a1").add("m", "x", "a2")

    tree.apply(tree.plan(LANDED))

    assert tree.plan(LANDED).is_empty


def test_left_alone_notes_say_why_a_revision_was_not_moved():
    tree = linear("a1", "a2", "a3").add("nb", date="2024-01-01 00:00:00")

    plan = plan_rebase(
        tree.graph(), landed=frozenset(LANDED), sources={p: d for p, d in tree.files.items()}
    )

    assert plan.is_empty
    assert plan.left_alone and all(note in plan.notes for note in plan.left_alone)
    assert "nb" in plan.left_alone[0] and "new base" in plan.left_alone[0]
