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
