"""RG401 and `revgraph lock --check` share one comparison (``lock_disagreement``).

Pure: graphs built in a line, no disk. The integration side is
tests/integration/test_lock_conflict_markers.py.
"""

from __future__ import annotations

from revgraph.checks.consistency import lock_disagreement
from revgraph.checks.context import CheckContext
from revgraph.checks.registry import run_checks
from revgraph.model import Revision, Snapshot

LOCK = "migrations/revgraph.lock"


def _context(**lock) -> CheckContext:
    """a <- b <- c: one head, c."""
    revisions = tuple(
        Revision(rid, down, path=f"versions/{rid}_step.py") for rid, down in (("a", ()), ("b", ("a",)), ("c", ("b",)))
    )
    head = Snapshot("default", "worktree", revisions, ())
    return CheckContext(environment="default", head=head, lock_path=LOCK, **lock)


def test_conflict_markers_disagree_even_when_both_sides_record_the_heads():
    assert lock_disagreement(("c",), ("c",), conflicted=True) == "conflicted"
    assert lock_disagreement(("b",), ("c",)) == "stale"
    assert lock_disagreement(("c", "c"), ("c",)) is None  # ids only, as a set


def test_rg401_names_the_markers_and_both_fixes_for_a_conflicted_lock():
    [finding] = [f for f in run_checks(_context(lock_heads=("c",), lock_conflicted=True)) if f.code == "RG401"]
    assert finding.message.startswith(f"{LOCK} holds git conflict markers")
    assert "`revgraph fix`" in finding.message and "`revgraph lock`" in finding.message
    assert finding.fix == "revgraph lock"
    assert [f.code for f in run_checks(_context(lock_heads=("c",)))] == []


def _with_unreadable(context: CheckContext, path: str, *, in_graph: bool = False) -> CheckContext:
    """``context`` with a problem (RG107) in ``path``: a file the graph lacks, or with ``in_graph``
    the file of revision c (a syntax error past its header: the revision still counts)."""
    from dataclasses import replace

    from revgraph.model import ParseProblem

    revisions = context.head.revisions
    if in_graph:
        path = next(r.path for r in revisions if r.id == "c")
    head = replace(context.head, problems=(ParseProblem(path, 3, "unresolved merge conflict markers (line 3)"),))
    return replace(context, head=head)


def test_rg401_waits_for_an_unreadable_revision_file_as_lock_does():
    # The file may hold d (b <- d): the heads `revgraph lock` would write are unknown, and it refuses.
    stale = _with_unreadable(_context(lock_heads=("d",)), "versions/d_step.py")
    assert [f.code for f in run_checks(stale)] == ["RG107"]
    # A syntax error past the header leaves c in the graph: its heads stand, RG401 with them.
    body_only = _with_unreadable(_context(lock_heads=("b",)), "", in_graph=True)
    assert sorted(f.code for f in run_checks(body_only)) == ["RG107", "RG401"]


def test_rg401_for_markers_beside_an_unreadable_revision_offers_no_command():
    conflicted = _with_unreadable(_context(lock_heads=("c",), lock_conflicted=True), "versions/d_step.py")
    [finding] = [f for f in run_checks(conflicted) if f.code == "RG401"]
    assert finding.message.startswith(f"{LOCK} holds git conflict markers")
    assert "versions/d_step.py can be read (RG107)" in finding.message
    assert finding.fix is None


def test_rg401_says_a_lock_file_the_project_keeps_is_missing_and_to_run_lock():
    [finding] = run_checks(_context(lock_missing="main has it"))
    assert finding.code == "RG401" and finding.fix == "revgraph lock"
    assert finding.message == (
        f"the lock file {LOCK} is missing, but this project keeps one (main has it): run `revgraph lock` to write it"
    )
    assert run_checks(_context()) == []  # no lock file, none kept: nothing to say


def test_a_merge_revgraph_line_is_read_as_git_reads_gitattributes():
    from revgraph.gitops.install import attribute_line
    from revgraph.lockfile import attribute_files, driven_by_attributes

    assert attribute_files(LOCK) == (".gitattributes", "migrations/.gitattributes")
    for text in (attribute_line(LOCK), "*.lock merge=revgraph", "**/revgraph.lock -diff merge=revgraph"):
        assert driven_by_attributes({".gitattributes": text}, LOCK), text
    for text in ("/revgraph.lock merge=revgraph", "*.lock merge=revgraph\n*.lock -merge", "# x merge=revgraph"):
        assert not driven_by_attributes({".gitattributes": text}, LOCK), text
    nested = {".gitattributes": "* -merge", "migrations/.gitattributes": "/revgraph.lock merge=revgraph"}
    assert driven_by_attributes(nested, LOCK)
    assert driven_by_attributes({".gitattributes": attribute_line("a b/r.lock")}, "a b/r.lock")
