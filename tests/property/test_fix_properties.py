"""Rebase on random histories: one head per line, landed bytes untouched, idempotent,
and each edit changes exactly the two spans it means to change."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from revgraph.fixes.plan import EditPlan
from revgraph.fixes.rebase import plan_rebase
from revgraph.fixes.textedit import literal_ids, literal_quote
from revgraph.model import Revision, RevisionGraph
from revgraph.parse import parse_revision

TYPED = (
    '"""{message}\n\nRevision ID: {rid}\nRevises: {revises}\nCreate Date: {date}\n\n"""\n'
    "from typing import Sequence, Union\n\nfrom alembic import op\nimport sqlalchemy as sa\n\n\n"
    "# revision identifiers, used by Alembic.\n"
    "revision: str = '{rid}'\n"
    "down_revision: Union[str, Sequence[str], None] = {down}\n"
    "branch_labels: Union[str, Sequence[str], None] = {labels}\n"
    "depends_on: Union[str, Sequence[str], None] = None\n\n\n"
    "def upgrade() -> None:\n    op.add_column('t', sa.Column('c_{rid}', sa.Integer()))\n\n\n"
    "def downgrade() -> None:\n    op.drop_column('t', 'c_{rid}')\n"
)
CLASSIC = (
    '"""{message}\n\nRevision ID: {rid}\nRevises: {revises}\nCreate Date: {date}\n\n"""\n'
    "from alembic import op\nimport sqlalchemy as sa\n\n"
    "# revision identifiers, used by Alembic.\n"
    'revision = "{rid}"\n'
    "down_revision = {down}  # the parent\n"
    "branch_labels = {labels}\n"
    "depends_on = None\n\n\n"
    "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
)


def render(rid: str, down: tuple[str, ...], date: str, style: str, labels: tuple[str, ...] = ()) -> bytes:
    quote = "'" if style == "typed" else '"'

    def lit(ids: tuple[str, ...]) -> str:
        if not ids:
            return "None"
        if len(ids) == 1:
            return f"{quote}{ids[0]}{quote}"
        return "(" + ", ".join(f"{quote}{i}{quote}" for i in ids) + ")"

    text = (TYPED if style == "typed" else CLASSIC).format(
        message=f"step {rid}", rid=rid, revises=", ".join(down), date=date, down=lit(down), labels=lit(labels)
    )
    return (text.replace("\n", "\r\n") if style == "classic" else text).encode()


def read(data: bytes, path: str) -> Revision:
    rev = parse_revision(data, path)
    assert isinstance(rev, Revision), rev
    return rev


@dataclass
class History:
    files: dict[str, bytes]  # path -> bytes
    landed: frozenset[str]
    new_chains: list[list[str]]  # each chain root first

    def graph(self) -> RevisionGraph:
        return RevisionGraph(read(data, path) for path, data in self.files.items())

    def plan(self) -> EditPlan:
        graph = self.graph()
        sources = {rev.path: self.files[rev.path] for rev in graph if rev.id not in self.landed}
        return plan_rebase(graph, landed=self.landed, sources=sources)

    def applied(self, plan: EditPlan) -> "History":
        files = dict(self.files)
        for edit in plan.edits:
            assert files[edit.path] == edit.old
            files[edit.path] = edit.new
        return History(files, self.landed, self.new_chains)


ids = st.text(alphabet="0123456789abcdef", min_size=6, max_size=6)
dates = st.sampled_from([f"2024-0{m}-01 12:00:00.000000" for m in range(1, 5)])
styles = st.sampled_from(["typed", "classic"])


@st.composite
def histories(draw, labelled: bool = False) -> History:
    """A linear landed history (or two labelled lines off one base) and new chains
    hanging off random landed revisions."""
    lines = 2 if labelled else 1
    line_lengths = [draw(st.integers(1, 5)) for _ in range(lines)]
    chain_lengths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=4))
    count = 1 + sum(line_lengths) + sum(chain_lengths)
    names = draw(st.lists(ids, min_size=count, max_size=count, unique=True))
    files: dict[str, bytes] = {}

    def add(rid: str, down: tuple[str, ...], labels: tuple[str, ...] = ()) -> None:
        files[f"versions/{rid}_step.py"] = render(rid, down, draw(dates), draw(styles), labels)

    base = names.pop()
    add(base, ())
    landed = [base]
    line_members: list[list[str]] = []
    for index, length in enumerate(line_lengths):
        previous, members = base, []
        for position in range(length):
            rid = names.pop()
            labels = (f"line{index}",) if labelled and position == 0 else ()
            add(rid, (previous,), labels)
            members.append(rid)
            previous = rid
        line_members.append(members)
        landed.extend(members)
    # A chain continues one line: it hangs off the base (unlabelled case) or a member of a line.
    anchors = landed if not labelled else [m for members in line_members for m in members]
    chains = []
    for length in chain_lengths:
        previous = draw(st.sampled_from(anchors))
        chain = []
        for _ in range(length):
            rid = names.pop()
            add(rid, (previous,))
            chain.append(rid)
            previous = rid
        chains.append(chain)
    return History(files, frozenset(landed), chains)


def outside_spans(data: bytes, rev: Revision) -> list[bytes]:
    """The bytes of a file outside its down_revision and Revises: value spans."""
    spans = sorted((rev.spans[k] for k in ("down_revision", "revises_line")), key=lambda s: s.start)
    pieces, cursor = [], 0
    for span in spans:
        pieces.append(data[cursor : span.start])
        cursor = span.end
    pieces.append(data[cursor:])
    return pieces


def heads_per_line(graph: RevisionGraph) -> dict[tuple[str, ...], list[str]]:
    lines: dict[tuple[str, ...], list[str]] = {}
    for head in graph.heads:
        lines.setdefault(graph.labels_of(head), []).append(head)
    return lines


def check_rebase(history: History) -> None:
    before = history.graph()
    plan = history.plan()
    after_history = history.applied(plan)
    after = after_history.graph()

    # One head per line, the same revisions, and not one landed byte changed.
    assert all(len(h) == 1 for h in heads_per_line(after).values()), heads_per_line(after)
    assert set(after.revisions) == set(before.revisions)
    for rid in history.landed:
        path = before[rid].path
        assert after_history.files[path] == history.files[path]
    assert {m.revision for m in plan.moves}.isdisjoint(history.landed)

    # Each edit: the intended down_revision, only the two spans changed, quotes kept.
    moved = {m.path: m for m in plan.moves}
    assert set(moved) == {e.path for e in plan.edits}
    for edit in plan.edits:
        old_rev, new_rev = read(edit.old, edit.path), read(edit.new, edit.path)
        move = moved[edit.path]
        assert new_rev.id == old_rev.id == move.revision
        assert new_rev.down_revisions == move.new_down
        assert outside_spans(edit.old, old_rev) == outside_spans(edit.new, new_rev)
        old_literal = edit.old[old_rev.spans["down_revision"].start : old_rev.spans["down_revision"].end]
        new_literal = edit.new[new_rev.spans["down_revision"].start : new_rev.spans["down_revision"].end]
        assert literal_quote(new_literal) == literal_quote(old_literal)
        assert literal_ids(new_literal) == move.new_down
        assert new_rev.doc_revises == ", ".join(move.new_down)

    # A chain moves by its root only.
    roots = {chain[0] for chain in history.new_chains}
    assert {m.revision for m in plan.moves} <= roots

    # Moved chains follow each other in Create Date order (ties: id).
    moved_roots = [m.revision for m in plan.moves]
    for line in _lines_of_new_revisions(after, history.landed):
        order = [r for r in line if r in moved_roots]
        keys = [(after[r].create_date, r) for r in order]
        assert keys == sorted(keys)

    # Idempotent.
    assert after_history.plan().is_empty


def _lines_of_new_revisions(graph: RevisionGraph, landed: frozenset[str]) -> list[list[str]]:
    """For each head, its new revisions from oldest to newest."""
    lines = []
    for head in graph.heads:
        line, rid = [], head
        while rid not in landed:
            line.append(rid)
            (rid,) = graph[rid].down_revisions
        lines.append(line[::-1])
    return lines


@settings(max_examples=60, deadline=None)
@given(histories())
def test_rebase_on_a_linear_history_leaves_one_head_and_touches_only_new_files(history):
    check_rebase(history)


@settings(max_examples=30, deadline=None)
@given(histories(labelled=True))
def test_rebase_on_labelled_lines_leaves_one_head_per_line(history):
    check_rebase(history)
