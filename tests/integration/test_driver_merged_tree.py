"""The merge driver judges the tree git's merge makes, deletions since the merge base included.

main lands MAIN_ID, then reverts it (`git revert`: the file goes, the lock
goes back to BASE_ID). A feature forked in between builds FEATURE_ID on
MAIN_ID. Each side's revisions, taken together, look healthy (one line, one
head); but git's merge deletes MAIN_ID's file (main deleted it, the feature
kept it as it was), so the merged tree has FEATURE_ID hanging off a missing
parent and two heads. The driver must stop at the lock file, whichever way
the branches meet and whichever of its paths (the fast one of
``gitops.union``, the reference ``driver.union_of``) decides.
"""

from __future__ import annotations

import pytest

from revgraph.gitops import driver, union
from tests.integration.test_merge_driver_e2e import (  # noqa: F401 - repo is a fixture
    BASE_ID,
    FEATURE_ID,
    LOCK,
    MAIN_ID,
    _add_on_branch,
    _traced,
    repo,
)


def _reverted_on_main_built_on_in_feature(repo) -> None:
    """main: MAIN_ID landed then reverted; feature (forked in between): FEATURE_ID on MAIN_ID. Ends on main."""
    _add_on_branch(repo, "main", MAIN_ID, "add orders")
    repo.branch("feature")
    repo.git("revert", "--no-edit", "HEAD")
    repo.checkout("feature")
    repo.add_revision(FEATURE_ID, MAIN_ID, message="add invoices")
    repo.run("lock", check=True)
    repo.commit("feature: invoices")
    repo.checkout("main")


@pytest.mark.parametrize(
    "branch, git_args, incoming",
    [
        ("main", ("merge", "--no-edit", "feature"), "feature"),
        ("feature", ("merge", "--no-edit", "main"), "main"),
        ("feature", ("rebase", "main"), "feature"),
    ],
    ids=["merge-feature-into-main", "merge-main-into-feature", "rebase-feature-onto-main"],
)
def test_a_revision_reverted_on_one_side_is_not_brought_back_by_the_other(repo, branch, git_args, incoming):
    _reverted_on_main_built_on_in_feature(repo)
    repo.checkout(branch)
    if git_args[0] == "merge":  # what the driver decides, by each path, for this merge
        sha = repo.rev_parse(incoming)
        fast = driver.fast_decision(LOCK, sha, cwd=repo.path)
        assert fast.outcome == union.CONFLICT, fast
        # Both paths say why: FEATURE_ID's parent is gone, deleted by main since the merge base.
        assert fast.dangling == ((FEATURE_ID, MAIN_ID, "add invoices"),) and fast.deleted == {MAIN_ID}, fast
        entries, _, dangling, _ = driver.full_union_outcome(LOCK, sha, cwd=repo.path)
        assert entries is None and dangling == ((FEATURE_ID, "add invoices", MAIN_ID, True),)

    proc, runs = _traced(repo, *git_args)

    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert [code for code, _ in runs] == [1], runs
    assert repo.conflicted() == [LOCK]
    assert not any(MAIN_ID in p for p in repo.git("ls-files", "migrations/versions").stdout.split())
    # The lock file and the driver's line name the dangling reference, and say what
    # resolves it: not `revgraph fix`, which refuses a dangling reference (RG104).
    text = repo.read(LOCK).decode()
    assert f"{FEATURE_ID} (add invoices) names down_revision {MAIN_ID}, which neither side keeps" in text, text
    assert "one side deleted it since the merge base" in text and "`revgraph lock`" in text, text
    assert "both sides added a migration" not in text and "revgraph fix" not in text, text
    assert text.count("<<<<<<< ours") == 1 and text.count(">>>>>>> theirs") == 1, text
    assert f"after this merge {FEATURE_ID} names down_revision {MAIN_ID}" in proc.stderr, proc.stderr
    assert "revgraph fix" not in proc.stderr, proc.stderr


def test_a_conflict_of_the_union_stays_one_whatever_the_merge_deletes(repo):
    """Only a clean union asks the merge base what the merge deletes (a conflict costs no
    more git): the feature (forked before the revert) put FEATURE_ID on BASE_ID beside
    MAIN_ID, two heads in the union; that MAIN_ID is reverted on main does not make it
    clean. Both paths say so, and git stops at the lock file."""
    _add_on_branch(repo, "main", MAIN_ID, "add orders")
    repo.branch("feature")
    repo.git("revert", "--no-edit", "HEAD")
    _add_on_branch(repo, "feature", FEATURE_ID, "add invoices")  # on BASE_ID: two heads there
    repo.checkout("main")
    sha = repo.rev_parse("feature")
    assert driver.fast_decision(LOCK, sha, cwd=repo.path).outcome == union.CONFLICT
    assert driver.full_union_entries(LOCK, sha, cwd=repo.path) is None

    proc, runs = _traced(repo, "merge", "--no-edit", "feature")

    assert proc.returncode != 0 and [code for code, _ in runs] == [1], proc.stdout + proc.stderr + repr(runs)
