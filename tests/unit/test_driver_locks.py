"""The merge driver's decisions that need no git: both lock files record the same heads."""

from __future__ import annotations

import pytest

from revgraph.gitops.driver import conflict_text, ids_added_twice, merge_locks
from revgraph.lockfile import parse_lock

ANCESTOR = b"head: 0001  init\n"


def test_the_same_new_revision_on_both_sides_merges_as_ours():
    ours = b"# written by one revgraph\nhead: 0002  add orders\n"
    theirs = b"# written by another\nhead: 0002  add orders\n"
    assert merge_locks(ANCESTOR, ours, theirs) == (ours, True)


def test_one_new_id_with_two_messages_is_two_files_and_a_conflict():
    ours, theirs = b"head: 0002  add orders\n", b"head: 0002  add invoices\n"
    assert ids_added_twice(*map(parse_lock, (ANCESTOR.decode(), ours.decode(), theirs.decode()))) == ["0002"]
    text, clean = merge_locks(ANCESTOR, ours, theirs)  # no git to read the trees: a conflict
    assert not clean
    assert b"both sides added revision 0002, each in a file of its own" in text
    assert b"<<<<<<< ours\nhead: 0002  add orders\n=======\nhead: 0002  add invoices\n>>>>>>> theirs\n" in text


def test_a_landed_head_whose_message_one_side_edited_is_not_added_twice():
    ancestor = b"head: 0002  add orders\n"
    ours, theirs = b"head: 0002  add orders\n# note\n", b"head: 0002  add orders table\n"
    assert merge_locks(ancestor, ours, theirs) == (ours, True)


# ------------------------------------------------ the conflict names a chain's first revision
def _conflict(ancestor: str, ours: str, theirs: str, new) -> str:
    return conflict_text(*map(parse_lock, (ancestor, ours, theirs)), ours, theirs, newline="\n", new=new)


def test_a_chain_is_named_by_its_head_and_the_first_revision_fix_re_points():
    theirs_new = {"0004": (("0003",), "index invoices"), "0003": (("0002",), "add invoice lines"),
                  "0002": (("0001",), "add invoices")}  # fmt: skip
    text = _conflict("head: 0001  init\n", "head: 0009  add orders\n", "head: 0004  index invoices\n",
                     ({"0009": (("0001",), "add orders")}, theirs_new))  # fmt: skip
    assert "#   ours:   0009 (add orders)\n" in text
    assert "#   theirs: 0004 (index invoices), chain from 0002 (add invoices)\n" in text
    assert "(it re-points the first revision of the chain that has not\n# landed" in text
    assert parse_lock(text).heads == ("0004", "0009") and parse_lock(text).conflicted


def test_a_chain_joined_by_a_merge_revision_names_each_first_revision():
    ours_new = {"m": (("x", "y"), "join"), "x": (("0001",), "line x"), "y": (("0001",), "line y")}
    text = _conflict("head: 0001\n", "head: m  join\n", "head: 0002\n", (ours_new, {"0002": (("0001",), "")}))
    assert "#   ours:   m (join), chain from x (line x), y (line y)\n" in text
    assert "#   theirs: 0002\n" in text


def test_a_root_s_message_stays_on_its_comment_line():
    new = {"0003": (("0002",), "top"), "0002": (("0001",), "first line\n<<<<<<< not a marker\nhead: 0007")}
    text = _conflict("head: 0001\n", "head: 0003  top\n", "head: 0009\n", (new, {"0009": (("0001",), "")}))
    assert "#   ours:   0003 (top), chain from 0002 (first line <<<<<<< not a marker head: 0007)\n" in text
    assert parse_lock(text).heads == ("0003", "0009")  # no line of its own: not read as an entry


def test_heads_of_one_side_are_set_apart_when_a_chain_is_named_and_a_stale_head_is_left_plain():
    # ours records two new heads; "0005" is in no tree (a stale lock file): nothing is made up for it.
    ours_new = {"0003": (("0002",), "c"), "0002": (("0001",), "b")}
    text = _conflict("head: 0001\n", "head: 0003  c\nrep: 0005  r\n", "head: 0009\n", (ours_new, {}))
    assert "#   ours:   0003 (c), chain from 0002 (b); 0005 (r)\n" in text


def test_a_chain_with_many_first_revisions_names_a_few():
    # A side forked long ago whose lines merges joined: its chain starts in many places.
    starts = {f"s{i}": (("0001",), "") for i in range(5)}
    ours_new = {"m": (tuple(starts), "join"), **starts}
    text = _conflict("head: 0001\n", "head: m  join\n", "head: 0009\n", (ours_new, {"0009": (("0001",), "")}))
    assert "#   ours:   m (join), chain from s0, s1, s2 and 2 more\n" in text


def test_a_folder_given_as_ours_is_refused_and_left_alone(tmp_path, capsys):
    from revgraph.gitops import driver

    folder = tmp_path / "lock"
    folder.mkdir()
    (tmp_path / "base").write_text("")

    code = driver.main([str(tmp_path / "base"), str(folder), str(tmp_path / "base"), "migrations/revgraph.lock"])

    assert code == 2
    assert "not a regular file" in capsys.readouterr().err
    assert folder.is_dir() and sorted(p.name for p in tmp_path.iterdir()) == ["base", "lock"]


def test_a_failed_write_leaves_no_temporary_copy_beside_the_file(tmp_path, monkeypatch):
    from revgraph.gitops import driver

    target = tmp_path / "revgraph.lock"
    target.write_bytes(b"old\n")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(driver.os, "replace", refuse)
    with pytest.raises(OSError):
        driver._write_atomic(target, b"new\n")

    assert target.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["revgraph.lock"]


# ------------------------------------------------ the conflict names a dangling down_revision
def test_a_parent_one_side_deleted_is_named_and_fix_is_not_advised():
    # main reverted 0002 (its lock back to 0001); the feature built 0003 on 0002.
    ours, theirs = "head: 0001  init\n", "head: 0003  add invoices\n"
    text = conflict_text(*map(parse_lock, ("head: 0002  add orders\n", ours, theirs)), ours, theirs, newline="\n",
                         dangling=(("0003", "add invoices", "0002", True),), lock="revgraph -C api lock")  # fmt: skip
    assert text.startswith(
        "# revgraph: after this merge, 0003 (add invoices) names down_revision 0002, which neither side keeps"
        " (one side deleted it since the merge base);\n# alembic would fail to load the history.\n"
        "#   ours:   0001 (init)\n#   theirs: 0003 (add invoices)\n"
        "# Resolve: point 0003's down_revision at a revision that exists (or restore the deleted file),\n"
        "# then run `revgraph -C api lock`, `git add` this file and continue the merge or rebase.\n"
        "<<<<<<< ours\nhead: 0001  init\n=======\nhead: 0003  add invoices\n>>>>>>> theirs\n"
    ), text
    assert "revgraph fix" not in text and "same head" not in text


def test_several_dangling_revisions_are_each_named():
    dangling = tuple((f"000{i}", "", "0002" if i % 2 else "0009", bool(i % 2)) for i in range(3, 8))
    text = conflict_text(*map(parse_lock, ("head: 0002\n", "head: 0001\n", "head: 0007\n")), "head: 0001\n",
                         "head: 0007\n", newline="\n", dangling=dangling)  # fmt: skip
    assert "#   0003 names 0002 (deleted by one side since the merge base)\n#   0004 names 0009 (on neither side)\n" in text
    assert "#   and 2 more\n" in text and "point each down_revision at a revision that exists" in text
    assert parse_lock(text).conflicted
