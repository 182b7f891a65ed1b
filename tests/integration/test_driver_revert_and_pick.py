"""The merge driver during `git revert` and `git cherry-pick`, where git names no commit.

git says nothing to a merge driver about which commit a revert or a pick
applies (no ``GITHEAD_``), so the driver cannot read the trees. Reverting the
commit that added a revision takes the lock back below the ancestor's heads:
theirs' "new" head is a revision ours already has. The conflict text must say
that theirs deletes a revision ours keeps, not that both sides added a
migration on one head; and its Resolve lines must work when followed. So
must a pick of a commit whose revision grows from one its parent added,
which the branch picked onto does not have.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from revgraph.gitops.driver import already_in_ours, lacking_below_theirs, undone_by_theirs
from revgraph.model import Revision

LOCK = "migrations/revgraph.lock"
ROOT, ADDED, ON_TOP = "a1a1a1a1a1a1", "b2b2b2b2b2b2", "c3c3c3c3c3c3"


def _history(repo):
    """main: ROOT, then ADDED (the commit to revert), then ON_TOP on ADDED; returns ADDED's commit."""
    repo.commit_installed_base(ROOT, message="create users")
    repo.commit_locked_revision(ADDED, ROOT, message="add orders")
    added = repo.head()
    repo.commit_locked_revision(ON_TOP, ADDED, message="index orders")
    return added


@pytest.fixture
def reverting(tmp_path, git_env, repo_templates):
    return repo_templates.copy("driver_revert history", tmp_path / "repo", _history)


def _stopped_at_the_lock(repo, proc) -> str:
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert repo.conflicted() == [LOCK]
    return repo.read(LOCK).decode()


def _restore_as_the_text_says(repo, text: str) -> list[str]:
    """Run the `git restore ...` command of the text's Resolve line; its words."""
    line = next(line for line in text.splitlines() if "git restore" in line)
    command = line.split("`")[1].split()
    assert command[:2] == ["git", "restore"]
    repo.git(*command[1:])
    return command


def test_reverting_a_revision_another_builds_on_names_the_deletion_and_what_dangles(reverting):
    repo, added = reverting

    proc = repo.git("revert", "--no-edit", added, check=None)

    text = _stopped_at_the_lock(repo, proc)
    assert "both sides added" not in text
    assert f"theirs deletes revision {ADDED} (add orders), which ours keeps" in text
    assert f"#   {ON_TOP} (index orders) names {ADDED}: it would dangle" in text
    assert f"theirs deletes revision {ADDED}, which ours keeps (a revert?); {ON_TOP} names it" in proc.stderr
    comments = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert comments in (Path(__file__).parents[2] / "docs" / "usage.md").read_text()  # the guide shows it as it is
    # The Resolve lines, followed as written, leave a healthy history behind.
    _restore_as_the_text_says(repo, text)
    repo.run("lock", check=True)
    repo.git("add", LOCK)
    assert "<<<<<<<" not in repo.read(LOCK).decode()
    repo.run("check", check=True)


def test_a_pick_of_a_revert_onto_a_branch_that_built_on_it_says_the_same(reverting):
    repo, _ = reverting
    repo.branch("release")
    repo.git("revert", "--no-edit", "HEAD")  # ON_TOP is main's head: only theirs moves, clean
    assert repo.conflicted() == []
    revert_commit = repo.head()
    repo.checkout("release")
    repo.commit_locked_revision("f6f6f6f6f6f6", ON_TOP, message="add refunds")

    proc = repo.git("cherry-pick", revert_commit, check=None)

    text = _stopped_at_the_lock(repo, proc)
    assert f"theirs deletes revision {ON_TOP} (index orders), which ours keeps" in text
    assert f"#   f6f6f6f6f6f6 (add refunds) names {ON_TOP}: it would dangle" in text
    # Kept, the file leaves the pick nothing to do: the text names the pick's --skip too.
    assert "`git cherry-pick --skip`" in text
    _restore_as_the_text_says(repo, text)
    repo.run("lock", check=True)
    repo.git("add", LOCK)
    assert repo.git("cherry-pick", "--continue", check=None).returncode != 0  # nothing to commit
    repo.git("cherry-pick", "--skip")
    repo.run("check", "--base", "release", check=True)  # (main reverted it: check against main says so)


def test_a_pick_without_the_commit_before_it_names_what_ours_lacks_and_the_resolve_works(reverting):
    repo, _ = reverting
    repo.branch("other")
    repo.checkout("other")
    repo.commit_locked_revision("d4d4d4d4d4d4", ON_TOP, message="add invoices")
    path = repo.commit_locked_revision("e5e5e5e5e5e5", "d4d4d4d4d4d4", message="index invoices")
    picked = repo.head()
    repo.checkout("main")
    repo.commit_locked_revision("f6f6f6f6f6f6", ON_TOP, message="add refunds")

    proc = repo.git("cherry-pick", picked, check=None)

    text = _stopped_at_the_lock(repo, proc)
    assert "both sides added" not in text
    assert "theirs grows from d4d4d4d4d4d4 (add invoices), which ours does not have" in text
    assert "point\n# what names d4d4d4d4d4d4 at ours' head f6f6f6f6f6f6;" in text
    assert "theirs grows from d4d4d4d4d4d4, which ours does not have" in proc.stderr
    # The second way out, followed as written: re-point, lock, add, continue.
    repo.write(path, repo.read(path).decode().replace("d4d4d4d4d4d4", "f6f6f6f6f6f6"))  # down_revision, Revises
    repo.run("lock", check=True)
    repo.git("add", "-A")
    repo.git("-c", "core.editor=true", "cherry-pick", "--continue")
    repo.run("check", check=True)


def test_reverting_a_merge_of_many_revisions_restores_every_one_it_names(reverting):
    # The header shows three and counts the rest; the restore command must name them all.
    repo, _ = reverting
    repo.branch("feature")
    repo.checkout("feature")
    down = ON_TOP
    for n in range(4):
        rid = f"{n}d{n}d{n}d{n}d{n}d{n}d"
        repo.commit_locked_revision(rid, down, message=f"step {n}")
        down = rid
    repo.checkout("main")
    repo.write("README", "x\n")
    repo.commit("misc")
    repo.git("merge", "--no-ff", "--no-edit", "feature")
    merge = repo.head()
    repo.commit_locked_revision("f6f6f6f6f6f6", down, message="on the last step")

    proc = repo.git("revert", "--no-edit", "-m", "1", merge, check=None)

    text = _stopped_at_the_lock(repo, proc)
    assert "and 1 more, which ours keeps" in text
    assert sum(1 for word in _restore_as_the_text_says(repo, text) if word.endswith(".py")) == 4
    repo.run("lock", check=True)
    repo.git("add", LOCK)
    repo.run("check", check=True)


def test_a_commit_picked_twice_is_named_as_already_in_ours(reverting):
    repo, _ = reverting
    repo.branch("hotfix")
    repo.checkout("hotfix")
    repo.commit_locked_revision("d4d4d4d4d4d4", ON_TOP, message="hot fix")
    picked = repo.head()
    repo.checkout("main")
    repo.git("cherry-pick", picked)
    repo.commit_locked_revision("e5e5e5e5e5e5", "d4d4d4d4d4d4", message="after the fix")

    proc = repo.git("cherry-pick", picked, check=None)

    text = _stopped_at_the_lock(repo, proc)
    assert "both sides added" not in text
    assert "theirs' new head d4d4d4d4d4d4 (hot fix) is in ours already, below ours' e5e5e5e5e5e5" in text
    repo.run("lock", check=True)
    repo.git("add", LOCK)
    repo.run("check", check=True)


def test_a_fork_still_reads_as_a_fork(reverting):
    """Both sides adding on one head, with no git hint: the fork text, HEAD's files read for nothing."""
    repo, _ = reverting
    repo.branch("feature")
    repo.commit_locked_revision("d4d4d4d4d4d4", ON_TOP, message="add invoices")
    picked = repo.head()
    repo.checkout("feature")
    repo.commit_locked_revision("e5e5e5e5e5e5", ON_TOP, message="add refunds")

    proc = repo.git("cherry-pick", picked, check=None)

    text = _stopped_at_the_lock(repo, proc)
    assert "both sides added a migration on the same head" in text
    assert "deletes" not in text


# ------------------------------------------------------------------ the pure part
def _revs(*pairs):
    return tuple(Revision(rid, tuple(down), message=f"m {rid}", path=f"v/{rid}.py") for rid, down in pairs)


def test_what_theirs_takes_away_is_below_the_ancestor_heads_and_above_theirs():
    revisions = _revs(("a", ()), ("b", ("a",)), ("c", ("b",)), ("d", ("c",)), ("x", ("a",)))
    gone, named = undone_by_theirs(["c"], ["a"], revisions)
    assert [r.id for r in gone] == ["b", "c"]
    assert [r.id for r in named] == ["d"]  # x hangs off a, which theirs keeps


@pytest.mark.parametrize(
    ("ancestor", "theirs"),
    [
        (["b"], ["n"]),  # theirs' new head is new to ours: a fork, not a revert
        (["z"], ["a"]),  # the ancestor's head is not ours': nothing to tell
        (["b"], ["b"]),  # theirs changed nothing
        (["b"], ["b", "a"]),  # a new head that reaches nothing new away
    ],
)
def test_nothing_is_undone_unless_theirs_goes_back_below_what_ours_has(ancestor, theirs):
    revisions = _revs(("a", ()), ("b", ("a",)))
    assert undone_by_theirs(ancestor, theirs, revisions) == ((), ())


def test_what_ours_lacks_is_the_ancestor_head_theirs_grew_from():
    revisions = _revs(("a", ()), ("e", ("a",)))
    assert lacking_below_theirs(["b"], ["d"], revisions) == ("b",)
    assert lacking_below_theirs(["a"], ["d"], revisions) == ()  # a plain fork on a
    assert lacking_below_theirs(["b"], ["e"], revisions) == ()  # theirs' head is ours already
    assert lacking_below_theirs(["b", "x"], ["d", "x"], revisions) == ("b",)  # x stays a head on both


def test_theirs_new_heads_are_already_in_ours_only_when_ours_has_them_and_what_they_grew_from():
    revisions = _revs(("a", ()), ("e", ("a",)), ("f", ("e",)))
    assert [r.id for r in already_in_ours(["a"], ["e"], revisions)] == ["e"]
    assert already_in_ours(["a"], ["n"], revisions) == ()  # a new head: a fork
    assert already_in_ours(["z"], ["e"], revisions) == ()  # the ancestor's head is not ours'
