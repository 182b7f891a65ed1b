"""fixes.renumber: a new id for the branch's copy of an id base has landed at another path."""

from __future__ import annotations

import dataclasses

import pytest

from revgraph.fixes.renumber import plan_renumber
from revgraph.model import Revision, RevisionGraph, Snapshot
from revgraph.parse import parse_revision
from tests.support.revfiles import render_revision


def file(rid: str, down, path: str, *, message: str = "step", newline: str = "\n", depends_on=None) -> tuple[Revision, bytes]:
    data = render_revision(rid, down, message=message, newline=newline, depends_on=depends_on).encode()
    rev = parse_revision(data, path)
    assert isinstance(rev, Revision)
    return rev, data


def plan(head: list[tuple[Revision, bytes]], base: list[Revision] | None, *, ids=("ab12cd34ef56",), in_use=(),
         landed_files=frozenset(), applied=frozenset(), landed=None):
    data = {rev.path: raw for rev, raw in head}
    revisions = tuple(rev for rev, _ in head)
    fresh = iter(ids)
    return plan_renumber(
        RevisionGraph(revisions), revisions,
        base=None if base is None else Snapshot("default", "main", tuple(base)),
        landed=frozenset(rev.id for rev in base or ()) if landed is None else frozenset(landed),
        read=lambda rev: data[rev.path], fresh_id=lambda: next(fresh),
        in_use=in_use, landed_files=landed_files, applied=applied,
    )  # fmt: skip


ROOT = file("0001", None, "v/0001_init.py")
LANDED = file("0004", "0001", "v/0004_add_orders.py", message="add orders")
MINE = file("0004", "0001", "v/0004_add_invoices.py", message="add invoices")


def test_a_numbered_id_takes_the_next_free_number_in_its_width():
    taken = file("0005", "0001", "v/0005_other.py")  # on base: not free
    result = plan([ROOT, LANDED, MINE], [ROOT[0], LANDED[0], taken[0]])
    [done] = result.renumbered
    assert (done.old, done.new, done.path, done.landed_path) == ("0004", "0006", MINE[0].path, LANDED[0].path)
    new = result.files[MINE[0].path]
    assert new == MINE[1].replace(b"revision: str = '0004'", b"revision: str = '0006'").replace(
        b"Revision ID: 0004", b"Revision ID: 0006")  # fmt: skip
    again = parse_revision(new, MINE[0].path)
    assert (again.id, again.down_revisions, again.doc_revision_id) == ("0006", ("0001",), "0006")
    assert set(result.files) == {MINE[0].path}  # base's file is never touched
    assert "git mv -- v/0004_add_invoices.py v/0006_add_invoices.py" in done.note()


def test_ids_still_to_come_are_not_taken():
    # In a rebase the branch's later commits are not in HEAD yet: their numbers are in use.
    [done] = plan([ROOT, LANDED, MINE], [ROOT[0], LANDED[0]], in_use={"0005", "0006"}).renumbered
    assert done.new == "0007"


def test_a_hex_id_takes_a_fresh_alembic_id_never_one_in_use():
    landed = file("c0ffee000001", "0001", "v/c0ffee000001_a.py")
    mine = file("c0ffee000001", "0001", "v/c0ffee000001_b.py")
    result = plan([ROOT, landed, mine], [ROOT[0], landed[0]], ids=("0001", "ab12cd34ef56"))
    assert [r.new for r in result.renumbered] == ["ab12cd34ef56"]


def test_new_revisions_naming_the_id_follow_the_branch_s_file_and_keep_their_layout():
    child = file("0005", "0004", "v/0005_child.py", newline="\r\n")
    dep = file("0009", "0005", "v/0009_dep.py", depends_on="0004")
    landed_child = file("0007", "0004", "v/0007_landed.py")
    result = plan([ROOT, LANDED, MINE, child, dep, landed_child], [ROOT[0], LANDED[0], landed_child[0]])
    [done] = result.renumbered
    assert done.new == "0010"  # after the largest number in use
    moved = parse_revision(result.files[child[0].path], child[0].path)
    assert moved.down_revisions == ("0010",) and moved.doc_revises == "0010"
    assert result.files[child[0].path].count(b"\r\n") == child[1].count(b"\r\n")  # CRLF kept
    assert parse_revision(result.files[dep[0].path], dep[0].path).depends_on == ("0010",)
    assert landed_child[0].path not in result.files  # it means base's 0004


@pytest.mark.parametrize(
    "case",
    ["no base", "mine landed on a protected ref", "a database ran it", "base has two", "three copies",
     "no copy at base's path", "a byte-for-byte copy"],
)
def test_nothing_is_renumbered_unless_which_copy_landed_is_certain(case):
    head, base, extra = [ROOT, LANDED, MINE], [ROOT[0], LANDED[0]], {}
    if case == "no base":
        base = None
    elif case == "mine landed on a protected ref":
        extra = {"landed_files": {("0004", MINE[0].path)}}
    elif case == "a database ran it":
        extra = {"applied": {"0004"}}
    elif case == "base has two":
        base = [ROOT[0], LANDED[0], MINE[0]]
    elif case == "three copies":
        head = head + [file("0004", "0001", "v/0004_third.py")]
    elif case == "a byte-for-byte copy":  # one migration in two files: delete the copy
        landed = dataclasses.replace(LANDED[0], blob_id="same")
        copy = dataclasses.replace(landed, path="v/0004_add_orders copy.py")
        head, base = [ROOT, (landed, LANDED[1]), (copy, LANDED[1])], [ROOT[0], landed]
    elif case == "no copy at base's path":
        base = [ROOT[0], file("0004", "0001", "v/elsewhere.py")[0]]
    result = plan(head, base, **extra)
    assert result.files == {} and result.renumbered == ()


def test_base_s_own_file_landing_elsewhere_too_changes_nothing():
    # A protected ref that has base's file (the usual case: release branches off main).
    [done] = plan([ROOT, LANDED, MINE], [ROOT[0], LANDED[0]], landed_files={("0004", LANDED[0].path)}).renumbered
    assert done.path == MINE[0].path


def test_mid_operation_the_other_side_s_copy_keeps_the_id_when_base_has_none():
    # Two branches, neither on base, merged: the one merged in has landed here.
    other_side = {("0001", ROOT[0].path), ("0004", LANDED[0].path)}
    [done] = plan([ROOT, LANDED, MINE], [ROOT[0]], landed={"0001", "0004"}, landed_files=other_side).renumbered
    assert (done.path, done.landed_path, done.new) == (MINE[0].path, LANDED[0].path, "0005")
    # Both copies landed somewhere, or neither: which one keeps the id is not certain.
    for landed_files in (other_side | {("0004", MINE[0].path)}, {("0001", ROOT[0].path)}):
        result = plan([ROOT, LANDED, MINE], [ROOT[0]], landed={"0001", "0004"}, landed_files=landed_files)
        assert result.files == {} and result.renumbered == ()
