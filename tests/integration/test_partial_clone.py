"""Partial clones (``git clone --filter=blob:none`` / ``--filter=tree:0``), as CI makes them.

There the files of refs other than the checked-out commit are not in the
clone: git fetches each missing object from the promisor remote when asked
for it, one round trip each. Found by running every command that reads
``origin/main`` in such clones:

- each of base's revision files was fetched alone (a base 1,000 revisions
  ahead: 1,000 fetches, 30 s with the remote on the same disk); now they
  come in one fetch;
- with the remote unreachable, the error was git's own last words
  ("git cat-file stopped: fatal: ... does not appear to be a git
  repository"), with no word of a partial clone or of what to do.

Real repositories: a bare origin that serves filters, partial clones of it
over file:// (filters need a transport), the real CLI. git's trace2 events
count the fetches: git's own lazy fetches are children of another git
process, revgraph's are not.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.gitrepo import GitRepo

SHARED = [f"5a{i:010x}" for i in range(3)]
AHEAD = [f"ba{i:010x}" for i in range(30)]  # what main added since feature forked
FEATURE = "fefefefefefe"

# Each reads origin/main's revision files, which the clone does not hold.
COMMANDS = {
    "check": ("check", "--base", "origin/main"),
    "heads": ("heads", "--ref", "origin/main"),
    "diff": ("diff", "origin/main"),
    "graph": ("graph", "--ref", "origin/main"),
    "audit": ("audit", "--ref", "origin/main"),
    "collisions": ("collisions", "origin/feature", "--base", "origin/main"),
    "fix": ("fix", "--dry-run", "--base", "origin/main"),
}


def _build(seed: GitRepo) -> None:
    seed.init_env()
    down = None
    for rev in SHARED:
        seed.add_revision(rev, down, message=f"shared {rev}")
        down = rev
    seed.commit("shared revisions")
    seed.branch("feature")
    for rev in AHEAD:
        seed.add_revision(rev, down, message=f"main {rev}")
        down = rev
    seed.commit("main goes on")
    seed.checkout("feature")
    seed.add_revision(FEATURE, SHARED[-1], message="feature work")
    seed.commit("feature adds a revision")
    seed.checkout("main")


@pytest.fixture
def origin(make_gitrepo, tmp_path) -> Path:
    """A bare origin that serves partial clones: main is 30 revisions ahead of feature."""
    from revgraph.sources.gitref import git_version

    if git_version() < (2, 29):  # the batched fetch's options (and --filter=tree:0 itself)
        pytest.skip("git before 2.29: partial clones are fetched object by object")
    return _serving(make_gitrepo, tmp_path / "origin.git", "partial-clone-origin", _build)


def _serving(make_gitrepo, bare: Path, name: str, build) -> Path:
    """A bare repository at ``bare``, of the history ``build`` makes, that serves filters."""
    seed = make_gitrepo(name)
    seed.build_once(name, build)
    seed.git("clone", "-q", "--bare", str(seed.path), str(bare))
    for key in ("uploadpack.allowFilter", "uploadpack.allowAnySHA1InWant"):
        seed.git("--git-dir", str(bare), "config", key, "true")
    return bare


def _partial_clone(origin: Path, kind: str) -> GitRepo:
    """A clone of ``origin`` with ``--filter=kind``, on feature (skips where git cannot make one)."""
    dest = origin.parent / f"clone-{kind.replace(':', '')}"
    done = subprocess.run(["git", "clone", "-q", f"--filter={kind}", "-b", "feature", origin.as_uri(), str(dest)],
                          capture_output=True, text=True)  # fmt: skip
    clone = GitRepo(dest)
    if done.returncode != 0 or clone.git("config", "remote.origin.promisor", check=None).stdout.strip() != "true":
        pytest.skip(f"this git cannot make a {kind} partial clone: {done.stderr.strip()}")
    missing = clone.git("rev-list", "--objects", "--missing=print", "origin/main").stdout
    if not any(line.startswith("?") for line in missing.splitlines()):
        pytest.skip(f"git fetched every object into the {kind} clone")  # nothing left to test
    return clone


def _run_traced(clone: GitRepo, *args: str) -> tuple[subprocess.CompletedProcess, int, int]:
    """``revgraph ARGS`` in ``clone``; also the fetches git made lazily, and those revgraph made."""
    trace = clone.path.parent / "trace2.json"
    trace.unlink(missing_ok=True)
    done = clone.run(*args, env={**os.environ, "GIT_TRACE2_EVENT": str(trace)})
    lazy = ours = 0
    for line in trace.read_text().splitlines() if trace.exists() else []:
        event = json.loads(line)
        if event.get("event") == "start" and "fetch" in event.get("argv", []):
            # A git that another git started has its parent's session id before a "/".
            if "/" in event.get("sid", ""):
                lazy += 1
            else:
                ours += 1
    assert "Traceback" not in done.stderr, done.stderr
    return done, lazy, ours


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_base_files_come_in_one_fetch(origin, command):
    clone = _partial_clone(origin, "blob:none")

    done, lazy, ours = _run_traced(clone, *COMMANDS[command])

    # The answer a whole clone gives (base adds revisions on the shared one,
    # feature another: RG102, or fix's refusal to rebase onto unmerged work).
    assert done.returncode == (0 if command in ("heads", "diff", "graph", "audit") else 1), done.stdout + done.stderr
    if command == "heads":
        assert done.stdout.split()[0] == AHEAD[-1], done.stdout
    if command == "check":
        assert "RG102" in done.stdout, done.stdout
    assert (lazy, ours) == (0, 1), (lazy, ours)  # was one lazy fetch per revision file: 30


def test_a_tree_0_clone_fetches_trees_not_each_file(origin):
    clone = _partial_clone(origin, "tree:0")

    done, lazy, ours = _run_traced(clone, *COMMANDS["check"])

    assert done.returncode == 1 and "RG102" in done.stdout, done.stdout + done.stderr
    assert ours == 1, ours
    # git still fetches the few trees on the way to the folder at each commit, lazily:
    # a handful, not one per file (33 before).
    assert lazy <= 5, lazy


@pytest.mark.parametrize("kind", ["blob:none", "tree:0"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unreachable_remote_is_said_with_what_to_do(origin, kind, command):
    clone = _partial_clone(origin, kind)
    origin.rename(origin.with_name("gone.git"))  # the network is down

    done, _, ours = _run_traced(clone, *COMMANDS[command])

    assert done.returncode == 2, done.stdout + done.stderr
    assert "RG" not in done.stdout and "removed" not in done.stdout, done.stdout  # no answer from half a read
    assert "this is a partial clone" in done.stderr, done.stderr
    assert f"could not fetch them from 'origin' ({origin.as_uri()})" in done.stderr, done.stderr
    assert "does not appear to be a git repository" in done.stderr, done.stderr  # git's reason
    assert "git fetch --refetch --no-filter origin" in done.stderr, done.stderr
    assert ours <= 1, ours  # not tried again by the full CLI after check's fast path met it


def test_the_remote_back_the_same_clone_reads_base(origin):
    clone = _partial_clone(origin, "blob:none")
    origin.rename(origin.with_name("gone.git"))
    assert clone.run(*COMMANDS["check"]).returncode == 2
    origin.with_name("gone.git").rename(origin)

    done, lazy, ours = _run_traced(clone, *COMMANDS["check"])

    assert done.returncode == 1 and "RG102" in done.stdout, done.stdout + done.stderr
    assert (lazy, ours) == (0, 1), (lazy, ours)


def test_a_whole_clone_starts_no_process_for_it(origin, tmp_path):
    whole = GitRepo(origin).clone(tmp_path / "whole")
    whole.checkout("feature")
    trace = tmp_path / "trace2.json"

    done = whole.run(*COMMANDS["check"], env={**os.environ, "GIT_TRACE2_EVENT": str(trace)})

    assert done.returncode == 1 and "RG102" in done.stdout, done.stdout + done.stderr
    started = [json.loads(line).get("argv", []) for line in trace.read_text().splitlines()]
    asked = [argv for argv in started if "fetch" in argv or any("promisor" in arg or "missing" in arg for arg in argv)]
    assert not asked, asked


def test_a_promisor_remote_other_than_origin_is_the_one_named(origin, tmp_path):
    clone = _partial_clone(origin, "blob:none")
    clone.git("remote", "rename", "origin", "upstream")
    shutil.move(str(origin), str(tmp_path / "elsewhere.git"))

    done = clone.run("heads", "--ref", "upstream/main")

    assert done.returncode == 2, done.stdout + done.stderr
    assert "could not fetch them from 'upstream'" in done.stderr, done.stderr
    assert "git fetch --refetch --no-filter upstream" in done.stderr, done.stderr


def _history_of_commits(seed: GitRepo) -> None:
    """main: a revision per commit, 12 commits; feature forks at the first."""
    seed.init_env()
    down = None
    for index in range(12):
        rev = f"c0{index:010x}"
        seed.add_revision(rev, down, message=f"step {index}")
        seed.commit(f"step {index}")
        if index == 0:
            seed.branch("feature")
        down = rev


def test_audit_reads_a_long_history_in_one_fetch(make_gitrepo, tmp_path):
    # audit reads the versions folder at every commit that changed it: one lazy
    # fetch per commit's new files before (12 here), each a round trip.
    from revgraph.sources.gitref import git_version

    if git_version() < (2, 29):
        pytest.skip("git before 2.29: partial clones are fetched object by object")
    bare = _serving(make_gitrepo, tmp_path / "history.git", "partial-clone-history", _history_of_commits)
    clone = _partial_clone(bare, "blob:none")

    done, lazy, ours = _run_traced(clone, "--no-cache", "audit", "--ref", "origin/main", "--format", "json")

    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["commits"] >= 12
    assert (lazy, ours) == (0, 1), (lazy, ours)
