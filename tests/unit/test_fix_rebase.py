"""Rebase planning (PRODUCT §4): who moves, where to, and the byte-exact edit."""

from __future__ import annotations

import re

import pytest

from revgraph.errors import FixRefused
from revgraph.fixes.plan import EditPlan, FileEdit
from revgraph.fixes.rebase import plan_rebase
from revgraph.fixes.textedit import (
    literal_ids,
    prevailing_quote,
    render_down_revision,
    replace_spans,
    rewrite_down_revision,
)
from revgraph.model import Revision, RevisionGraph, Span

# ------------------------------------------------------------------ builders
TYPED = """\
\"\"\"{message}

Revision ID: {rid}
Revises: {revises}
Create Date: {date}

\"\"\"
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '{rid}'
down_revision: Union[str, Sequence[str], None] = {down}
branch_labels: Union[str, Sequence[str], None] = {labels}
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('t_{rid}', sa.Column('id', sa.Integer()))


def downgrade() -> None:
    op.drop_table('t_{rid}')
"""

CLASSIC = """\
\"\"\"{message}

Revision ID: {rid}
Revises: {revises}
Create Date: {date}

\"\"\"
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "{rid}"
down_revision = {down}  # where this one hangs
branch_labels = {labels}
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    pass
"""


def literal(ids, quote="'"):
    if not ids:
        return "None"
    if len(ids) == 1:
        return f"{quote}{ids[0]}{quote}"
    return "(" + ", ".join(f"{quote}{i}{quote}" for i in ids) + ")"


def revision_file(
    rid: str,
    down: tuple[str, ...] = (),
    *,
    style: str = "typed",
    date: str = "2024-01-01 00:00:00.000000",
    labels: tuple[str, ...] = (),
    down_literal: str | None = None,
    revises_line: bool = True,
) -> bytes:
    quote = "'" if style == "typed" else '"'
    text = (TYPED if style == "typed" else CLASSIC).format(
        message=f"add {rid}",
        rid=rid,
        revises=", ".join(down),
        date=date,
        down=down_literal if down_literal is not None else literal(down, quote),
        labels=literal(labels, quote) if labels else "None",
    )
    if not revises_line:
        text = re.sub(r"Revises:[^\n]*\n", "", text)
    if style == "classic":
        text = text.replace("\n", "\r\n")
    return text.encode()


def read(data: bytes, path: str) -> Revision:
    from revgraph.parse import parse_revision

    rev = parse_revision(data, path)
    assert isinstance(rev, Revision), rev
    return rev


class Tree:
    """Revision files in memory: path -> bytes, read the way revgraph reads them."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.paths: dict[str, str] = {}

    def add(self, rid: str, *down: str, **kw) -> "Tree":
        path = f"migrations/versions/{rid}_add.py"
        self.files[path] = revision_file(rid, tuple(down), **kw)
        self.paths[rid] = path
        return self

    def graph(self) -> RevisionGraph:
        return RevisionGraph(read(data, path) for path, data in self.files.items())

    def plan(self, landed, **kw) -> EditPlan:
        sources = {path: data for path, data in self.files.items() if read(data, path).id not in landed}
        return plan_rebase(self.graph(), landed=frozenset(landed), sources=sources, **kw)

    def apply(self, plan: EditPlan) -> "Tree":
        for edit in plan.edits:
            assert self.files.get(edit.path) == edit.old
            self.files[edit.path] = edit.new
        return self

    def down(self, rid: str) -> tuple[str, ...]:
        return self.graph()[rid].down_revisions


def linear(*ids: str, tree: Tree | None = None, **kw) -> Tree:
    tree = tree or Tree()
    previous: tuple[str, ...] = ()
    for rid in ids:
        tree.add(rid, *previous, **kw)
        previous = (rid,)
    return tree


def heads(tree: Tree) -> tuple[str, ...]:
    return tree.graph().heads


LANDED = {"a1", "a2", "a3"}


# ------------------------------------------------------------ who moves where
def test_new_revision_off_an_old_landed_revision_moves_onto_the_landed_head():
    tree = linear("a1", "a2", "a3").add("f1", "a2")

    plan = tree.plan(LANDED)

    assert [(m.revision, m.old_down, m.new_down) for m in plan.moves] == [("f1", ("a2",), ("a3",))]
    assert [e.path for e in plan.edits] == [tree.paths["f1"]]
    tree.apply(plan)
    assert tree.down("f1") == ("a3",)
    assert heads(tree) == ("f1",)


def test_landed_revisions_never_move_even_when_the_new_one_is_older():
    # main's a3 was written after the feature's f1: dates do not decide, landing does.
    tree = linear("a1", "a2").add("a3", "a2", date="2024-06-01 00:00:00")
    tree.add("f1", "a2", date="2024-01-01 00:00:00")

    plan = tree.plan(LANDED)

    assert {m.revision for m in plan.moves} == {"f1"}
    assert all(e.path == tree.paths["f1"] for e in plan.edits)


def test_a_chain_moves_by_its_root_only():
    tree = linear("a1", "a2", "a3").add("f1", "a1").add("f2", "f1").add("f3", "f2")

    plan = tree.plan(LANDED)

    assert [m.revision for m in plan.moves] == ["f1"]
    tree.apply(plan)
    assert (tree.down("f1"), tree.down("f2"), tree.down("f3")) == (("a3",), ("f1",), ("f2",))


def test_chains_needing_a_move_are_stacked_in_create_date_order():
    tree = linear("a1", "a2", "a3")
    tree.add("late1", "a1", date="2024-03-01 00:00:00").add("late2", "late1", date="2024-03-02 00:00:00")
    tree.add("early", "a2", date="2024-02-01 00:00:00")

    tree.apply(tree.plan(LANDED))

    assert tree.down("early") == ("a3",)
    assert tree.down("late1") == ("early",)
    assert tree.down("late2") == ("late1",)
    assert heads(tree) == ("late2",)


def test_create_date_ties_are_broken_by_revision_id():
    tree = linear("a1", "a2", "a3")
    tree.add("bbb", "a1", date="2024-02-01 00:00:00").add("aaa", "a1", date="2024-02-01 00:00:00")

    tree.apply(tree.plan(LANDED))

    assert (tree.down("aaa"), tree.down("bbb")) == (("a3",), ("aaa",))


def test_create_dates_with_timezones_are_compared_as_instants():
    tree = linear("a1", "a2", "a3")
    # 10:00+02:00 is 08:00 UTC: earlier than 09:00+00:00 although its digits are larger.
    tree.add("xxx", "a1", date="2024-02-01 10:00:00+02:00")
    tree.add("yyy", "a1", date="2024-02-01 09:00:00+00:00")

    tree.apply(tree.plan(LANDED))

    assert (tree.down("xxx"), tree.down("yyy")) == (("a3",), ("xxx",))


def test_a_chain_already_on_the_landed_head_stays_and_others_stack_on_its_tip():
    tree = linear("a1", "a2", "a3")
    tree.add("on1", "a3", date="2024-05-01 00:00:00").add("on2", "on1", date="2024-05-02 00:00:00")
    tree.add("off", "a1", date="2024-01-01 00:00:00")

    plan = tree.plan(LANDED)

    assert [(m.revision, m.new_down) for m in plan.moves] == [("off", ("on2",))]


def test_two_chains_on_the_landed_head_become_one_line_in_date_order():
    tree = linear("a1", "a2", "a3")
    tree.add("second", "a3", date="2024-05-02 00:00:00").add("first", "a3", date="2024-05-01 00:00:00")

    tree.apply(tree.plan(LANDED))

    assert (tree.down("first"), tree.down("second")) == (("a3",), ("first",))


def test_new_revisions_joined_by_a_new_merge_move_all_their_roots_together():
    tree = linear("a1", "a2", "a3").add("r1", "a1").add("r2", "a2").add("m", "r1", "r2")

    plan = tree.plan(LANDED)

    assert sorted((m.revision, m.new_down) for m in plan.moves) == [("r1", ("a3",)), ("r2", ("a3",))]
    tree.apply(plan)
    assert heads(tree) == ("m",)


# ------------------------------------------------------------ idempotence
def test_a_second_plan_after_applying_the_first_is_empty():
    tree = linear("a1", "a2", "a3").add("f1", "a1").add("g1", "a2", date="2024-02-01 00:00:00")

    tree.apply(tree.plan(LANDED))
    again = tree.plan(LANDED)

    assert again.is_empty and again.moves == () and again.edits == ()


def test_a_chain_joined_to_the_landed_head_by_its_own_merge_revision_stays():
    # What `fix --strategy merge` leaves: healthy, one head; a later plain
    # `fix` re-pointed f1 and dropped a3 from m, undoing the chosen strategy.
    tree = linear("a1", "a2", "a3").add("f1", "a2").add("m", "a3", "f1")

    plan = tree.plan(LANDED)

    assert plan.edits == () and plan.moves == ()


def test_a_chain_joined_to_an_older_landed_revision_still_moves_to_the_head():
    tree = linear("a1", "a2", "a3").add("f1", "a1").add("m", "a2", "f1")

    plan = tree.plan(LANDED)

    assert heads(tree.apply(plan)) == ("m",)
    assert tree.down("f1") == ("a3",)


def test_a_linear_history_gives_an_empty_plan():
    tree = linear("a1", "a2", "a3").add("f1", "a3").add("f2", "f1")

    plan = tree.plan(LANDED)

    assert plan.is_empty and plan.strategy == "rebase" and plan.diff() == ""


# ---------------------------------------------------------------- refusals
def test_refuses_when_base_itself_has_several_heads():
    tree = linear("a1", "a2", "a3").add("b3", "a2").add("f1", "a3")

    with pytest.raises(FixRefused, match="itself has several heads: a3, b3") as info:
        tree.plan(LANDED | {"b3"})
    assert "--strategy merge" in info.value.hint


def test_target_heads_choose_the_head_when_base_has_several():
    tree = linear("a1", "a2", "a3").add("b3", "a2").add("f1", "a1")

    plan = tree.plan(LANDED | {"b3"}, target_heads={None: "b3"})

    assert [(m.revision, m.new_down) for m in plan.moves] == [("f1", ("b3",))]


def test_target_heads_must_name_a_landed_revision():
    tree = linear("a1", "a2", "a3").add("f1", "a1").add("g1", "a1")

    with pytest.raises(FixRefused, match="not a landed revision"):
        tree.plan(LANDED, target_heads={None: "g1"})


# f1 has two heads, b1 and d (both off a1); f2 adds b2 on b1 and merges f1.
ONTO_TWO_HEADS_LANDED = {"a1", "b1", "d"}


def onto_with_two_heads() -> Tree:
    return linear("a1").add("b1", "a1").add("d", "a1").add("b2", "b1")


def test_onto_a_ref_with_several_heads_on_the_line_is_refused_naming_the_ref_and_its_heads():
    # Re-pointing b2 onto one of them (d) would take it off b1, the landed
    # revision it was written against, and still leave b1 a head.
    tree = onto_with_two_heads()

    with pytest.raises(FixRefused, match=r"^f1 \(--onto\) itself has several heads: b1, d$") as info:
        tree.plan(ONTO_TWO_HEADS_LANDED, target_heads={None: ("b1", "d")}, onto_ref="f1")
    assert "merge revision on f1" in info.value.hint and "one head" in info.value.hint, info.value.hint


def test_onto_a_ref_with_several_heads_is_fine_when_a_new_merge_joins_them():
    tree = onto_with_two_heads().add("m", "b1", "d")
    tree.files.pop(tree.paths.pop("b2"))

    plan = tree.plan(ONTO_TWO_HEADS_LANDED, target_heads={None: ("b1", "d")}, onto_ref="f1")

    assert plan.is_empty


def test_a_new_revision_is_never_moved_off_a_landed_head_it_stands_on():
    # --onto named d alone (say the ref's own graph said so), while b1 has landed
    # too: moving b2 off b1 would leave b1 a head and b2 no longer after it.
    tree = onto_with_two_heads()

    with pytest.raises(FixRefused, match="b2 .*off landed revision b1.* onto d") as info:
        tree.plan(ONTO_TWO_HEADS_LANDED, target_heads={None: "d"}, onto_ref="f1")
    assert "--strategy merge" in info.value.hint


def test_a_new_merge_of_base_heads_is_left_as_it_is():
    tree = linear("a1", "a2", "a3").add("b3", "a2").add("m", "a3", "b3").add("f1", "m")

    plan = tree.plan(LANDED | {"b3"})

    assert plan.is_empty


def test_refuses_to_move_a_new_merge_revision_whose_parents_are_landed():
    tree = linear("a1", "a2").add("b2", "a1").add("j", "a2", "b2").add("a4", "j")
    tree.add("m", "a2", "b2")  # the branch merged base's two heads; base did too, and moved on

    with pytest.raises(FixRefused, match="m is a merge revision of landed revisions a2, b2") as info:
        tree.plan({"a1", "a2", "b2", "j", "a4"})
    assert "--strategy merge" in info.value.hint


def test_refuses_when_new_revisions_branch_off_each_other():
    tree = linear("a1", "a2", "a3").add("f1", "a1").add("f2", "f1").add("f3", "f1")

    with pytest.raises(FixRefused, match="branch off each other"):
        tree.plan(LANDED)


def test_refusals_say_why_no_merge_where_the_environment_cannot_render_one():
    # Without script.py.mako `fix --strategy merge` exits 2: no refusal may send
    # anyone there; each says what is missing instead, its own advice kept.
    why = "no migrations/script.py.mako to render a merge revision from: add alembic's template there"
    refusals = [
        (linear("a1", "a2", "a3").add("b3", "a2").add("f1", "a3"), LANDED | {"b3"}),  # base forks
        (linear("a1", "a2", "a3").add("f1", "a1").add("f2", "f1").add("f3", "f1"), LANDED),  # branching
        (linear("a1", "a2").add("b2", "a1").add("j", "a2", "b2").add("a4", "j").add("m", "a2", "b2"),
         {"a1", "a2", "b2", "j", "a4"}),  # a new merge of landed parents
        (Tree().add("x0").add("p1", "x0", labels=("pay",)).add("s1", "x0", labels=("ship",)).add("f1", "x0"),
         {"x0", "p1", "s1"}),  # below several labelled lines
        (Tree().add("x0").add("p1", "x0", labels=("pay",)).add("p2", "p1").add("s1", "x0", labels=("ship",))
         .add("s2", "s1").add("f1", "p1").add("g1", "s1").add("m", "f1", "g1"),
         {"x0", "p1", "p2", "s1", "s2"}),  # one new unit on two lines
    ]  # fmt: skip
    hints = []
    for tree, landed in refusals:
        with pytest.raises(FixRefused) as offered:
            tree.plan(landed)
        assert "--strategy merge" in offered.value.hint
        with pytest.raises(FixRefused) as info:
            tree.plan(landed, merge_unavailable=why)
        assert str(info.value) == str(offered.value)  # the refusal itself is the same
        assert why in info.value.hint and "--strategy merge" not in info.value.hint.replace(why, "")
        hints.append(info.value.hint)
    assert hints[0] == f"landed heads never move: join them with a merge revision on base; {why}"
    assert hints[1] == why
    assert hints[2] == f"delete {refusals[2][0].paths['m']}; {why}"
    assert hints[3].startswith("point its down_revision at the head of the line") and hints[3].endswith(f"; {why}")
    assert hints[4] == why
    # Landed revisions from several places (protected refs) that fork: a merge is the only way.
    tree, landed = refusals[0]
    with pytest.raises(FixRefused, match=r"must not move \(main \+ release\) have several heads") as info:
        tree.plan(landed, landed_from="main + release", merge_unavailable=why)
    assert info.value.hint == why
    # Nothing to refuse: the rebase itself renders nothing and plans as before.
    tree = linear("a1", "a2", "a3").add("f1", "a1")
    assert tree.plan(LANDED, merge_unavailable=why).moves == tree.plan(LANDED).moves != ()


def test_refuses_a_new_revision_whose_depends_on_is_an_id_prefix():
    # alembic cannot load a depends_on given by an id prefix (RG104): moving the
    # revision would leave the environment as broken as it is.
    tree = linear("a1", "a2", "a3").add("f1", "a1")

    def depends_on(value: str) -> None:
        path = tree.paths["f1"]
        data, count = re.subn(rb"(?m)^(depends_on\b[^=\n]*= )None$", rf"\g<1>{value!r}".encode(), tree.files[path])
        assert count == 1
        tree.files[path] = data

    depends_on("a2")
    assert tree.plan(LANDED).moves  # by its full id: planned as before
    tree = linear("aaaa1111", "bbbb2222").add("f1", "aaaa1111")
    depends_on("bbbb")
    with pytest.raises(FixRefused, match="f1 names depends_on 'bbbb', a prefix of bbbb2222, .* fix RG104 first"):
        tree.plan({"aaaa1111", "bbbb2222"})


def test_refuses_when_a_landed_revision_hangs_off_a_new_one():
    tree = linear("a1", "a2").add("f1", "a1").add("a3", "f1")

    with pytest.raises(FixRefused, match="landed revision a3 hangs off new revision f1"):
        tree.plan(LANDED)


def test_refuses_a_new_revision_naming_a_missing_down_revision():
    tree = linear("a1", "a2", "a3").add("f1", "zzz").add("g1", "a1")

    with pytest.raises(FixRefused, match="f1 names down_revision 'zzz'"):
        tree.plan(LANDED)


def test_refuses_a_new_revision_id_declared_by_two_files():
    tree = linear("a1", "a2", "a3").add("f1", "a1")
    tree.files["migrations/versions/f1_copy.py"] = revision_file("f1", ("a2",))

    with pytest.raises(FixRefused, match="f1 is declared by several files"):
        tree.plan(LANDED)


def test_refuses_to_edit_a_file_that_holds_a_landed_revision():
    tree = linear("a1", "a2", "a3").add("f1", "a1")
    graph = tree.graph()
    # A (broken) tree where the new revision's file is also a landed revision's file.
    shared = tree.paths["a2"]
    revs = [r if r.id != "f1" else _with_path(r, shared) for r in graph]
    sources = {shared: tree.files[tree.paths["f1"]]}

    with pytest.raises(FixRefused, match="refusing to edit landed revision f1"):
        plan_rebase(RevisionGraph(revs), landed=frozenset(LANDED), sources=sources)


def test_refuses_when_the_source_bytes_are_not_those_the_revision_was_read_from():
    tree = linear("a1", "a2", "a3").add("f1", "a1")
    graph = tree.graph()
    stale = tree.files[tree.paths["f1"]].replace(b"'a1'", b"'a2'")

    with pytest.raises(FixRefused, match="not where revgraph read it"):
        plan_rebase(graph, landed=frozenset(LANDED), sources={tree.paths["f1"]: stale})


def test_refuses_when_a_moving_file_has_no_source():
    tree = linear("a1", "a2", "a3").add("f1", "a1")

    with pytest.raises(FixRefused, match="no content for"):
        plan_rebase(tree.graph(), landed=frozenset(LANDED), sources={})


def _with_path(rev: Revision, path: str) -> Revision:
    from dataclasses import replace

    return replace(rev, path=path)


# ---------------------------------------------------- bases and branch labels
def test_a_new_base_is_left_alone_with_a_note():
    tree = linear("a1", "a2", "a3").add("nb")

    plan = tree.plan(LANDED)

    assert plan.is_empty
    assert any("nb" in note and "new base" in note for note in plan.notes)


def test_each_labelled_branch_is_rebased_onto_its_own_head():
    tree = Tree().add("x0").add("p1", "x0", labels=("pay",)).add("p2", "p1")
    tree.add("s1", "x0", labels=("ship",)).add("s2", "s1").add("s3", "s2")
    tree.add("fp", "p1").add("fs", "s1")
    landed = {"x0", "p1", "p2", "s1", "s2", "s3"}

    plan = tree.plan(landed)

    assert sorted((m.revision, m.new_down) for m in plan.moves) == [("fp", ("p2",)), ("fs", ("s3",))]
    tree.apply(plan)
    assert heads(tree) == ("fp", "fs")


def test_an_unlabelled_line_is_told_apart_from_a_labelled_branch_off_it():
    tree = linear("a1", "a2", "a3").add("l1", "a1", labels=("side",))
    tree.add("f1", "a1")  # continues the unlabelled line, not branch "side"

    plan = tree.plan(LANDED | {"l1"})

    assert [(m.revision, m.new_down) for m in plan.moves] == [("f1", ("a3",))]


def test_refuses_a_new_revision_below_several_labelled_lines_it_could_continue():
    tree = Tree().add("x0").add("p1", "x0", labels=("pay",)).add("s1", "x0", labels=("ship",))
    tree.add("f1", "x0")

    with pytest.raises(FixRefused, match="f1 hangs off x0, which lies below several branch lines"):
        tree.plan({"x0", "p1", "s1"})


def test_a_new_labelled_branch_is_left_alone():
    tree = linear("a1", "a2", "a3").add("n1", "a1", labels=("newline",))

    plan = tree.plan(LANDED)

    assert plan.is_empty
    assert any("newline" in note for note in plan.notes)


# ------------------------------------------------------ the edit, byte for byte
def _changed_lines(old: bytes, new: bytes) -> list[tuple[bytes, bytes]]:
    old_lines, new_lines = old.splitlines(True), new.splitlines(True)
    assert len(old_lines) == len(new_lines)
    return [(a, b) for a, b in zip(old_lines, new_lines) if a != b]


def test_the_edit_changes_only_the_down_revision_literal_and_the_revises_value():
    tree = linear("a1", "a2", "a3").add("f1", "a1")
    old = tree.files[tree.paths["f1"]]

    (edit,) = tree.plan(LANDED).edits

    assert edit.old == old
    assert _changed_lines(old, edit.new) == [
        (b"Revises: a1\n", b"Revises: a3\n"),
        (
            b"down_revision: Union[str, Sequence[str], None] = 'a1'\n",
            b"down_revision: Union[str, Sequence[str], None] = 'a3'\n",
        ),
    ]


def test_the_edit_keeps_double_quotes_comments_and_crlf():
    tree = linear("a1", "a2", "a3").add("f1", "a1", style="classic")
    old = tree.files[tree.paths["f1"]]

    (edit,) = tree.plan(LANDED).edits

    assert _changed_lines(old, edit.new) == [
        (b"Revises: a1\r\n", b"Revises: a3\r\n"),
        (b'down_revision = "a1"  # where this one hangs\r\n', b'down_revision = "a3"  # where this one hangs\r\n'),
    ]
    assert edit.new.count(b"\r\n") == old.count(b"\r\n") and b"\n" not in edit.new.replace(b"\r\n", b"")


def test_a_file_without_a_revises_line_changes_only_the_assignment():
    tree = linear("a1", "a2", "a3").add("f1", "a1", revises_line=False)
    old = tree.files[tree.paths["f1"]]

    (edit,) = tree.plan(LANDED).edits

    assert [b for _, b in _changed_lines(old, edit.new)] == [
        b"down_revision: Union[str, Sequence[str], None] = 'a3'\n"
    ]


def test_a_byte_order_mark_and_a_latin1_docstring_survive_the_edit():
    tree = linear("a1", "a2", "a3").add("f1", "a1", style="classic").add("f2", "f1")
    bom, latin = tree.paths["f1"], tree.paths["f2"]
    tree.files[bom] = b"\xef\xbb\xbf" + tree.files[bom]
    tree.files[latin] = b"# -*- coding: latin-1 -*-\n" + tree.files[latin].replace(b"add f2", b"caf\xe9")
    tree.add("g1", "a1", date="2025-01-01 00:00:00")  # a second chain: lands on f2

    plan = tree.plan(LANDED)

    new = {e.path: e.new for e in plan.edits}
    assert new[bom].startswith(b"\xef\xbb\xbf") and b'down_revision = "a3"' in new[bom]
    tree.apply(plan)
    assert tree.down("g1") == ("f2",)


def test_a_one_element_tuple_stays_a_tuple_in_its_quote_style():
    tree = linear("a1", "a2", "a3").add("f1", "a1", style="classic", down_literal='("a1",)')

    (edit,) = tree.plan(LANDED).edits

    assert b'down_revision = ("a3",)  # where this one hangs' in edit.new


def test_the_plan_diff_is_a_unified_diff_of_the_edits():
    tree = linear("a1", "a2", "a3").add("f1", "a1")
    path = tree.paths["f1"]

    diff = tree.plan(LANDED).diff()

    assert diff.startswith(f"--- a/{path}\n+++ b/{path}\n")
    assert "-Revises: a1\n+Revises: a3\n" in diff
    assert "+down_revision: Union[str, Sequence[str], None] = 'a3'\n" in diff


# ------------------------------------------------------------ text helpers
def test_replacing_a_none_literal_uses_the_files_prevailing_quote_style():
    source = b'revision = "abc"\ndown_revision = None\n'
    start = source.index(b"None")
    spans = {
        "revision": Span(11, 16, 1),
        "down_revision": Span(start, start + 4, 2),
    }

    new = rewrite_down_revision(source, spans, (), ("xyz",))

    assert new == b'revision = "abc"\ndown_revision = "xyz"\n'


def test_prevailing_quote_without_a_revision_literal_counts_string_literals():
    assert prevailing_quote(b'x = "a"\ny = "b"\nz = \'c\'\n') == '"'
    assert prevailing_quote(b"x = 'a'\n") == "'"
    assert prevailing_quote(b"x = 1\n") == "'"  # alembic's repr style when unsure


@pytest.mark.parametrize(
    "ids, quote, like, expected",
    [
        ((), "'", b"'a'", b"None"),
        (("b",), '"', b'"a"', b'"b"'),
        (("b",), "'", b"['a']", b"['b']"),
        (("b", "c"), "'", b"'a'", b"('b', 'c')"),
        (("b", "c"), '"', b'["a", "x"]', b'["b", "c"]'),
        (("it's",), "'", None, b"'it\\'s'"),
    ],
)
def test_rendered_literals_follow_the_shape_and_quotes_of_the_original(ids, quote, like, expected):
    rendered = render_down_revision(ids, quote=quote, like=like)

    assert rendered == expected
    assert literal_ids(rendered) == tuple(ids)


def test_an_empty_revises_value_gets_the_new_id_after_one_space():
    source = b'"""m\n\nRevises:\n"""\ndown_revision = None\n'
    colon = source.index(b"Revises:") + len(b"Revises:")
    start = source.index(b"None")
    spans = {"revises_line": Span(colon, colon, 3), "down_revision": Span(start, start + 4, 5)}

    new = rewrite_down_revision(source, spans, (), ("abc",))

    assert new == b'"""m\n\nRevises: abc\n"""\ndown_revision = \'abc\'\n'


def test_overlapping_replacements_are_rejected():
    with pytest.raises(ValueError):
        replace_spans(b"abcdef", [(0, 3, b"x"), (2, 4, b"y")])


def test_file_edits_are_plain_data():
    edit = FileEdit("p.py", None, b"x")
    assert edit.creates and FileEdit("p.py", b"", b"x").creates is False


@pytest.mark.parametrize(
    "literal, expected",
    [
        (b"( 'a1' , )", b"( 'a3' , )"),  # spaces and the trailing comma kept
        (b"(\n    'a1',\n)", b"(\n    'a3',\n)"),  # a tuple over several lines stays so
        (b"r'a1'", b"r'a3'"),  # the prefix kept
        (b'["a1"]', b'["a3"]'),
    ],
)
def test_only_the_id_changes_inside_the_authors_literal(literal, expected):
    tree = linear("a1", "a2", "a3").add("f1", "a1", style="classic", down_literal=literal.decode())

    (edit,) = tree.plan(LANDED).edits

    old = tree.files[tree.paths["f1"]]
    if b"\r\n" in old:  # the fixture writes CRLF files
        literal, expected = literal.replace(b"\n", b"\r\n"), expected.replace(b"\n", b"\r\n")
    assert expected in edit.new
    assert edit.new.replace(expected, literal).replace(b"Revises: a3", b"Revises: a1") == old


def test_a_triple_quoted_or_raw_down_revision_keeps_its_quotes():
    # QA: r"""a1""" came back as "a3": the in-place swap knew one quote only.
    for literal, expected in ((b'r"""a1"""', b'r"""a3"""'), (b"'''a1'''", b"'''a3'''"), (b"R'a1'", b"R'a3'")):
        source = b'revision = "f1"\ndown_revision: str | None = ' + literal + b"  # kept\n"
        start = source.index(literal)
        spans = {"revision": Span(11, 15, 1), "down_revision": Span(start, start + len(literal), 2)}

        new = rewrite_down_revision(source, spans, ("a1",), ("a3",))

        assert new == source.replace(literal, expected), new
