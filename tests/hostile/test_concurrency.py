"""The shared cache under concurrency and damage (issue 9 §4, PRODUCT §8).

Two `revgraph check` processes started together on a cold cache, a cache
file cut short as if its writer died mid-write, garbage in its place, a
writer killed at several moments, two worktrees of one repository (one cache)
checked at once, and an edit that keeps size and mtime: every run still gives
exactly the answer a run without any cache gives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hostile.corpus import (
    VERSIONS,
    fast_commit,
    revision_text,
    run_in_process,
    tracebacks,
)
from tests.support.gitrepo import GitRepo

LENGTH = 80  # landed revisions: enough work for two processes to overlap


def rid(n: int) -> str:
    return f"{n:012x}"


FEATURE = "fe0000000000"
MAIN_NEW = "0a0000000000"


@pytest.fixture
def busy(gitrepo) -> GitRepo:
    """main: a long landed chain plus a new head; feature (checked out) adds one on the old head.

    `check --base main` must report RG102 naming FEATURE and MAIN_NEW.
    """
    gitrepo.init_env()
    history = {
        f"{VERSIONS}/{rid(n)}_step.py": revision_text(rid(n), rid(n - 1) if n > 1 else None)
        for n in range(1, LENGTH + 1)
    }
    fast_commit(gitrepo, history, "landed history")
    gitrepo.git("checkout", "-q", "-b", "feature")
    gitrepo.write(f"{VERSIONS}/{FEATURE}_feature.py", revision_text(FEATURE, rid(LENGTH)))
    gitrepo.commit("feature")
    gitrepo.checkout("main")
    gitrepo.write(f"{VERSIONS}/{MAIN_NEW}_main.py", revision_text(MAIN_NEW, rid(LENGTH)))
    gitrepo.commit("main moves on")
    gitrepo.checkout("feature")
    return gitrepo


def cache_dir(repo: GitRepo) -> Path:
    return repo.path / ".git" / "revgraph"


def answer(outcome_code: int, out: str) -> tuple:
    """What a check run says: exit code, ok, and every finding whole, in order."""
    report = json.loads(out)
    return outcome_code, report["ok"], [json.dumps(f, sort_keys=True) for f in report["findings"]]


@pytest.fixture
def truth(busy, git_env, capsys) -> tuple:
    """The answer of a run that neither reads nor writes any cache."""
    outcome = run_in_process(capsys, "--no-cache", "-C", str(busy.path), "check", "--base", "main", "--format", "json")
    assert outcome.code == 1 and "RG102" in outcome.out, outcome.text
    assert not cache_dir(busy).exists()
    return answer(outcome.code, outcome.out)


def start_check(repo: GitRepo) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "revgraph", "-C", str(repo.path), "check", "--base", "main", "--format", "json"],
        cwd=repo.path.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> tuple:
    out, err = proc.communicate(timeout=120)
    assert not tracebacks(out, err), err
    return answer(proc.returncode, out)


def check_in_process(repo: GitRepo, capsys) -> tuple:
    outcome = run_in_process(capsys, "-C", str(repo.path), "check", "--base", "main", "--format", "json")
    assert not tracebacks(outcome.text), outcome.text
    return answer(outcome.code, outcome.out)


def cache_files(repo: GitRepo) -> list[Path]:
    return sorted(p for p in cache_dir(repo).rglob("*") if p.is_file())


# ------------------------------------------------------------------ two at once
def test_two_checks_started_together_on_a_cold_cache_both_answer_right(busy, truth):
    first, second = start_check(busy), start_check(busy)
    assert finish(first) == truth
    assert finish(second) == truth
    assert cache_files(busy), "the runs should have left a cache to share"
    third, fourth = start_check(busy), start_check(busy)  # both read what the race left
    assert finish(third) == truth
    assert finish(fourth) == truth


def test_two_worktrees_sharing_one_cache_each_get_their_own_answer(busy, truth, tmp_path, capsys):
    """A linked worktree on main shares .git/revgraph with the feature checkout."""
    other = tmp_path / "main worktree"
    busy.git("worktree", "add", "-q", "--detach", str(other), "main")
    uncached = run_in_process(capsys, "--no-cache", "-C", str(other), "check", "--base", "main", "--format", "json")
    main_truth = answer(uncached.code, uncached.out)
    assert main_truth != truth  # main alone has one head: a different answer

    for _ in range(2):  # cold, then warm: neither may be served the other's result
        feature_run = start_check(busy)
        main_run = subprocess.Popen(
            [sys.executable, "-m", "revgraph", "-C", str(other), "check", "--base", "main", "--format", "json"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert finish(feature_run) == truth
        assert finish(main_run) == main_truth


def test_writers_killed_at_any_moment_leave_a_cache_that_still_answers_right(busy, truth, capsys):
    for delay in (0.2, 0.5, 0.9):
        proc = start_check(busy)
        time.sleep(delay)
        proc.kill()
        proc.communicate(timeout=60)
        assert check_in_process(busy, capsys) == truth, f"after a kill at {delay} s"


# ------------------------------------------------------------------ damage
DAMAGES = {
    "cut in half": lambda data: data[: len(data) // 2],
    "cut in the header": lambda data: data[:7],
    "emptied": lambda data: b"",
    "last byte flipped": lambda data: data[:-1] + bytes([data[-1] ^ 0xFF]) if data else b"\xff",
    "garbage": lambda data: os.urandom(len(data) or 64),
}


def test_a_damaged_cache_is_ignored_and_rebuilt(busy, truth, capsys):
    assert check_in_process(busy, capsys) == truth  # warm the cache
    for name, damage in DAMAGES.items():
        damaged = cache_files(busy)
        assert damaged, f"no cache left to damage before: {name}"
        for path in damaged:
            path.write_bytes(damage(path.read_bytes()))

        assert check_in_process(busy, capsys) == truth, f"with every cache file {name}"
    assert check_in_process(busy, capsys) == truth  # and what it rewrote last is sound


def test_a_half_written_temp_file_left_by_a_dead_writer_is_ignored(busy, truth, capsys):
    assert check_in_process(busy, capsys) == truth
    for path in cache_files(busy):
        leftover = path.with_name(f".{path.name}.x1y2z3.tmp")
        leftover.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 3)])
        path.unlink()  # the dead writer never renamed it into place

    assert check_in_process(busy, capsys) == truth


# ------------------------------------------------------------------ staleness
def test_an_edit_keeping_size_and_mtime_is_still_seen(busy, truth, capsys):
    assert check_in_process(busy, capsys) == truth  # warm: the file's identity is cached
    path = busy.path / VERSIONS / f"{FEATURE}_feature.py"
    info = path.stat()
    text = path.read_bytes()
    # Point the feature at itself: same length, same mtime, and now a cycle (RG105).
    edited = text.replace(f"down_revision = {rid(LENGTH)!r}".encode(), f"down_revision = {FEATURE!r}".encode())
    assert len(edited) == len(text) and edited != text
    path.write_bytes(edited)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    uncached = run_in_process(capsys, "--no-cache", "-C", str(busy.path), "check", "--base", "main", "--format", "json")
    new_truth = answer(uncached.code, uncached.out)
    assert new_truth != truth and "RG105" in uncached.out

    assert check_in_process(busy, capsys) == new_truth
