"""Random numbered histories where a branch took numbers base landed meanwhile: the new
ids and the rebase after them leave one file per id, one head, and base's bytes alone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from revgraph.fixes.rebase import plan_rebase
from revgraph.fixes.renumber import plan_renumber
from revgraph.model import Revision, RevisionGraph, Snapshot
from revgraph.parse import parse_revision
from tests.support.revfiles import render_revision


def number(n: int) -> str:
    return f"{n:04d}"


def write(rid: str, down: str | None, path: str, quote: str) -> tuple[str, bytes]:
    text = render_revision(rid, down, message=f"{path} step")
    if quote == '"':
        text = text.replace(f"'{rid}'", f'"{rid}"')
    return path, text.encode()


@st.composite
def races(draw):
    """Base lands 0001..000n in a line; a branch forked at 000m adds k numbers after m."""
    n = draw(st.integers(2, 7))
    m = draw(st.integers(1, n - 1))
    k = draw(st.integers(1, 4))
    quote = draw(st.sampled_from(["'", '"']))
    base = [write(number(i), number(i - 1) if i > 1 else None, f"v/{number(i)}_landed.py", "'") for i in range(1, n + 1)]
    branch = [write(number(i), number(i - 1), f"v/{number(i)}_mine.py", quote) for i in range(m + 1, m + k + 1)]
    return base, branch, n


def parsed(files: dict[str, bytes]) -> list[Revision]:
    revs = [parse_revision(data, path) for path, data in sorted(files.items())]
    assert all(isinstance(rev, Revision) for rev in revs)
    return revs


@given(races())
def test_new_ids_then_the_rebase_leave_one_line_on_base_s_head(case):
    base, branch, n = case
    files = dict(base) | dict(branch)
    base_revs = parsed(dict(base))
    landed = frozenset(rev.id for rev in base_revs)
    head = tuple(parsed(files))
    graph = RevisionGraph(head)

    renumber = plan_renumber(
        graph, head, base=Snapshot("default", "main", tuple(base_revs)), landed=landed,
        read=lambda rev: files[rev.path], fresh_id=lambda: "never-used",
    )  # fmt: skip
    collided = {path for path, _ in branch if path.startswith("v/") and int(path[2:6]) <= n}
    assert {r.path for r in renumber.renumbered} == collided
    files.update(renumber.files)
    after_ids = RevisionGraph(parsed(files))
    assert not after_ids.duplicates

    mine = {path for path, _ in branch}
    plan = plan_rebase(after_ids, landed=landed, sources={p: files[p] for p in mine}, base=Snapshot("default", "main", tuple(base_revs)))
    for edit in plan.edits:
        assert edit.old == files[edit.path]
        files[edit.path] = edit.new
    final = RevisionGraph(parsed(files))

    assert all(files[path] == data for path, data in base)  # landed files: byte for byte
    assert not final.duplicates and not final.dangling and len(final.heads) == 1
    # The branch's revisions, in their order, now sit on base's head.
    chain = []
    rid = final.heads[0]
    while rid not in landed:
        chain.append(final[rid].path)
        (rid,) = final.parents(rid)
    assert rid == number(n)
    assert chain[::-1] == [path for path, _ in branch]
