"""The result cache's fast paths against their reference versions, and the express lane.

* ``_merge_is_union`` / ``_contents`` (one id per path kept bare, only the
  paths where the snapshots disagree examined) equal their first versions on
  random snapshots, conflicts and missing ids included;
* ``WorktreeScan.content_digest`` gives up as soon as one file too many is
  unknown, and otherwise gives the digest it always gave;
* ``config.project_inputs`` replays true for an unchanged configuration and
  false after any change it rests on;
* the express lane (``revgraph.express``): answers an unchanged check without
  importing revgraph's data modules, and never hides a change (configuration,
  lock file, base moved, replace refs, HEAD moved, a file edited), each
  checked against ``--no-cache`` in real repositories.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from tests.support.gitrepo import run_module
from hypothesis import given, settings
from hypothesis import strategies as st

from revgraph import api, config, express, resultcache

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import genrepo


# --------------------------------------------------------- the merge guard
# The guard's first versions, the references the fast ones are held to.
def contents_reference(snap) -> dict[str, tuple]:
    """Path -> the blob ids found there (two in a conflict), from revisions and problems."""
    found: dict[str, list] = {}
    if snap is not None:
        for item in (*snap.revisions, *snap.problems):
            found.setdefault(item.path, []).append(item.blob_id)
    return {path: tuple(sorted(ids, key=str)) for path, ids in found.items()}


def merge_is_union_reference(ctx) -> bool:
    """``resultcache._merge_is_union`` as first written: every path, tuples throughout."""
    base, ours, theirs = contents_reference(ctx.merge_base), contents_reference(ctx.head), contents_reference(ctx.base)
    merged = contents_reference(ctx.merged)
    for path in {*base, *ours, *theirs, *merged}:
        o, t, b = ours.get(path), theirs.get(path), base.get(path)
        if o == t or t == b:
            expected = o
        elif o == b:
            expected = t
        else:
            expected = tuple(sorted((*(o or ()), *(t or ())), key=str)) or None
        if merged.get(path) != expected:
            return False
    return True


def _snap(items):
    if items is None:
        return None
    return SimpleNamespace(
        revisions=tuple(SimpleNamespace(path=p, blob_id=b) for p, b in items if not p.endswith("!")),
        problems=tuple(SimpleNamespace(path=p.rstrip("!"), blob_id=b) for p, b in items if p.endswith("!")),
    )


PATHS = st.sampled_from(["v/a.py", "v/b.py", "v/c.py", "v/d.py", "v/a.py!", "v/e.py!"])
IDS = st.sampled_from(["1" * 40, "2" * 40, "3" * 40, None])
SNAPSHOT = st.one_of(st.none(), st.lists(st.tuples(PATHS, IDS), max_size=7))


@settings(max_examples=settings.default.max_examples * 4, deadline=None)  # 100 fast, 2000 thorough
@given(SNAPSHOT, SNAPSHOT, SNAPSHOT, SNAPSHOT)
def test_merge_is_union_equals_its_reference(head, base, merge_base, merged):
    ctx = SimpleNamespace(head=_snap(head), base=_snap(base), merge_base=_snap(merge_base), merged=_snap(merged))
    assert resultcache._merge_is_union(ctx) == merge_is_union_reference(ctx)


@settings(max_examples=settings.default.max_examples * 4, deadline=None)
@given(SNAPSHOT, SNAPSHOT)
def test_contents_compare_as_the_reference_does(a, b):
    fast_a, fast_b = resultcache._contents(_snap(a)), resultcache._contents(_snap(b))
    ref_a, ref_b = contents_reference(_snap(a)), contents_reference(_snap(b))
    assert set(fast_a) == set(ref_a)
    for path in {*ref_a, *ref_b}:
        assert (fast_a.get(path) == fast_b.get(path)) == (ref_a.get(path) == ref_b.get(path))
        assert resultcache._as_tuple(fast_a.get(path)) == (ref_a.get(path) or ())


def test_merge_is_union_catches_a_textual_merge_and_a_dropped_file():
    ours = [("v/a.py", "1" * 40), ("v/b.py", "2" * 40)]
    theirs = [("v/a.py", "3" * 40), ("v/b.py", "2" * 40)]
    base = [("v/a.py", "1" * 40), ("v/b.py", "2" * 40)]
    for merged, ok in (([("v/a.py", "3" * 40), ("v/b.py", "2" * 40)], True),
                       ([("v/a.py", "4" * 40), ("v/b.py", "2" * 40)], False),
                       ([("v/a.py", "3" * 40)], False)):  # fmt: skip
        ctx = SimpleNamespace(head=_snap(ours), base=_snap(theirs), merge_base=_snap(base), merged=_snap(merged))
        assert resultcache._merge_is_union(ctx) is ok is merge_is_union_reference(ctx)


# ------------------------------------------------------------ the worktree
class _Stats:
    object_format = "sha1"  # as a StatCache of a SHA-1 repository

    def __init__(self, known):
        self.known = known
        self.recorded = {}

    def blob_id(self, path, info):
        return self.known.get(path)

    def record(self, path, info, oid):
        self.recorded[path] = oid


def test_content_digest_gives_up_early_and_otherwise_agrees(tmp_path):
    folder = tmp_path / "v"
    folder.mkdir()
    for i in range(10):
        (folder / f"r{i}.py").write_text(f"revision = 'r{i}'\n")
    env = SimpleNamespace(sourceless=False, recursive=False, version_locations=(folder,))
    full = resultcache.WorktreeScan(env, tmp_path).content_digest(_Stats({}))
    for limit in range(12):
        got = resultcache.WorktreeScan(env, tmp_path).content_digest(_Stats({}), read_limit=limit)
        assert got == (full if limit >= 10 else None)
    # Known blob ids (as the stat cache gives them) lead to the same digest.
    stats = _Stats({})
    resultcache.WorktreeScan(env, tmp_path).content_digest(stats)
    known = _Stats(dict(stats.recorded))
    assert resultcache.WorktreeScan(env, tmp_path).content_digest(known, read_limit=0) == full


# ------------------------------------------------------------ config inputs
def test_project_inputs_replay_and_see_every_change(tmp_path):
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    ini = tmp_path / "alembic.ini"
    ini.write_text("[alembic]\nscript_location = %(here)s/migrations\npath_separator = os\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    trace = config.project_inputs(config.load_project(sub))
    assert trace is not None and express.replay(trace)
    assert any(kind == "r" and path == str(ini) for kind, path, _ in trace)
    (sub / "pyproject.toml").write_text("[tool.revgraph]\nbase = 'main'\n")  # nearer: a new project
    assert not express.replay(trace)
    (sub / "pyproject.toml").unlink()
    assert express.replay(trace)
    ini.write_text(ini.read_text() + "sourceless = true\n")
    assert not express.replay(trace)


def test_package_resource_locations_are_not_replayable(tmp_path):
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = revgraph:render\n")
    project = config.load_project(tmp_path)
    assert project.environments and config.project_inputs(project) is None


# -------------------------------------------------------- the express lane
@pytest.fixture(scope="module")
def _generated_ahead(tmp_path_factory):
    """``take()``: genrepo's repository, generated a few tests ahead of the test that takes it.

    The express lane writes no ticket while a file it rests on is younger than
    2 s (its ctime, which a test cannot set back): on a repository generated
    at the start of the test, ``_warm`` polled for those 2 s. Generated while
    the tests before ran, the same repository (genrepo is deterministic: same
    files, same commits) is old enough by then, or nearly; ``_warm`` still
    waits out whatever is left. Each repository is taken by one test only.
    """
    folder = tmp_path_factory.mktemp("speedpaths")
    spares: list = []
    made = itertools.count()

    def generate():
        return genrepo.generate(folder / f"repo{next(made)}", 30, seed=5, commits=5)

    def take():
        repo = spares.pop(0) if spares else generate()
        while len(spares) < 3:  # for the next tests, oldest first
            spares.append(generate())
        return repo

    return take


@pytest.fixture
def repo(git_env, _generated_ahead):
    return _generated_ahead()


ARGV = ("check", "--base", "main", "--format", "json")

# A process that answers only through resultcache.fast_check and tells whether
# the express lane did (no revgraph data module imported).
PROBE = (
    "import sys\n"
    "from revgraph import resultcache\n"
    "code = resultcache.fast_check(sys.argv[1:])\n"
    "sys.stdout.write('\\n@@ %s %s\\n' % (code, 'revgraph.api' not in sys.modules))\n"
)


def _cli(path: Path, *args: str, cache: bool = True) -> subprocess.CompletedProcess:
    flags = [] if cache else ["--no-cache"]
    return run_module("revgraph", "-C", path, *flags, *args)


def _fast(path: Path, *args: str) -> tuple[str, int | None, bool]:
    done = subprocess.run([sys.executable, "-c", PROBE, "-C", str(path), *args],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    out, _, tail = done.stdout.rpartition("\n@@ ")
    code, express_lane = tail.split()
    return out, None if code == "None" else int(code), express_lane == "True"


# ``--no-cache`` answers (it reads and writes no cache) on the repo fixture's repository
# as genrepo wrote it, the same in every test: by command line.
_PRISTINE: dict[tuple[str, ...], subprocess.CompletedProcess] = {}


def _truth(path: Path, *args: str, pristine: bool = False) -> tuple[int, str]:
    """``pristine``: nothing changed yet in the repo fixture's repository: the answer
    already captured there for this command line is taken instead of running it again."""
    argv = tuple(args or ARGV)
    done = _PRISTINE.get(argv) if pristine else None
    if done is None:
        done = _cli(path, *argv, cache=False)
        if pristine:
            _PRISTINE[argv] = done
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, done.stdout


def _warm(path: Path, *args: str) -> None:
    """Runs until the express lane answers (a store, then a hit writes the ticket).

    A file changed in the last 2 s (its ctime, which a test cannot set back)
    vouches for nothing, so the first runs after an edit may store no ticket.
    """
    deadline = time.monotonic() + 8
    while True:
        _cli(path, *(args or ARGV))
        if _fast(path, *(args or ARGV))[2]:
            return
        if time.monotonic() > deadline:
            raise AssertionError("the express lane never answered")
        time.sleep(0.3)


def _git(path: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=path, capture_output=True, text=True, check=True).stdout


def _codes(out: str) -> set[str]:
    return {f["code"] for f in json.loads(out)["findings"]}


def _assert_right(path: Path, pristine: bool = False) -> tuple[str, bool]:
    """The cached answer (through fast_check, else the CLI) equals --no-cache's (see _truth)."""
    code, truth = _truth(path, pristine=pristine)
    out, fast_code, lane = _fast(path, *ARGV)
    if fast_code is None:
        done = _cli(path, *ARGV)
        out, fast_code = done.stdout, done.returncode
    assert (fast_code, out) == (code, truth)
    return truth, lane


def test_the_express_lane_answers_an_unchanged_check_alone(repo):
    code, truth = _truth(repo.path, pristine=True)
    _warm(repo.path)
    out, fast_code, lane = _fast(repo.path, *ARGV)
    assert lane and (fast_code, out) == (code, truth)
    assert _codes(out) == {"RG102", "RG301"}
    # Other options are another ticket, never this one's answer.
    out, fast_code, lane = _fast(repo.path, *ARGV, "--select", "RG3")
    assert not lane and (fast_code is None or _codes(out) == {"RG301"})


# Modules the express lane must not import itself (each costs milliseconds in
# a bare interpreter; a site .pth may have loaded some already, which is fine).
LEAN = (
    "import sys\n"
    "before = set(sys.modules)\n"
    "from revgraph import resultcache\n"
    "code = resultcache.fast_check(sys.argv[1:])\n"
    "costly = ('subprocess', 'typing', 'weakref', 'pathlib', 'signal', 'enum', 'collections.abc', 're', 'hashlib')\n"
    "new = [m for m in costly if m in sys.modules and m not in before]\n"
    "sys.stdout.write('\\n@@ %s %s %s\\n' % (code, 'revgraph.api' not in sys.modules, ','.join(new) or '-'))\n"
)


def test_the_express_lane_starts_git_without_subprocess_or_typing(repo):
    code, truth = _truth(repo.path, pristine=True)
    _warm(repo.path)
    done = subprocess.run([sys.executable, "-c", LEAN, "-C", str(repo.path), *ARGV],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    out, _, tail = done.stdout.rpartition("\n@@ ")
    fast_code, lane, imported = tail.split()
    assert lane == "True" and (int(fast_code), out) == (code, truth)
    assert imported == "-", f"the express lane imported {imported}"


def test_the_text_format_and_warnings_come_out_the_same(repo):
    (repo.path / "pyproject.toml").write_text("[tool.revgraph]\nunknown_key = 1\n")
    argv = ("check", "--base", "main")
    truth = _cli(repo.path, *argv, cache=False)
    _warm(repo.path, *argv)
    done = run_module("revgraph", "-C", repo.path, *argv)
    assert (done.returncode, done.stdout, done.stderr) == (truth.returncode, truth.stdout, truth.stderr)
    assert "unknown key" in done.stderr
    assert _fast(repo.path, *argv)[2]


def _edit_settings(info):
    (info.path / "pyproject.toml").write_text("[tool.revgraph]\nignore = ['RG301']\n")


def _edit_lock(info):
    lock = info.path / genrepo.LOCK_PATH
    lock.write_text(lock.read_text().replace(info.feature_revisions[1], info.fork_point))


def _move_base(info):
    _git(info.path, "update-ref", "refs/heads/main", _git(info.path, "rev-parse", "HEAD").strip())


def _replace_base(info):
    # main keeps its commit id, but git now reads HEAD's commit in its place.
    _git(info.path, "replace", _git(info.path, "rev-parse", "main").strip(), _git(info.path, "rev-parse", "HEAD").strip())


def _commit_edit(info):
    first = next((info.path / genrepo.VERSIONS).glob(f"{info.feature_revisions[0]}_*.py"))
    main_head = _git(info.path, "show", f"main:{genrepo.LOCK_PATH}").split("head: ")[1].split()[0]
    first.write_text(first.read_text().replace(repr(info.fork_point), repr(main_head)))
    _git(info.path, "commit", "-qam", "re-point onto main's head")


def _edit_alembic_ini(info):
    ini = info.path / "alembic.ini"
    ini.write_text(ini.read_text().replace("script_location = ", "script_location = %(here)s/elsewhere\n#"))


@pytest.mark.parametrize(
    "change",
    [_edit_settings, _edit_lock, _move_base, _replace_base, _commit_edit, _edit_alembic_ini],
    ids=lambda f: f.__name__.lstrip("_"),
)
def test_the_express_lane_never_hides_a_change(repo, change):
    before, _ = _assert_right(repo.path, pristine=True)
    _warm(repo.path)
    change(repo)
    if change is _edit_alembic_ini:  # the configuration is broken now: the full CLI says so
        _, fast_code, lane = _fast(repo.path, *ARGV)
        assert fast_code is None and not lane
        assert _cli(repo.path, *ARGV).returncode == _cli(repo.path, *ARGV, cache=False).returncode == 2
        return
    after, lane = _assert_right(repo.path)
    assert after != before and not lane


def test_an_edit_in_the_versions_folder_is_never_hidden(repo):
    _warm(repo.path)
    before = _fast(repo.path, *ARGV)[0]
    target = next((repo.path / genrepo.VERSIONS).glob(f"{repo.feature_revisions[1]}_*.py"))
    target.write_text(target.read_text().replace('"""', '"""Edited. ', 1))
    old = target.stat().st_mtime - 10  # old enough to vouch for itself by its identity
    os.utime(target, (old, old))
    _, lane = _assert_right(repo.path)
    assert not lane
    _warm(repo.path)  # the new state gets its own ticket entry
    assert _fast(repo.path, *ARGV)[2]
    _git(repo.path, "checkout", "--", ".")
    os.utime(target, (old - 10, old - 10))
    out, _, _ = _fast(repo.path, *ARGV)
    assert out == before or out == ""  # the first state again, or not answered here


def test_the_lane_sees_untracked_revisions_of_a_flat_folder(repo):
    """Its git status leaves untracked files out (flat folders); the ticket's are looked at again."""
    from tests.support.revfiles import render_revision

    folder = repo.path / genrepo.VERSIONS
    first, second = folder / "feed0001_untracked.py", folder / "feed0002_untracked.py"
    first.write_text(render_revision("feed0001", repo.feature_heads[0], message="first"))
    second.write_text(render_revision("feed0002", "feed0001", message="second"))
    answered, _ = _assert_right(repo.path)
    _warm(repo.path)  # answered with both files listed only by the full status
    # Swapped: second now under the feature head, first on top of it.
    first.write_text(render_revision("feed0001", "feed0002", message="first"))
    second.write_text(render_revision("feed0002", repo.feature_heads[0], message="second"))
    time.sleep(2.1)  # the edits are old enough to vouch for themselves: only their rows tell
    edited, lane = _assert_right(repo.path)
    assert not lane and edited != answered
    _warm(repo.path)
    first.unlink()
    gone, lane = _assert_right(repo.path)
    assert not lane and gone != edited


def test_a_recursive_folder_gets_no_express_ticket(repo):
    """A file added in a sub-folder leaves the versions folder's own row alone, and the
    lane's status of flat folders lists no untracked file: recursive folders stay off the lane."""
    from tests.support.revfiles import render_revision

    ini = repo.path / "alembic.ini"
    ini.write_text(ini.read_text().replace("[alembic]\n", "[alembic]\nrecursive_version_locations = true\n", 1))
    sub = repo.path / genrepo.VERSIONS / "sub"
    sub.mkdir()
    (sub / "feed0001_sub.py").write_text(render_revision("feed0001", repo.feature_heads[0], message="sub"))
    time.sleep(2.1)  # nothing too fresh to be vouched for
    answered, _ = _assert_right(repo.path)
    assert "feed0001" in answered
    _cli(repo.path, *ARGV)
    assert not _fast(repo.path, *ARGV)[2]
    assert not (repo.path / ".git" / "revgraph" / "express").exists() or not any(
        (repo.path / ".git" / "revgraph" / "express").iterdir()
    )


def test_state_facts_resolve_the_base_as_the_workspace_does(repo, monkeypatch):
    _git(repo.path, "branch", "master", "main")
    cases = [(None, {}), (None, {"GITHUB_BASE_REF": "main"}), ("master", {}), ("main", {})]
    _git(repo.path, "update-ref", "refs/remotes/origin/main", "main")
    for base, env in cases:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        resultcache._code_fingerprint = None
        with api.Workspace(api.Options(cwd=repo.path)) as ws:
            state = resultcache._State.compute(ws, base, (), ())
            expected = ws.resolve_base(base)
            assert state.git.base_ref == (expected.ref, expected.sha, expected.how)
            assert state.git.head == ws.maybe_repo().head_sha()
        for name in env:
            monkeypatch.delenv(name)


def test_a_ticket_is_keyed_on_every_ci_variable_that_chooses_a_base():
    from revgraph import express
    from revgraph.api import CI_BASE_VARIABLES

    assert set(CI_BASE_VARIABLES) <= set(express.ENV_NAMES)


def test_a_store_with_nothing_changed_reuses_the_lookups_content_key(repo, monkeypatch):
    """After an edit the lookup computes the content key; the store, finding git's view
    unchanged, keeps it instead of hashing 20k identities again, and stores under it."""
    from tests.support.revfiles import render_revision

    untracked = repo.path / genrepo.VERSIONS / "feed0001_untracked.py"  # git status lists it
    untracked.write_text(render_revision("feed0001", repo.feature_heads[0], message="untracked"))
    files = sorted((repo.path / genrepo.VERSIONS).glob("*.py"))
    old = time.time() - 10
    for path in files:
        os.utime(path, (old, old))  # old enough to vouch for themselves (ctime aside)
    time.sleep(2.1)  # ... and their ctimes too
    with api.Workspace(api.Options(cwd=repo.path)) as ws:
        truth = api.check(ws, base="main")
    shutil.rmtree(repo.path / ".git" / "revgraph" / "results")
    passes = []
    real = resultcache._State._git_content  # the content key of a git work tree
    monkeypatch.setattr(resultcache._State, "_git_content",
                        lambda self, *a, **k: passes.append(1) or real(self, *a, **k))  # fmt: skip
    with api.Workspace(api.Options(cwd=repo.path)) as ws:
        report = api.check(ws, base="main")
    assert report.findings == truth.findings
    assert len(passes) == 1  # the lookup's; the store made no second pass
    # What was stored answers by content too: a touch of a file git lists changes
    # the stat key, not the content.
    os.utime(untracked, (old - 5, old - 5))
    time.sleep(2.1)
    with api.Workspace(api.Options(cwd=repo.path)) as ws:
        again = resultcache.probe(ws, base="main", select=(), ignore=())
        assert again is not None and again.report is not None
        assert again.content_key is not None  # found by content: the stat key had moved
        assert again.report.findings == truth.findings


# ------------------------------------------- git processes without subprocess
def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else -1


def test_spawned_git_answers_like_subprocess(repo):
    env = express.git_environ()
    done = express._start(["git", "-C", str(repo.path), "rev-parse", "HEAD"], env)
    out, _ = done.communicate()
    assert done.returncode == 0
    assert out == subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo.path, capture_output=True).stdout

    fed = express._start(["git", "-C", str(repo.path), "cat-file", "--batch-check"], env, feed=True)
    out, _ = fed.communicate(b"HEAD\nno-such-ref\n")
    assert fed.returncode == 0 and out.endswith(b"no-such-ref missing\n") and b" commit " in out

    failing = express._start(["git", "-C", str(repo.path), "rev-parse", "no-such-ref"], env)
    assert failing.communicate()[0] == b"no-such-ref\n" and failing.returncode == 128


def test_spawned_git_leaves_no_descriptor_or_process_behind(repo):
    env = express.git_environ()
    before = _open_fds()
    with pytest.raises(OSError):
        express._start(["revgraph-no-such-program"], env, feed=True)
    assert _open_fds() == before
    # Waiting for input that never comes: killed, reaped, its pipes closed.
    stuck = express._start(["git", "-C", str(repo.path), "hash-object", "--stdin"], env, feed=True)
    stuck.kill()
    assert stuck.wait() == -9
    assert _open_fds() == before


def test_the_express_lane_runs_git_with_the_environment_every_git_call_gets(monkeypatch):
    # express keeps a copy of gittune.git_environ off the sources package's import.
    from revgraph.sources import gittune

    for name, value in (("GIT_ICASE_PATHSPECS", "1"), ("GIT_GLOB_PATHSPECS", "1"), ("GIT_DIR", "/x"),
                        ("GIT_WORK_TREE", "/y"), ("GIT_OPTIONAL_LOCKS", "1"), ("KEPT", "z")):  # fmt: skip
        monkeypatch.setenv(name, value)
    extra = {"LC_ALL": "C"}
    assert express.git_environ(dict(extra)) == gittune.git_environ(dict(extra))
    assert express.git_environ() == gittune.git_environ()
    assert "GIT_ICASE_PATHSPECS" not in gittune.git_environ() and gittune.git_environ()["KEPT"] == "z"
