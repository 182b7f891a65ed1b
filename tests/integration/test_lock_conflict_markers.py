"""A lock file holding git conflict markers fails `check` (RG401) exactly as it fails `lock --check`.

`check` is the CI backstop (PRODUCT §5): when a merge of the lock file is
committed mid-conflict, both sides often record the same heads, and only the
markers say something is wrong. Real repositories and the real CLI; the
second, warm run of each check goes through the result cache and the
express lane, whose key holds the lock file's bytes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from revgraph.lockfile import parse_lock

LOCK = "migrations/revgraph.lock"
BASE_ID = "a1a1a1a1a1a1"


def _with_markers(lock: bytes) -> bytes:
    """``lock`` as a committed-mid-conflict merge leaves it: its entries on both sides of the markers."""
    lines = lock.decode().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    entries = [line for line in lines if not line.startswith("#")]
    body = ["<<<<<<< ours\n", *entries, "=======\n", *entries, ">>>>>>> theirs\n"]
    return "".join(header + body).encode()


def _first_revision_and_its_lock(repo) -> None:
    repo.init_env(commit=False)
    repo.add_revision(BASE_ID, None, message="create users")
    repo.run("lock", check=True)
    repo.commit("first revision and its lock")


def _repo(gitrepo):
    """One revision and its lock (`revgraph lock`), committed: built once, copied per test."""
    gitrepo.build_once("lock_conflict_markers first revision", _first_revision_and_its_lock)
    return gitrepo


def _check(repo, *args: str) -> tuple[int, dict]:
    """``check --format json`` run twice (cold or warm, then warm): both answers must be the same."""
    runs = [repo.run("check", "--format", "json", *args) for _ in range(2)]
    assert len({(r.returncode, r.stdout) for r in runs}) == 1, runs
    assert runs[0].returncode in (0, 1), runs[0].stderr
    return runs[0].returncode, json.loads(runs[0].stdout)


LANE = """
    import sys
    from revgraph import __version__, express
    from revgraph.resultcache import parse_check_argv
    opts = parse_check_argv(["-C", sys.argv[1], "check", "--format", "json"])
    print(express.answer(opts, __version__) is not None)
"""


def _lane_answers(repo) -> bool:
    """Whether the express lane would answer ``check --format json`` from a ticket now."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(LANE), str(repo.path)],
        capture_output=True, text=True, timeout=60, env=repo.env, check=False,
        cwd=repo.path.parent,  # as repo.run: the working directory is part of a ticket's identity
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1] == "True"


def test_check_reports_rg401_for_a_lock_committed_with_conflict_markers(gitrepo):
    repo = _repo(gitrepo)
    repo.write(LOCK, _with_markers(repo.read(LOCK)))
    repo.commit("merge committed mid-conflict")

    code, report = _check(repo)

    assert code == 1
    (finding,) = [f for f in report["findings"] if f["code"] == "RG401"]
    assert finding["message"].startswith(f"{LOCK} holds git conflict markers")
    assert "`revgraph fix`" in finding["message"] and "`revgraph lock`" in finding["message"]
    assert finding["fix"] == "revgraph lock"
    assert finding["locations"] == [{"path": LOCK, "line": 1}]
    # --select RG401 and the text report say the same; lock --check agrees.
    assert _check(repo, "--select", "RG401")[0] == 1
    text = repo.run("check")
    assert text.returncode == 1 and "conflict markers" in text.stdout
    verify = repo.run("lock", "--check")
    assert verify.returncode == 1 and f"{LOCK}: holds git conflict markers (RG401)" in verify.stdout, verify.stdout
    # The fix the finding names makes both clean.
    repo.run("lock", check=True)
    code, report = _check(repo)
    assert code == 0 and report["findings"] == []
    assert repo.run("lock", "--check").returncode == 0


def test_a_cached_all_good_is_not_served_once_the_lock_gains_markers(gitrepo):
    repo = _repo(gitrepo)
    time.sleep(2.1)  # files old enough for their identities to stand for them: the lane may answer
    assert _check(repo)[0] == 0
    assert _lane_answers(repo)  # the clean answer sits in the express lane ...

    repo.write(LOCK, _with_markers(repo.read(LOCK)))  # ... and only the lock's bytes change

    code, report = _check(repo)
    assert code == 1 and [f["code"] for f in report["findings"]] == ["RG401"]
    assert repo.run("lock", "--check").returncode == 1


def test_lock_over_competing_heads_writes_them_and_warns_that_they_must_be_joined(gitrepo):
    """QA: `revgraph lock` mid-merge "resolved" the lock conflict by recording both
    heads, silently; the merge was then committed with a fork in it."""
    repo = _repo(gitrepo)
    repo.add_revision("b2b2b2b2b2b2", BASE_ID, message="one")
    repo.add_revision("c3c3c3c3c3c3", BASE_ID, message="other")

    for args in (("lock",), ("lock", "--check")):
        done = repo.run(*args)
        assert done.returncode == 0, done
        assert "compete on one line (b2b2b2b2b2b2, c3c3c3c3c3c3)" in done.stderr, done.stderr
        assert "`revgraph check` says what joins them" in done.stderr

    repo.add_revision("d4d4d4d4d4d4", ("b2b2b2b2b2b2", "c3c3c3c3c3c3"), message="merge")
    assert "compete" not in repo.run("lock").stderr


def test_lock_quiet_prints_nothing_when_all_is_well(gitrepo):
    repo = _repo(gitrepo)
    repo.add_revision("b2b2b2b2b2b2", BASE_ID, message="one")
    done = repo.run("lock", "-q")
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done
    assert "b2b2b2b2b2b2" in repo.read(LOCK).decode()


MAIN_ID, FEATURE_ID = "b2b2b2b2b2b2", "c3c3c3c3c3c3"


def _stopped_at_the_lock(gitrepo, operation: str):
    """main and a feature branch each add a revision on the first one and lock it; on the
    feature, git ``operation`` (merge or rebase) brings main's in and stops at the lock file."""
    repo = _repo(gitrepo)
    repo.branch("feature")
    repo.add_revision(MAIN_ID, BASE_ID, message="main one")
    repo.run("lock", check=True)
    repo.commit("main one")
    repo.checkout("feature")
    repo.add_revision(FEATURE_ID, BASE_ID, message="feature one")
    repo.run("lock", check=True)
    repo.commit("feature one")
    getattr(repo, operation)("main", expect_conflict=True)
    assert repo.conflicted() == [LOCK]
    return repo


@pytest.mark.parametrize("operation", ["merge", "rebase"])
def test_lock_check_mid_operation_over_competing_heads_says_fix_as_check_does(gitrepo, operation):
    """QA: mid-merge, `lock --check` said "run `revgraph lock`", which resolves the conflict
    with both heads recorded: the merge then committed a fork. check's RG401 says `revgraph fix`."""
    repo = _stopped_at_the_lock(gitrepo, operation)

    verify = repo.run("lock", "--check")

    assert verify.returncode == 1, verify
    assert f"{LOCK}: holds git conflict markers (RG401); during the {operation} run `revgraph fix`" in verify.stdout, (
        verify.stdout
    )
    assert "`revgraph lock`" not in verify.stdout + verify.stderr
    (finding,) = [f for f in _check(repo)[1]["findings"] if f["code"] == "RG401"]
    assert finding["fix"].startswith("revgraph fix"), finding


@pytest.mark.parametrize("operation", ["merge", "rebase"])
def test_lock_mid_operation_over_competing_heads_writes_nothing_and_says_fix(gitrepo, operation):
    """QA: mid-merge, `revgraph lock` wrote both heads (exit 0): `git add` + `--continue`
    then committed a fork alembic refuses. It refuses instead; `revgraph fix` joins them."""
    repo = _stopped_at_the_lock(gitrepo, operation)
    before = repo.read(LOCK)

    done = repo.run("lock")

    assert done.returncode == 1 and "Traceback" not in done.stderr, done
    assert f"during the {operation}" in done.stderr and "`revgraph fix`" in done.stderr, done.stderr
    assert repo.read(LOCK) == before and repo.conflicted() == [LOCK]  # nothing written, nothing resolved
    # The way out it names works: one head, and the operation finishes with it.
    repo.run("fix", check=True)
    assert parse_lock(repo.read(LOCK).decode()).heads == (FEATURE_ID,)
    repo.git("-c", "core.editor=true", operation, "--continue")
    assert repo.run("lock", "--check").returncode == 0
    assert repo.run("lock", check=True).stderr == ""


def test_lock_mid_revert_of_a_parent_says_what_is_missing_not_a_fix_that_refuses(gitrepo):
    # QA: `git revert` of a revision that has a child stops at the lock file; `lock --check`
    # said "during the revert run `revgraph fix --strategy merge`", which refuses while
    # the child names a parent the tree lacks. No fix joins those heads.
    repo = _repo(gitrepo)
    repo.commit_locked_revision(MAIN_ID, BASE_ID, message="parent")
    repo.commit_locked_revision(FEATURE_ID, MAIN_ID, message="child")
    reverted = repo.git("revert", "--no-edit", "HEAD~1", check=None)
    assert reverted.returncode != 0 and repo.conflicted() == [LOCK], reverted

    verify = repo.run("lock", "--check")
    write = repo.run("lock")

    assert verify.returncode == 1, verify
    assert f"names a revision the tree lacks ({FEATURE_ID} names {MAIN_ID})" in verify.stdout, verify.stdout
    assert "revgraph fix" not in verify.stdout + verify.stderr, verify
    assert write.returncode != 0 and "not written" in write.stderr, write
    assert f"{FEATURE_ID} names {MAIN_ID}" in write.stderr, write.stderr
    assert repo.read(LOCK).count(b"<<<<<<<") == 1  # left as git left it


# ------------------------------------------------- no regular file at the lock's path
def _put(repo, kind: str) -> None:
    """What stands at the lock file's path: nothing, a folder, a dangling link or a FIFO."""
    import os
    import shutil

    path = repo.path / LOCK
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    if kind == "folder":
        path.mkdir()
    elif kind == "dangling link":
        path.symlink_to("nowhere")
    elif kind == "link to a folder":
        (repo.path / "elsewhere").mkdir(exist_ok=True)
        path.symlink_to("../elsewhere")
    elif kind == "link loop":
        path.symlink_to(path.name)
    elif kind == "FIFO":
        os.mkfifo(path)


def test_check_calls_a_lock_path_without_a_lock_file_missing_as_lock_check_does(gitrepo):
    # QA: a folder or a dangling link there passed check ("All good") while `lock --check`
    # said "missing"; a FIFO made check and doctor wait forever (the key read it); and a
    # result stored for a dangling link answered for a removed lock file.
    repo = _repo(gitrepo)
    repo.run("install", check=True)
    repo.commit("the driver")
    # (Review: a link to a folder was keyed as the folder but told apart from it, and a
    # link loop crashed check.)
    for kind in ("dangling link", "removed", "folder", "link to a folder", "link loop", "FIFO"):
        _put(repo, kind)

        code, report = _check(repo)

        assert code == 1, (kind, report)
        [finding] = [f for f in report["findings"] if f["code"] == "RG401"]
        assert "is missing" in finding["message"], (kind, finding)
        in_the_way = kind in ("folder", "link to a folder", "FIFO", "link loop")
        noun = {"link to a folder": "folder", "link loop": "loop of symbolic links"}.get(kind, kind)
        assert (f"a {noun} is there instead" in finding["message"]) == in_the_way, (kind, finding)
        assert (finding.get("fix") is None) == in_the_way, finding  # `revgraph lock` will not replace it
        assert repo.run("lock", "--check").returncode == 1
        assert repo.run("doctor").returncode == 1
        if in_the_way:  # refused by name (review: a loop crashed the writer, exit 3)
            refused = repo.run("lock")
            assert refused.returncode == 2 and "internal error" not in refused.stderr, refused.stderr
