"""The merge driver trusts a commit git names only when git merges that commit.

During a rebase the driver learns the commit coming in from the last line of
`rebase-merge/done`. That line outlives its pick: an autostash applied as the
rebase ends, or a cherry-pick at an `edit` stop, names an old pick that HEAD
already holds. Taken at its word, the union of the two sides was ours alone,
and the driver merged the lock cleanly to ours' heads, dropping theirs'. And
`fixup -C <sha>` puts an option before the commit. `GITHEAD_<sha>` outlives
its merge too: `git merge --autostash` applies the stash in a child that
inherits it, and a criss-cross merge first merges the two merge bases with it
set. And `--rebase-merges` re-creates a merge with a `merge` line.
"""

from __future__ import annotations

import pytest

from revgraph.lockfile import parse_lock

LOCK = "migrations/revgraph.lock"
APP, REP = "a1a1a1a1a1a1", "b1b1b1b1b1b1"


def _labelled_lines(repo):
    """main: two labelled roots (`app`, `rep`) and the driver, committed."""
    repo.init_env(commit=False)
    repo.add_revision(APP, None, message="create users", branch_labels=["app"])
    repo.add_revision(REP, None, message="create reports", branch_labels=["rep"])
    repo.run("install", check=True)
    repo.commit("base with revgraph")


@pytest.fixture
def repo(tmp_path, git_env, repo_templates):
    return repo_templates.copy("driver_rebase_leftovers base", tmp_path / "repo", _labelled_lines)[0]


def _lock_heads(repo) -> list[str]:
    return sorted(parse_lock(repo.read(LOCK).decode()).heads)


def _graph_heads(repo) -> list[str]:
    return sorted(line.split()[0] for line in repo.run("heads", check=True).stdout.splitlines() if line.strip())


def _healthy_or_stopped(repo, proc) -> None:
    """Either git stopped at the lock file, or the lock names the tree's heads."""
    if LOCK in repo.conflicted():
        assert "<<<<<<<" in repo.read(LOCK).decode()
        return
    assert _lock_heads(repo) == _graph_heads(repo), (proc.stdout + proc.stderr, repo.read(LOCK).decode())


def test_an_autostash_applied_as_a_rebase_ends_keeps_its_new_head(repo):
    repo.checkout("main")
    repo.branch("feature")
    repo.commit_locked_revision("c2c2c2c2c2c2", REP, message="rep two")
    repo.checkout("feature")
    repo.commit_locked_revision("d3d3d3d3d3d3", APP, message="app two")
    repo.add_revision("e4e4e4e4e4e4", "d3d3d3d3d3d3", message="app three, not committed")
    repo.run("lock", check=True)
    repo.git("add", "-A")

    proc = repo.git("rebase", "--autostash", "main", check=None)

    _healthy_or_stopped(repo, proc)
    assert LOCK in repo.conflicted()  # the stash's lock is no pick's: git names no commit for it
    # Nor is it a fork on one head: the text says which lines, and that it could not tell.
    text = repo.read(LOCK).decode()
    assert "both sides added a migration, ours on the `rep` line and theirs on `app`" in text
    assert "on the same head" not in text
    repo.run("fix", check=True)  # as the Resolve line says
    repo.git("add", LOCK)
    assert _lock_heads(repo) == _graph_heads(repo) == ["c2c2c2c2c2c2", "e4e4e4e4e4e4"]


def test_a_cherry_pick_at_an_edit_stop_is_not_taken_for_the_stopped_pick(repo, monkeypatch):
    repo.checkout("main")
    repo.branch("other")
    repo.branch("feature")
    repo.checkout("other")
    repo.commit_locked_revision("e4e4e4e4e4e4", APP, message="other on app")
    picked = repo.head()
    repo.checkout("feature")
    repo.commit_locked_revision("d3d3d3d3d3d3", APP, message="feature on app")
    repo.write("README", "x\n")
    repo.commit("misc")
    monkeypatch.setenv("GIT_SEQUENCE_EDITOR", "sed -i s/^pick/edit/")
    stopped = repo.git("rebase", "-i", "HEAD~1", check=None)
    assert (repo.path / ".git" / "rebase-merge" / "done").exists(), stopped.stdout + stopped.stderr

    proc = repo.git("cherry-pick", picked, check=None)

    _healthy_or_stopped(repo, proc)
    assert LOCK in repo.conflicted()  # two heads on `app`: no clean merge could be right


def test_fixup_with_a_message_option_reads_the_commit_after_it(repo, monkeypatch):
    repo.checkout("main")
    repo.branch("feature")
    repo.commit_locked_revision("c2c2c2c2c2c2", REP, message="rep two")
    repo.checkout("feature")
    repo.commit_locked_revision("d3d3d3d3d3d3", APP, message="app two")
    repo.commit_locked_revision("e4e4e4e4e4e4", "d3d3d3d3d3d3", message="app three")
    monkeypatch.setenv("GIT_SEQUENCE_EDITOR", "sed -i '2s/^pick/fixup -C/'")

    proc = repo.git("rebase", "-i", "main", check=None)

    assert proc.returncode == 0, proc.stdout + proc.stderr  # as with a plain `pick`: one head per line
    assert _lock_heads(repo) == _graph_heads(repo) == ["c2c2c2c2c2c2", "e4e4e4e4e4e4"]


def test_an_autostash_applied_after_a_merge_keeps_its_new_head(repo):
    repo.checkout("main")
    repo.branch("feature")
    repo.checkout("feature")
    repo.commit_locked_revision("d3d3d3d3d3d3", APP, message="app two")
    repo.checkout("main")
    repo.commit_locked_revision("c2c2c2c2c2c2", REP, message="rep two")
    repo.add_revision("e4e4e4e4e4e4", "c2c2c2c2c2c2", message="rep three, not committed")
    repo.run("lock", check=True)
    repo.git("add", "-A")

    proc = repo.git("merge", "--autostash", "--no-edit", "feature", check=None)

    _healthy_or_stopped(repo, proc)


def test_a_criss_cross_merge_keeps_the_newer_head(repo):
    # The driver first merges the two merge bases (git's virtual ancestor), with
    # GITHEAD_ of the outer merge set: read as the outer merge, that union was ours.
    repo.checkout("main")
    repo.branch("feature")
    repo.checkout("feature")
    repo.commit_locked_revision("d3d3d3d3d3d3", REP, message="rep two")
    repo.checkout("main")
    repo.commit_locked_revision("c2c2c2c2c2c2", APP, message="app two")
    repo.git("merge", "--no-edit", "feature")
    repo.checkout("feature")
    repo.git("merge", "--no-edit", "main~1")
    repo.checkout("main")
    repo.commit_locked_revision("e4e4e4e4e4e4", "c2c2c2c2c2c2", message="app three")

    proc = repo.git("merge", "--no-edit", "feature", check=None)

    _healthy_or_stopped(repo, proc)


def test_a_rebase_that_recreates_a_merge_of_distinct_lines_merges_the_lock(repo):
    repo.checkout("main")
    repo.branch("feature")
    repo.checkout("feature")
    repo.branch("sub")
    repo.checkout("sub")
    repo.commit_locked_revision("c2c2c2c2c2c2", REP, message="rep two")
    repo.checkout("feature")
    repo.commit_locked_revision("d3d3d3d3d3d3", APP, message="app two")
    repo.git("merge", "--no-edit", "sub")
    repo.checkout("main")
    repo.write("README", "x\n")
    repo.commit("readme")
    repo.checkout("feature")

    proc = repo.git("rebase", "--rebase-merges", "main", check=None)

    assert proc.returncode == 0, proc.stdout + proc.stderr  # the merge git re-creates is clean
    assert _lock_heads(repo) == _graph_heads(repo) == ["c2c2c2c2c2c2", "d3d3d3d3d3d3"]
