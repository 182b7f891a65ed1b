"""A conflicting lock merge that also leaves a down_revision dangling says so.

The driver asked what the merge deletes only when the union of both sides
looked clean. When the union also had two heads, its text said `revgraph fix`
and named a deleted revision as a chain's first revision; `fix` then refuses
(RG104). From a tester's round: main reverts the revision a branch builds on
and adds another on its parent; and `rebase -i` dropping the commit whose
revision a later pick builds on.
"""

from __future__ import annotations

import pytest

from revgraph.gitops import union
from revgraph.sources.gitref import GitRepo as SourceRepo

LOCK = "migrations/revgraph.lock"
ROOT, MID, TOP = "a1a1a1a1a1a1", "b2b2b2b2b2b2", "c3c3c3c3c3c3"


def _base(repo):
    repo.commit_installed_base(ROOT, message="create users")


@pytest.fixture
def repo(tmp_path, git_env, repo_templates):
    return repo_templates.copy("driver_dangling_in_conflicts base", tmp_path / "repo", _base)[0]


def test_a_merge_whose_other_side_reverted_the_parent_and_forked_names_the_dangling_parent(repo):
    repo.commit_locked_revision(MID, ROOT, message="add orders")
    repo.commit_locked_revision(TOP, MID, message="index orders")
    repo.branch("feature")
    repo.checkout("feature")
    repo.commit_locked_revision("e5e5e5e5e5e5", TOP, message="on the index")
    repo.checkout("main")
    repo.git("revert", "--no-edit", "HEAD")  # main deletes TOP
    repo.commit_locked_revision("f6f6f6f6f6f6", MID, message="main on orders")
    repo.checkout("feature")

    proc = repo.git("merge", "--no-edit", "main", check=None)

    assert proc.returncode != 0 and repo.conflicted() == [LOCK], proc.stdout + proc.stderr
    text = repo.read(LOCK).decode()
    assert f"after this merge, e5e5e5e5e5e5 (on the index) names down_revision {TOP}" in text
    assert "chain from" not in text
    # Once mended, e5 and main's f6 compete: `lock` would refuse, `fix` moves e5.
    assert "then run `revgraph fix`, `git add` this file" in text
    assert "point it at a revision that exists, then run `revgraph fix`" in proc.stderr
    path = next(p for p in repo.ls_files() if p.endswith(".py") and "e5e5e5e5e5e5" in p)
    repo.write(path, repo.read(path).decode().replace(TOP, MID))
    repo.run("fix", check=True)
    repo.git("add", "-A")
    repo.git("-c", "core.editor=true", "merge", "--continue")
    repo.run("check", "--base", "main", check=True)


def test_a_rebase_that_dropped_the_parent_names_it_at_the_later_pick(repo, monkeypatch):
    repo.branch("feature")
    repo.checkout("feature")
    repo.commit_locked_revision("d4d4d4d4d4d4", ROOT, message="add invoices")
    repo.commit_locked_revision("e5e5e5e5e5e5", "d4d4d4d4d4d4", message="index invoices")
    repo.checkout("main")
    repo.commit_locked_revision("f6f6f6f6f6f6", ROOT, message="add refunds")
    repo.checkout("feature")
    monkeypatch.setenv("GIT_SEQUENCE_EDITOR", "sed -i 1d")  # drop the first pick

    proc = repo.git("rebase", "-i", "main", check=None)

    assert proc.returncode != 0 and repo.conflicted() == [LOCK], proc.stdout + proc.stderr
    text = repo.read(LOCK).decode()
    assert "after this merge, e5e5e5e5e5e5 (index invoices) names down_revision d4d4d4d4d4d4" in text
    assert "then run `revgraph fix`" in text and "chain from" not in text


def test_the_merge_base_read_by_listing_agrees_with_one_path_at_a_time(repo):
    # Past a few dozen paths the merge base's blobs come from one ls-tree of their
    # folders (asking `<commit>:<path>` scans the folder's tree once a path).
    names = [f"{n:012x}" for n in range(1, 80)]
    down = ROOT
    for rid in names:
        repo.add_revision(rid, down, message=f"step {rid}")
        down = rid
    repo.add_revision("deadbeef0001", ROOT, message="in a sub folder", versions="migrations/versions/sub")
    repo.commit("many")
    base = repo.head()
    paths = [p.encode() for p in repo.ls_files() if p.startswith("migrations/versions/")]
    asked = [*paths, b"migrations/versions/not_there.py", b"migrations/nothing/else.py", b"migrations/versions/sub"]

    with SourceRepo(repo.path) as source:
        listed = union._listed_blobs(source, base, asked)
        one_by_one = union._merge_base_blobs(source, "HEAD", asked[:10], base=base)
        everything = union._merge_base_blobs(source, "HEAD", asked, base=base)

    assert set(listed) == set(paths) and everything == listed
    assert one_by_one == {p: listed[p] for p in asked[:10] if p in listed}
    assert listed[paths[0]] == repo.git("rev-parse", f"{base}:{paths[0].decode()}").stdout.strip().encode()


@pytest.mark.parametrize("variable", ["GIT_ICASE_PATHSPECS", "GIT_GLOB_PATHSPECS", "GIT_NOGLOB_PATHSPECS"])
def test_pathspec_variables_of_the_user_change_nothing_the_driver_reads(repo, monkeypatch, variable):
    # QA: with GIT_ICASE_PATHSPECS=1, the merge base's listing (ls-tree, past 64 files)
    # failed, the failure read as "the merge deletes nothing", and a merge that leaves
    # the branch's first revision dangling merged the lock cleanly.
    repo.commit_locked_revision(MID, ROOT, message="add orders")
    repo.branch("feature")
    repo.git("revert", "--no-edit", "HEAD")  # main deletes MID
    repo.checkout("feature")
    down = MID
    for n in range(70):
        rid = f"c{n:011d}"
        repo.add_revision(rid, down, message=f"step {n}")
        down = rid
    repo.run("lock", check=True)
    repo.commit("seventy on orders")
    repo.checkout("main")
    monkeypatch.setenv(variable, "1")

    proc = repo.git("merge", "--no-edit", "feature", check=None)

    assert proc.returncode != 0 and repo.conflicted() == [LOCK], proc.stdout + proc.stderr
    assert f"names down_revision {MID}, which neither side keeps" in repo.read(LOCK).decode()
