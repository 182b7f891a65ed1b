"""The merge driver's decisions that need no git: both lock files record the same heads."""

from __future__ import annotations

from revgraph.gitops.driver import ids_added_twice, merge_locks
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
