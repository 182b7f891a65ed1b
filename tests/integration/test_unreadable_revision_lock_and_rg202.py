"""A revision file revgraph cannot read (RG107) leaves the heads unknown.

Found by QA: `lock` wrote, and `lock --check` passed, a lock computed from the
graph without that file (naming a head alembic does not have: the CI backstop
passed); and mid-merge, a landed revision whose file held conflict markers was
reported deleted (RG202) with a `git restore` that would throw away HEAD's
side of the conflict. Real repositories, the real CLI.
"""

from __future__ import annotations

import json

import pytest

LOCK = "migrations/revgraph.lock"
ROOT, SECOND, THIRD = "a1a1a1a1a1a1", "a2a2a2a2a2a2", "b3b3b3b3b3b3"


def _two_revisions_and_the_lock(repo) -> None:
    repo.init_env(commit=False)
    repo.add_revision(ROOT, None, message="root")
    repo.add_revision(SECOND, ROOT, message="second")
    repo.run("lock", check=True)
    repo.commit("two revisions and the lock")


@pytest.fixture
def locked(gitrepo):
    """Two revisions and their lock (`revgraph lock`), committed: built once, copied per test."""
    gitrepo.build_once("unreadable revision: two revisions and the lock", _two_revisions_and_the_lock)
    return gitrepo


@pytest.mark.parametrize("args", [("lock",), ("lock", "--check")])
def test_lock_refuses_to_compute_heads_past_an_unreadable_revision(locked, args):
    path = locked.add_revision(THIRD, SECOND, message="third")
    text = locked.read(path).decode().replace(f"revision: str = '{THIRD}'", "revision: str = 'b3b3' + 'b3b3b3b3'")
    locked.write(path, text)
    before = locked.read(LOCK)

    done = locked.run(*args)

    assert done.returncode == 1 and "Traceback" not in done.stderr, done
    assert "cannot tell the heads" in done.stderr and path in done.stderr, done.stderr
    assert locked.read(LOCK) == before  # nothing written


def test_a_landed_revision_in_conflict_is_unreadable_not_deleted(locked):
    _, second = ROOT, next(p for p in locked.ls_files() if SECOND in p)
    locked.git("checkout", "-q", "-b", "feature")
    locked.write(second, locked.read(second).decode().replace('"""second', '"""second, as the feature says'))
    locked.commit("feature edits the docstring")
    locked.checkout("main")
    locked.write(second, locked.read(second).decode().replace('"""second', '"""second, as main says'))
    locked.commit("main edits the docstring")
    locked.checkout("feature")
    locked.merge("main", expect_conflict=True)
    assert second in locked.conflicted()

    done = locked.run("check", "--base", "main", "--format", "json")

    codes = [f["code"] for f in json.loads(done.stdout)["findings"]]
    assert "RG107" in codes and "RG202" not in codes, done.stdout


def test_a_revision_in_conflict_leaves_rg401_to_rg107_as_lock_does(locked):
    """QA: a merge stopped inside a revision file (its header lines in conflict). check said
    RG401 "the graph's heads are ..." (a graph without that file) with `fix: revgraph lock`,
    which then refused (exit 1): the heads cannot be told until the file is mended (RG107)."""
    second = next(p for p in locked.ls_files() if SECOND in p)
    locked.branch("other")
    locked.write(second, locked.read(second).decode().replace(f"'{ROOT}'", f"'{ROOT}'  # main"))
    locked.commit("main comments the second's down_revision")
    locked.checkout("other")
    locked.write(second, locked.read(second).decode().replace(f"'{ROOT}'", f"'{ROOT}'  # other"))
    locked.commit("other comments it too")
    locked.merge("main", expect_conflict=True)
    assert locked.conflicted() == [second]

    done = locked.run("check", "--format", "json")

    findings = json.loads(done.stdout)["findings"]
    assert [f["code"] for f in findings] == ["RG107"], done.stdout
    assert "conflict markers" in findings[0]["message"]
    # lock agrees: it cannot tell the heads either, and writes nothing.
    before = locked.read(LOCK)
    for args in (("lock",), ("lock", "--check")):
        refused = locked.run(*args)
        assert refused.returncode == 1 and "cannot tell the heads" in refused.stderr, refused
    assert locked.read(LOCK) == before
