"""The caches never change an answer: ``check`` with them equals ``check --no-cache``.

Real repositories from ``scripts/genrepo.py`` (the benchmark's generator, small
sizes), the real CLI in subprocesses, and the edits a developer makes between
two runs: editing, undoing, committing, switching branches, adding files,
touching files; plus corrupt cache files and two runs at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tests.support.gitrepo import run_module

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import genrepo

from revgraph import api, resultcache


@pytest.fixture
def repo(tmp_path, git_env):
    return genrepo.generate(tmp_path / "repo", 40, seed=21, commits=6)


def _run(path: Path, *args: str, cache: bool = True) -> subprocess.CompletedProcess:
    flags = [] if cache else ["--no-cache"]
    return run_module("revgraph", "-C", path, *flags, *args)


# `check --no-cache` on the repo fixture's repository as genrepo wrote it (deterministic:
# the same files and commits in every test), by command line: it reads no cache and
# writes none, so its answer there is the same for every test that asks.
_PRISTINE: dict[tuple[str, ...], subprocess.CompletedProcess] = {}


def same_answer(path: Path, *args: str, pristine: bool = False) -> tuple[int, str]:
    """Exit code and output of ``check``, asserted equal with and without the caches.

    ``pristine``: the repository is the repo fixture's, nothing changed yet
    (checks run on it change no file of it): the ``--no-cache`` answer already
    captured for this command line there is taken instead of running it again.
    """
    argv = ["check", "--base", "main", "--format", "json", *args]
    fresh = _PRISTINE.get(tuple(argv)) if pristine else None
    if fresh is None:
        fresh = _run(path, *argv, cache=False)
        if pristine:
            _PRISTINE[tuple(argv)] = fresh
    cached = _run(path, *argv)
    assert fresh.returncode in (0, 1), fresh.stderr
    assert (cached.returncode, cached.stdout) == (fresh.returncode, fresh.stdout)
    return cached.returncode, cached.stdout


def codes(output: str) -> set[str]:
    return {f["code"] for f in json.loads(output)["findings"]}


def cached_report(path: Path, **kw):
    """What the result cache holds for the current state (None: a miss)."""
    kw.setdefault("base", "main")
    # As the CLI subprocesses do, fingerprint revgraph's sources as they are now.
    resultcache._code_fingerprint = None
    with api.Workspace(api.Options(cwd=path)) as ws:
        found = resultcache.probe(ws, base=kw["base"], select=kw.get("select", ()), ignore=())
        return found.report if found is not None else None


def git(path: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=path, capture_output=True, text=True, check=True).stdout


def feature_file(info, which: int) -> Path:
    rid = info.feature_revisions[which]
    [found] = (info.path / genrepo.VERSIONS).glob(f"{rid}_*.py")
    return found


# ------------------------------------------------------------------ tests
def test_warm_check_is_answered_from_the_result_cache(repo):
    assert cached_report(repo.path) is None
    code, out = same_answer(repo.path, pristine=True)
    assert code == 1 and codes(out) == {"RG102", "RG301"}
    hit = cached_report(repo.path)
    assert hit is not None
    assert [f.to_json() for f in hit.findings] == json.loads(out)["findings"]


def test_text_report_from_the_cache_is_byte_identical(repo):
    runs = [_run(repo.path, "check", "--base", "main", cache=c) for c in (False, True, True, True)]
    assert len({(r.returncode, r.stdout, r.stderr) for r in runs}) == 1
    assert "RG102" in runs[0].stdout


def test_editing_a_revision_changes_the_answer_and_undoing_it_restores_it(repo):
    _, before = same_answer(repo.path, pristine=True)
    first = feature_file(repo, 0)
    original = first.read_bytes()
    main_head = git(repo.path, "show", f"main:{genrepo.LOCK_PATH}").split("head: ")[1].split()[0]
    # Re-point the feature's first revision onto main's head: the fork is gone.
    first.write_bytes(original.replace(repr(repo.fork_point).encode(), repr(main_head).encode()))
    _, edited = same_answer(repo.path)
    assert "RG102" not in codes(edited)
    first.write_bytes(original)
    assert cached_report(repo.path) is not None  # same content, same key: found again
    _, undone = same_answer(repo.path)
    assert undone == before


def test_touching_every_file_keeps_the_result(repo):
    _, before = same_answer(repo.path, pristine=True)
    for file in (repo.path / genrepo.VERSIONS).iterdir():
        os.utime(file, None)
    assert cached_report(repo.path) is not None  # content-addressed, not stat-addressed
    assert same_answer(repo.path)[1] == before


def test_untracked_revision_file_and_lock_edit_are_seen(repo):
    _, before = same_answer(repo.path, pristine=True)
    extra = repo.path / genrepo.VERSIONS / "0000aaaa1111_extra.py"
    text = feature_file(repo, 1).read_text()
    second = repo.feature_revisions[1]
    extra.write_text(text.replace(second, "0000aaaa1111").replace(repo.feature_revisions[0], repo.fork_point))
    _, with_extra = same_answer(repo.path)
    assert with_extra != before and "RG101" in codes(with_extra)
    extra.unlink()
    lock = repo.path / genrepo.LOCK_PATH
    lock.write_text(lock.read_text().replace(second, repo.fork_point))
    _, stale_lock = same_answer(repo.path)
    assert "RG401" in codes(stale_lock)


def test_commits_and_branch_switches_keep_answers_right(repo):
    same_answer(repo.path, pristine=True)
    first = feature_file(repo, 0)
    first.write_text(first.read_text().replace('"""Upgrade schema."""', '"""Upgrade schema (reviewed)."""'))
    git(repo.path, "commit", "-qam", "reword a docstring")
    same_answer(repo.path)
    git(repo.path, "checkout", "-q", "main")
    code, on_main = same_answer(repo.path)
    assert code == 0 and codes(on_main) == set()
    git(repo.path, "checkout", "-q", "feature")
    assert codes(same_answer(repo.path)[1]) == {"RG102", "RG301"}


def test_base_and_select_are_part_of_the_key(repo):
    _, everything = same_answer(repo.path, pristine=True)
    _, only_overlap = same_answer(repo.path, "--select", "RG3", pristine=True)
    assert codes(only_overlap) == {"RG301"} != codes(everything)
    _, against_feature = same_answer(repo.path, "--base", "feature", pristine=True)
    assert codes(against_feature) == set()


def test_corrupt_cache_files_are_ignored_and_rebuilt(repo):
    _, before = same_answer(repo.path, pristine=True)
    cache = repo.path / ".git" / "revgraph"
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert any(p.parent.name == "results" for p in files)
    for i, file in enumerate(files):
        data = file.read_bytes()
        file.write_bytes(data[: len(data) // 2] if i % 2 else b"\x00garbage" * 7)
    assert same_answer(repo.path)[1] == before
    assert cached_report(repo.path) is not None  # healed: the next run is a hit again


def test_two_concurrent_checks_agree_and_leave_a_valid_cache(repo):
    fresh = _run(repo.path, "check", "--base", "main", "--format", "json", cache=False)
    argv = [sys.executable, "-m", "revgraph", "-C", str(repo.path), "check", "--base", "main", "--format", "json"]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    for out, err, code in outputs:
        assert (code, out) == (fresh.returncode, fresh.stdout), err
    assert cached_report(repo.path) is not None
    assert same_answer(repo.path)[1] == fresh.stdout


def test_no_cache_writes_nothing(repo):
    _run(repo.path, "check", "--base", "main", cache=False)
    assert not (repo.path / ".git" / "revgraph").exists()


def test_result_reading_outside_the_versions_folders_is_not_stored(repo):
    """A symlinked revision's content is not covered by the folder's tree id."""
    shared = repo.path / "shared"
    shared.mkdir()
    target = shared / "0000bbbb2222_linked.py"
    text = feature_file(repo, 1).read_text()
    target.write_text(text.replace(repo.feature_revisions[1], "0000bbbb2222").replace(repo.feature_revisions[0], repo.feature_revisions[1]))
    (repo.path / genrepo.VERSIONS / "0000bbbb2222_linked.py").symlink_to(os.path.relpath(target, repo.path / genrepo.VERSIONS))
    git(repo.path, "add", "-A")
    git(repo.path, "commit", "-qm", "a linked revision")
    same_answer(repo.path)
    assert cached_report(repo.path) is None
    assert not list((repo.path / ".git" / "revgraph" / "results").glob("*"))


def test_attributes_read_from_a_tree_ish_switch_the_result_cache_off(repo, monkeypatch):
    # git 2.40 and later read attributes from GIT_ATTR_SOURCE's tree-ish (merge=union,
    # say): a ref that moves while nothing the key holds does. Not cached there.
    monkeypatch.setenv("GIT_ATTR_SOURCE", "main")
    same_answer(repo.path)
    same_answer(repo.path)
    assert not list((repo.path / ".git" / "revgraph" / "results").glob("*"))
    monkeypatch.delenv("GIT_ATTR_SOURCE")
    same_answer(repo.path)
    assert cached_report(repo.path) is not None


def test_outside_git_the_cache_lives_in_the_user_cache_dir(tmp_path, git_env):
    info = genrepo.generate(tmp_path / "src", 30, seed=4, commits=3)
    project = tmp_path / "plain"
    project.mkdir()
    for name in ("alembic.ini", "migrations"):
        subprocess.run(["cp", "-r", str(info.path / name), str(project / name)], check=True)
    runs = [_run(project, "check", "--format", "json", cache=c) for c in (False, True, True)]
    assert len({(r.returncode, r.stdout) for r in runs}) == 1
    assert list((Path(git_env["XDG_CACHE_HOME"]) / "revgraph" / "results").glob("*"))


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--base=main", "-f", "json"],
        ["--no-color", "check", "--format=sarif", "--base", "main", "--strict"],
        ["check", "--base", "main", "--select", "RG1,rg3", "--ignore", "RG301", "-f", "junit"],
    ],
)
def test_fast_path_answers_every_spelling_like_the_full_cli(repo, argv):
    fresh = _run(repo.path, *argv, cache=False)
    first, second = _run(repo.path, *argv), _run(repo.path, *argv)  # a miss, then a hit
    assert (first.returncode, first.stdout) == (fresh.returncode, fresh.stdout)
    assert (second.returncode, second.stdout) == (fresh.returncode, fresh.stdout)


@pytest.mark.parametrize(
    "argv",
    [
        ["heads"],
        ["check", "--db", "sqlite://"],
        ["check", "-o", "report.txt"],
        ["check", "--help"],
        ["check", "--format", "github"],
        ["check", "-fjson"],
        ["check", "--base", "main", "--base", "other"],
        ["--no-cache", "check"],
        ["doctor", "check"],
    ],
)
def test_fast_path_leaves_other_command_lines_to_the_full_cli(argv):
    assert resultcache.fast_check(argv) is None


def test_missing_versions_folder_warning_survives_the_cache(repo):
    import shutil

    shutil.rmtree(repo.path / genrepo.VERSIONS)
    runs = [_run(repo.path, "check", "--base", "main", cache=c) for c in (False, True, True)]
    assert len({(r.returncode, r.stdout, r.stderr) for r in runs}) == 1
    assert "does not exist" in runs[0].stderr


def test_sparse_checkout_bypasses_the_result_cache(repo):
    git(repo.path, "sparse-checkout", "set", "--no-cone", "/alembic.ini", "/migrations/*.py", "/migrations/*.mako")
    assert not list((repo.path / genrepo.VERSIONS).glob("*.py"))  # every revision is off disk
    assert same_answer(repo.path)[0] == 1
    assert cached_report(repo.path) is None


@pytest.mark.parametrize("mark", ["--assume-unchanged", "--skip-worktree"])
def test_an_edit_git_is_told_not_to_look_at_is_still_seen(repo, mark):
    """``git status`` and ``git add`` take a marked file as unchanged; revgraph must not."""
    _, before = same_answer(repo.path, pristine=True)
    assert "RG102" in codes(before)
    first = feature_file(repo, 0)
    relative = first.relative_to(repo.path).as_posix()
    git(repo.path, "update-index", mark, relative)
    main_head = git(repo.path, "show", f"main:{genrepo.LOCK_PATH}").split("head: ")[1].split()[0]
    first.write_bytes(first.read_bytes().replace(repr(repo.fork_point).encode(), repr(main_head).encode()))
    assert git(repo.path, "status", "--porcelain", "--", genrepo.VERSIONS) == ""  # git does not see it
    _, edited = same_answer(repo.path)  # the express ticket and result of `before` must not answer
    assert "RG102" not in codes(edited)  # in HEAD and in the predicted merge alike
    if mark != "--assume-unchanged":
        return  # the rest is the same for both marks (and waits 2 s)
    os.utime(first, ns=(first.stat().st_atime_ns, first.stat().st_mtime_ns - 5 * 10**9))
    time.sleep(2.1)  # ctime too: identities old enough to stand for contents
    assert same_answer(repo.path)[1] == edited
    # Not cached: with a marked entry the key comes from the revision files' identities,
    # which say nothing of the other files git's merge reads (a deleted notes.txt can turn
    # into a rename's source), so a result with a predicted merge is not kept.
    assert cached_report(repo.path) is None
    git(repo.path, "update-index", mark.replace("--", "--no-"), relative)
    assert same_answer(repo.path)[1] == edited


LANE_GITS = """
    import json, sys
    from revgraph import express
    from revgraph.resultcache import parse_check_argv
    started = []
    real = express._start
    def counted(argv, *args, **kw):
        started.append(argv[5] if argv[1] == "-C" and len(argv) > 5 else argv[1])
        return real(argv, *args, **kw)
    express._start = counted
    opts = parse_check_argv(["-C", sys.argv[1], "check", "--base", "main", "--format", "json"])
    found = express.answer(opts, sys.argv[2])
    print(json.dumps({"answered": found is not None, "started": started}))
"""


def _lane(path: Path) -> dict:
    from revgraph import __version__

    done = subprocess.run([sys.executable, "-c", textwrap.dedent(LANE_GITS), str(path), __version__],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_lane_looks_for_marked_entries_only_when_the_index_changed(repo):
    time.sleep(2.1)  # the index is old enough for its identity to stand for it
    argv = ("check", "--base", "main", "--format", "json")
    same_answer(repo.path, pristine=True)
    assert _run(repo.path, *argv).returncode == 1  # answered by the lane
    unchanged = _lane(repo.path)
    assert unchanged["answered"] and "ls-files" not in unchanged["started"]
    first = feature_file(repo, 0).relative_to(repo.path).as_posix()
    git(repo.path, "update-index", "--assume-unchanged", first)  # rewrites the index
    marked = _lane(repo.path)
    assert "ls-files" in marked["started"] and not marked["answered"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_like_a_revision_is_seen_after_a_cached_check(repo):
    """git status lists no FIFO; alembic would still meet it (RG107 here)."""
    _, before = same_answer(repo.path, pristine=True)
    time.sleep(2.1)  # the folder is old: the cached answers come from git's view of it
    assert same_answer(repo.path)[1] == before
    fifo = repo.path / genrepo.VERSIONS / "0000ffff0000_pipe.py"
    os.mkfifo(fifo)
    _, with_fifo = same_answer(repo.path)
    assert "RG107" in codes(with_fifo)
    time.sleep(2.1)  # ... and again once the folder's change is old enough to vouch for it
    assert same_answer(repo.path)[1] == with_fifo
    fifo.unlink()
    assert same_answer(repo.path)[1] == before


def test_an_untracked_revision_that_becomes_ignored_is_not_answered_from_the_cache(gitrepo):
    # QA (cache fuzzer): a .gitignore edit elsewhere turned an untracked revision file
    # into an ignored one, which the predicted merge leaves out; the cached RG102 stood,
    # from the express lane (it looked only at the file and the folder) and from the
    # content key (the same bytes).
    gitrepo.init_env(commit=False)
    gitrepo.add_revision("a1a1a1a1a1a1", None, message="base")
    gitrepo.commit("base")
    gitrepo.branch("feature")
    gitrepo.add_revision("m1m1m1m1m1m1", "a1a1a1a1a1a1", message="main's")
    gitrepo.commit("main adds one")
    gitrepo.checkout("feature")
    path = gitrepo.add_revision("b1b1b1b1b1b1", "a1a1a1a1a1a1", message="feature's, untracked")
    time.sleep(2.1)  # old enough to vouch for: results and tickets are stored
    for command in (("check",), ("check",), ("check", "--format", "json")):
        assert gitrepo.run(*command).returncode == 1  # RG102, stored for each command line

    gitrepo.write(".gitignore", f"{path}\n")
    time.sleep(2.1)

    for command in (("check",), ("check",), ("check", "--format", "json"), ("check", "-q")):
        cached, fresh = gitrepo.run(*command), gitrepo.run("--no-cache", *command)
        assert (cached.returncode, cached.stdout, cached.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
        assert fresh.returncode == 0, fresh.stdout  # ignored: out of the merge, nothing forks


def _same_with_and_without_cache(repo, *args: str) -> int:
    """``check`` twice with the cache and once without: the same output, its exit code."""
    runs = [repo.run(*args), repo.run(*args), repo.run("--no-cache", *args)]
    assert len({(r.returncode, r.stdout, r.stderr) for r in runs}) == 1, runs
    return runs[0].returncode


@pytest.mark.parametrize("how", ["folder renamed in by main", "file renamed in by HEAD, edited by main"])
def test_a_rename_across_the_folder_boundary_keeps_results_out_of_the_cache(gitrepo, how):
    # QA (cache fuzzer): through a rename into the versions folder, files outside it
    # decide the predicted merge, and neither a later commit outside the folder nor
    # `merge.directoryRenames` changes a key's folder tree: the cached answer stood.
    gitrepo.init_env(commit=False)
    gitrepo.add_revision("a1a1a1a1a1a1", None, message="base")
    if how.startswith("folder"):
        gitrepo.write("migrations/old/notes.txt", "notes\n")
        gitrepo.commit("base")
        gitrepo.branch("feature")
        gitrepo.git("mv", "migrations/old/notes.txt", "migrations/versions/notes.txt")
        gitrepo.commit("main: old/ renamed into versions/")
        gitrepo.checkout("feature")
        time.sleep(2.1)
        assert _same_with_and_without_cache(gitrepo, "check", "--base", "main") == 0
        gitrepo.write("migrations/old/b1_x.py", 'revision = "b1"\ndown_revision = None\n')
        gitrepo.commit("feature: a revision in old/, which the merge moves into versions/")
    else:
        body = 'revision = "o1"\ndown_revision = "a1a1a1a1a1a1"\n' + "".join(f"# {n}\n" for n in range(8))
        gitrepo.write("migrations/old/o1_x.py", body)
        gitrepo.commit("base")
        gitrepo.branch("feature")
        gitrepo.checkout("feature")
        gitrepo.git("mv", "migrations/old/o1_x.py", "migrations/versions/o1_x.py")
        gitrepo.commit("feature: o1 moved into versions/")
        time.sleep(2.1)
        assert _same_with_and_without_cache(gitrepo, "check", "--base", "main") == 0
        gitrepo.checkout("main")
        gitrepo.write("migrations/old/o1_x.py", body.replace('"a1a1a1a1a1a1"', "None"))
        gitrepo.commit("main: o1 begins a history of its own, outside versions/")
        gitrepo.checkout("feature")
    time.sleep(2.1)

    assert _same_with_and_without_cache(gitrepo, "check", "--base", "main") == 1  # the merge forks


# Review of the rename guard: it looked for renames only when it stored a result, and only
# in HEAD's commit. Each case below stores a result where git sees no rename across the
# folder boundary, then changes only what no folder tree holds so that git does.
_DRAFT = "drafts/d1d1d1d1d1d1_x.py"
_MOVED = "migrations/versions/d1d1d1d1d1d1_x.py"
_DRAFT_BODY = 'revision = "d1d1d1d1d1d1"\ndown_revision = "a1a1a1a1a1a1"\n' + "".join(f"# {n}\n" for n in range(8))


def _draft_history(gitrepo) -> None:
    gitrepo.init_env(commit=False)
    gitrepo.add_revision("a1a1a1a1a1a1", None, message="base")
    gitrepo.write(_DRAFT, _DRAFT_BODY)
    gitrepo.commit("base, with a draft outside versions/")
    gitrepo.branch("feature")


def _main_edits_the_draft(gitrepo, worktree: bool = False) -> None:
    edited = _DRAFT_BODY.replace('"a1a1a1a1a1a1"', '"gone00000000"')
    if worktree:  # the index of this work tree stays as it is
        other = gitrepo.path.parent / "main-wt"
        gitrepo.git("worktree", "add", "-q", str(other), "main")
        (other / _DRAFT).write_text(edited)
        gitrepo.git("-C", str(other), "commit", "-q", "-am", "main: the draft edited")
        return
    gitrepo.checkout("main")
    gitrepo.write(_DRAFT, edited)
    gitrepo.commit("main: the draft edited")
    gitrepo.checkout("feature")


def _agrees_before_and_after_main_edits_the_draft(gitrepo) -> None:
    """The check passes, and fails once main edits the draft in a worktree of its own
    (this work tree's index stays as it is); with and without the cache alike."""
    time.sleep(2.1)
    assert _same_with_and_without_cache(gitrepo, "check", "--base", "main") == 0

    _main_edits_the_draft(gitrepo, worktree=True)
    time.sleep(2.1)

    assert _same_with_and_without_cache(gitrepo, "check", "--base", "main") == 1


def test_a_copy_that_a_later_commit_turns_into_a_rename_is_not_answered_from_the_cache(gitrepo):
    _draft_history(gitrepo)
    gitrepo.checkout("feature")
    gitrepo.write(_MOVED, _DRAFT_BODY)
    gitrepo.commit("feature: the draft copied into versions/")
    _main_edits_the_draft(gitrepo)
    time.sleep(2.1)
    assert _same_with_and_without_cache(gitrepo, "check", "--base", "main") == 0

    gitrepo.git("rm", "-q", _DRAFT)
    gitrepo.commit("feature: the draft deleted (git now sees a rename)")
    time.sleep(2.1)

    assert _same_with_and_without_cache(gitrepo, "check", "--base", "main") == 1


def test_a_copy_on_main_that_main_later_turns_into_a_rename_is_not_answered_from_the_cache(gitrepo):
    _draft_history(gitrepo)
    gitrepo.write(_MOVED, _DRAFT_BODY)
    gitrepo.commit("main: the draft copied into versions/")
    gitrepo.checkout("feature")
    gitrepo.write(_DRAFT, _DRAFT_BODY.replace('"a1a1a1a1a1a1"', '"gone00000000"'))
    gitrepo.commit("feature: the draft edited")
    time.sleep(2.1)
    assert _same_with_and_without_cache(gitrepo, "check", "--base", "main") == 0

    gitrepo.checkout("main")
    gitrepo.git("rm", "-q", _DRAFT)
    gitrepo.commit("main: the draft deleted (git now sees a rename)")
    gitrepo.checkout("feature")
    time.sleep(2.1)

    assert _same_with_and_without_cache(gitrepo, "check", "--base", "main") == 1


def test_a_rename_only_staged_is_seen_by_the_cache(gitrepo):
    _draft_history(gitrepo)
    gitrepo.checkout("feature")
    gitrepo.git("mv", _DRAFT, _MOVED)  # staged, not committed: the predicted merge has it
    _agrees_before_and_after_main_edits_the_draft(gitrepo)


def test_a_committed_deletion_and_an_untracked_copy_make_a_rename_the_cache_sees(gitrepo):
    _draft_history(gitrepo)
    gitrepo.checkout("feature")
    gitrepo.git("rm", "-q", _DRAFT)
    gitrepo.commit("feature: the draft deleted")
    gitrepo.write(_MOVED, _DRAFT_BODY)  # untracked: the predicted merge stages it
    _agrees_before_and_after_main_edits_the_draft(gitrepo)


def test_a_rename_git_s_rename_limit_hides_from_diff_tree_is_not_answered_from_the_cache(gitrepo):
    # diff-tree gives up looking for renames past 1000 x 1000 candidates and only warns;
    # git's merge looks at fewer candidates and finds the draft moved in.
    import random

    gitrepo.init_env(commit=False)
    gitrepo.add_revision("a1a1a1a1a1a1", None, message="base")
    gitrepo.write(_DRAFT, _DRAFT_BODY)
    rng = random.Random(1)
    for n in range(1010):
        gitrepo.write(f"old/o{n}.dat", "".join(rng.choice("abcdefghij\n") for _ in range(300)))
    gitrepo.commit("base")
    gitrepo.branch("feature")
    gitrepo.checkout("feature")
    moved = "migrations/versions/d1d1d1d1d1d1_moved.py"  # another name: git pairs same names before any limit
    gitrepo.git("mv", _DRAFT, moved)
    gitrepo.write(moved, '"""moved into versions"""\n' + _DRAFT_BODY)
    gitrepo.git("rm", "-rq", "old")
    for n in range(1010):
        gitrepo.write(f"new/n{n}.dat", "".join(rng.choice("klmnopqrst\n") for _ in range(300)))
    gitrepo.commit("feature: the draft moved in, the assets replaced")
    _agrees_before_and_after_main_edits_the_draft(gitrepo)


def test_a_staged_deletion_that_makes_a_rename_is_seen_by_the_express_lane(gitrepo):
    # A ticket's facts (commits, git status of the folders) do not change when the
    # index deletes a file outside the folders; the predicted merge, which starts from
    # the index, then sees the copy committed earlier as a rename.
    _draft_history(gitrepo)
    gitrepo.checkout("feature")
    gitrepo.write(_MOVED, _DRAFT_BODY)
    gitrepo.commit("feature: the draft copied into versions/")
    _main_edits_the_draft(gitrepo)
    time.sleep(2.1)
    assert _same_with_and_without_cache(gitrepo, "check", "--base", "main") == 0
    assert list((gitrepo.path / ".git" / "revgraph" / "express").iterdir())  # a ticket answers next

    gitrepo.git("rm", "-q", _DRAFT)
    time.sleep(2.1)

    assert _same_with_and_without_cache(gitrepo, "check", "--base", "main") == 1


def test_a_commit_outside_the_folders_keeps_the_result_once_git_shows_no_rename(repo):
    same_answer(repo.path, pristine=True)
    (repo.path / "NOTES.md").write_text("outside the versions folder\n")
    git(repo.path, "add", "NOTES.md")
    git(repo.path, "commit", "-qm", "a note")

    hit = cached_report(repo.path)  # another HEAD: its renames asked once, then stored with the result

    assert hit is not None
    assert cached_report(repo.path) is not None


def test_a_criss_cross_history_keeps_a_result_for_its_own_commits_only(gitrepo):
    # Two merge bases: git's merge works from a virtual one, whose renames no diff shows;
    # the result answers for the commits it was computed for, not for the next ones.
    gitrepo.init_env(commit=False)
    gitrepo.add_revision("a1a1a1a1a1a1", None, message="base")
    gitrepo.commit("base")
    gitrepo.branch("feature")
    gitrepo.write("main.txt", "main\n")
    main_side = gitrepo.commit("main: a file")
    gitrepo.checkout("feature")
    gitrepo.write("feature.txt", "feature\n")
    feature_side = gitrepo.commit("feature: a file")
    gitrepo.git("merge", "-q", "--no-edit", main_side)
    gitrepo.checkout("main")
    gitrepo.git("merge", "-q", "--no-edit", feature_side)
    gitrepo.checkout("feature")
    assert len(gitrepo.git("merge-base", "--all", "main", "feature").stdout.split()) == 2
    time.sleep(2.1)

    assert _same_with_and_without_cache(gitrepo, "check", "--base", "main") == 0
    assert cached_report(gitrepo.path) is not None
    gitrepo.write("notes.txt", "outside the versions folder\n")
    gitrepo.commit("feature: a note")

    assert cached_report(gitrepo.path) is None


# Found by a differential cache fuzzer after the per-pair proof: git's merge follows renames
# that no rename across the boundary in `diff-tree -M` shows. Each scenario is shell: the
# setup, a check whose result the cache keeps, then a change outside every folder tree.
_SHELL_PRELUDE = r'''
set -e
rev() { mkdir -p "$(dirname "$1")"; if [ "$3" = None ]; then d=None; else d="\"$3\""; fi
  printf '"""msg %s\n\nRevision ID: %s\nRevises: %s\n"""\nrevision = "%s"\ndown_revision = %s\n' "$2" "$2" "$3" "$2" "$d" > "$1"; }
'''
# main and feature each edit the same line of b1_x.py: a plain merge conflicts (RG103).
_BOTH_EDIT_B1 = r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\n' > alembic.ini
mkdir -p migrations/versions; echo "# env" > migrations/env.py
printf 'revision = "a1"\ndown_revision = None\n' > migrations/versions/a1_x.py
printf 'revision = "b1"\ndown_revision = "a1"\n' > migrations/versions/b1_x.py
git add -A; git commit -qm init; git branch feature
sed -i 's/^down_revision = "a1"/down_revision = "a1"  # main/' migrations/versions/b1_x.py; git commit -qam main
git checkout -q feature
sed -i 's/^down_revision = "a1"/down_revision = "a1"  # feat/' migrations/versions/b1_x.py; git commit -qam feat
'''
_SCENARIOS = {
    "base renames a folder holding a versions folder HEAD adds to (directory rename)": (r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\nversion_locations = %%(here)s/migrations/versions %%(here)s/app/versions\npath_separator = space\n' > alembic.ini
mkdir -p migrations app; echo "# env" > migrations/env.py
rev migrations/versions/a1_x.py a1 None
for i in 1 2 3; do seq 1 50 | sed "s/^/line $i /" > app/f$i.txt; done
git add -A; git commit -qm init
git checkout -q -b feature; rev app/versions/b1_x.py b1 a1; echo new > app/new.txt; git add -A; git commit -qm feat
git checkout -q main; rev migrations/versions/c1_x.py c1 a1; git add -A; git commit -qm c1; git checkout -q feature
''', r'''
git checkout -q main; mkdir src; git mv app src/app; git commit -qm mv; git checkout -q feature
'''),
    "a staged edit outside the folders pairs with a revision HEAD deleted": (r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\n' > alembic.ini
mkdir -p migrations lib; echo "# env" > migrations/env.py
rev migrations/versions/a1_x.py a1 None
rev migrations/versions/x_x.py x a1; seq 1 40 | sed 's/^/# body line /' >> migrations/versions/x_x.py
git add -A; git commit -qm init
git checkout -q -b feature; git rm -q migrations/versions/x_x.py
seq 1 40 | sed 's/^/print("unrelated") # /' > lib/x.py; rev migrations/versions/h1_x.py h1 a1; git add -A; git commit -qm feat
git checkout -q main; echo "# base edit" >> migrations/versions/x_x.py; git commit -qam edit; git checkout -q feature
''', r'''
git show main~1:migrations/versions/x_x.py > lib/x.py; git add lib/x.py
'''),
    "git's merge pairs a deleted file otherwise than diff-tree does": (r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\n' > alembic.ini
mkdir -p migrations/versions lib; echo "# env" > migrations/env.py
rev migrations/versions/a1_x.py a1 None
pad() { seq 1 20 | sed 's/^/# common pad line /'; }
{ printf '"""n1"""\nrevision = "n1"\ndown_revision = "a1"\n'; pad; seq 1 6 | sed 's/^/# x only /'; } > lib/x.py
{ printf '"""n1"""\nrevision = "n1"\ndown_revision = "a1"\n'; pad; seq 1 2 | sed 's/^/# old only /'; } > migrations/versions/o1_x.py
git add -A; git commit -qm init
git checkout -q -b feature; rev migrations/versions/h1_x.py h1 a1; git add -A; git commit -qm feat
git checkout -q main; git rm -q lib/x.py migrations/versions/o1_x.py
{ printf '"""n1"""\nrevision = "n1"\ndown_revision = "a1"\n'; pad; seq 1 2 | sed 's/^/# old only /'; echo "# new"; } > migrations/versions/n1_x.py
git add -A; git commit -qm "base: o1 -> n1"; git checkout -q feature
''', r'''
sed -i 's/^down_revision = "a1"/down_revision = "zz"/' lib/x.py; git commit -qam "HEAD edits lib/x.py"
'''),
    "a committed .gitattributes merges a file both sides changed (merge=union)": (r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\n' > alembic.ini
mkdir -p migrations/versions; echo "# env" > migrations/env.py
printf 'revision = "a1"\ndown_revision = None\n' > migrations/versions/a1_x.py
printf 'revision = "b1"\ndown_revision = "a1"\n' > migrations/versions/b1_x.py
"$PYTHON" -m revgraph lock >/dev/null  # a lock file: no .gitattributes is in the key for a missing one
git add -A; git commit -qm init; git branch feature
sed -i 's/^down_revision = "a1"/down_revision = "a1"  # main/' migrations/versions/b1_x.py; git commit -qam main
git checkout -q feature
sed -i 's/^down_revision = "a1"/down_revision = "a1"  # feat/' migrations/versions/b1_x.py; git commit -qam feat
''', r'''
echo '*.py merge=union' > .gitattributes; git add .gitattributes; git commit -qm attrs
'''),
    "the git directory's attributes merge a file both sides changed (merge=union)": (_BOTH_EDIT_B1 + r'''''', r'''
mkdir -p .git/info; echo '*.py merge=union' > .git/info/attributes
'''),
    "the repository's git config names an attributes file (merge=union)": (_BOTH_EDIT_B1 + r'''echo '*.py merge=union' > ../attrs
''', r'''
git config core.attributesFile "$(cd .. && pwd)/attrs"
'''),
    "the attributes file the git config names gains merge=union": (_BOTH_EDIT_B1 + r''': > ../attrs; git config core.attributesFile ../attrs
''', r'''
echo '*.py merge=union' > ../attrs
'''),
    "the user's git config names an attributes file (merge=union)": (_BOTH_EDIT_B1 + r'''echo '*.py merge=union' > ../attrs
''', r'''
git config --global core.attributesFile "$(cd .. && pwd)/attrs"
'''),
    "a replace ref moves the merge base of the same two commits": (r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\n' > alembic.ini
mkdir -p migrations/versions lib; echo "# env" > migrations/env.py
printf 'revision = "a1"\ndown_revision = None\n' > migrations/versions/a1_x.py
git add -A; git commit -qm R; R=$(git rev-parse HEAD)
{ printf 'revision = "b1"\ndown_revision = "a1"\n'; seq 1 40 | sed 's/^/# pad /'; } > lib/x.py
git add -A; git commit -qm C0
Y=$(git commit-tree -p $R -m Y HEAD^{tree})
git checkout -q -b feature
sed -i 's/^down_revision = "a1"/down_revision = None/' lib/x.py; git commit -qam F1
git checkout -q main; git mv lib/x.py migrations/versions/b1_x.py; git commit -qm Bm; git checkout -q feature
git replace --graft HEAD $Y
''', r'''
git replace -d HEAD >/dev/null
'''),
    "a replace ref swaps a revision file's blob": (r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\n' > alembic.ini
mkdir -p migrations/versions; echo "# env" > migrations/env.py
rev migrations/versions/a1_x.py a1 None
git add -A; git commit -qm init; git branch feature
rev migrations/versions/b1_x.py b1 a1; git add -A; git commit -qm b1
git checkout -q feature; rev migrations/versions/c1_x.py c1 a1; git add -A; git commit -qm c1
''', r'''
rev ../b1alt.py b1 c1
git replace "$(git rev-parse main:migrations/versions/b1_x.py)" "$(git hash-object -w ../b1alt.py)"
'''),
    "recursive folders: an ignore rule keeps an untracked revision out of the merge": (r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\nrecursive_version_locations = true\n' > alembic.ini
mkdir -p migrations/versions/sub; echo "# env" > migrations/env.py
rev migrations/versions/a1_x.py a1 None
git add -A; git commit -qm init; git branch feature
rev migrations/versions/b1_x.py b1 a1; git add -A; git commit -qm b1
git checkout -q feature
rev migrations/versions/sub/c1_x.py c1 a1
''', r'''
mkdir -p .git/info; echo 'c1_x.py' > .git/info/exclude
'''),
    "recursive folders: a .gitattributes in a sub-folder merges a file both sides changed": (r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\nrecursive_version_locations = true\n' > alembic.ini
mkdir -p migrations/versions/sub; echo "# env" > migrations/env.py
rev migrations/versions/a1_x.py a1 None
printf 'revision = "b1"\ndown_revision = "a1"\n' > migrations/versions/sub/b1_x.py
git add -A; git commit -qm init; git branch feature
sed -i 's/^down_revision = "a1"/down_revision = "a1"  # main/' migrations/versions/sub/b1_x.py; git commit -qam main
git checkout -q feature
sed -i 's/^down_revision = "a1"/down_revision = "a1"  # feat/' migrations/versions/sub/b1_x.py; git commit -qam feat
''', r'''
echo '*.py merge=union' > migrations/versions/sub/.gitattributes
'''),
    "a symlinked .gitattributes (which git ignores) becomes a file of the same bytes": (r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\n' > alembic.ini
mkdir -p migrations/versions; echo "# env" > migrations/env.py
printf 'revision = "a1"\ndown_revision = None\n# line 1\n' > migrations/versions/a1_x.py
git add -A; git commit -qm init; git branch feature
sed -i 's/# line 1/# line 1 main/' migrations/versions/a1_x.py; git commit -qam m
git checkout -q feature; sed -i 's/# line 1/# line 1 feat/' migrations/versions/a1_x.py; git commit -qam f
echo '*.py merge=union' > ../ga; ln -s ../ga .gitattributes
''', r'''
rm .gitattributes; cp ../ga .gitattributes
'''),
    "a .gitattributes in the folder that only the index holds": (r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\n' > alembic.ini
mkdir -p migrations/versions; echo "# env" > migrations/env.py
F=migrations/versions/-a1_x.py
printf 'revision = "a1"\ndown_revision = None\n# line 1\n# line 2\n# line 3\n# line 4\n' > $F
git add -A; git commit -qm init; git branch feature
sed -i 's/# line 4/# line 4 main/' $F; git commit -qam m
git checkout -q feature
sed -i 's/# line 1/# line 1 feature/; s/$/\r/' $F
''', r'''
echo '*.py text' > migrations/versions/.gitattributes
git add migrations/versions/.gitattributes; rm migrations/versions/.gitattributes
'''),
    "another history whose .gitattributes only the index holds": (r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\n' > alembic.ini
mkdir -p migrations/versions; echo "# env" > migrations/env.py
F=migrations/versions/a1_x.py
printf 'revision = "a1"\ndown_revision = None\n# line 1\n# line 2\n# line 3\n# line 4\n' > $F
git add -A; git commit -qm init; R0=$(git rev-parse HEAD)
git checkout -q -b main1; sed -i 's/# line 4/# line 4 main/' $F; git commit -qam m
git checkout -q -b X $R0; echo '*.py text' > .gitattributes; git add .gitattributes; git commit -qm attrs
git checkout -q -b main2; sed -i 's/# line 4/# line 4 main/' $F; git commit -qam m
git branch -f main main1; git checkout -q -b feature1 $R0
sed -i 's/# line 1/# line 1 feature/; s/$/\r/' $F
''', r'''
git checkout -q -b feature2 X; rm .gitattributes; git branch -f main main2
'''),
    "a file created in a sub-folder of a flat versions folder (express lane)": (r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\n' > alembic.ini
mkdir -p migrations/versions; echo "# env" > migrations/env.py
printf 'revision = "a1"\ndown_revision = None\n' > migrations/versions/a1_x.py
git add -A; git commit -qm init; git branch feature
printf 'revision = "b1"\ndown_revision = "a1"\n' > migrations/versions/b1_x.py; git add -A; git commit -qm b1
git checkout -q feature
printf 'revision = "c1"\ndown_revision = "a1"\n' > migrations/versions/c1_x.py; git add -A; git commit -qm c1
mkdir migrations/versions/b1_x.py
''', r'''
touch migrations/versions/b1_x.py/x
'''),
    "an edit staged outside the folders, of a file base moved into them": (r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\n' > alembic.ini
mkdir -p migrations/versions lib; echo "# env" > migrations/env.py
printf 'revision = "a1"\ndown_revision = None\n' > migrations/versions/a1_x.py
printf 'revision = "c1"\ndown_revision = "a1"\n# 1\n# 2\n# 3\n# 4\n# 5\n# 6\n' > lib/c1_x.py
git add -A; git commit -qm init; git branch feature
git mv lib/c1_x.py migrations/versions/c1_x.py; git commit -qm "main: move into versions"
git checkout -q feature
''', r'''
sed -i 's/down_revision = "a1"/down_revision = "zz"/' lib/c1_x.py; git add lib/c1_x.py
'''),
    "a symlinked info/attributes whose target changes": (r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\n' > alembic.ini
mkdir -p migrations/versions; echo "# env" > migrations/env.py
printf 'revision = "a1"\ndown_revision = None\n# line 1\n' > migrations/versions/a1_x.py
git add -A; git commit -qm init; git branch feature
sed -i 's/# line 1/# line 1 main/' migrations/versions/a1_x.py; git commit -qam m
git checkout -q feature; sed -i 's/# line 1/# line 1 feat/' migrations/versions/a1_x.py; git commit -qam f
: > ../attrs; mkdir -p .git/info; ln -s "$(cd .. && pwd)/attrs" .git/info/attributes
''', r'''
echo '*.py merge=union' > ../attrs
'''),
}


@pytest.mark.parametrize("scenario", list(_SCENARIOS))
def test_a_change_outside_the_folders_that_git_s_merge_follows_in_is_not_answered_from_the_cache(
    tmp_path, git_env, scenario
):
    _assert_cache_follows(tmp_path / "repo", *_SCENARIOS[scenario])


def test_grafts_from_git_graft_file_are_not_answered_from_the_cache(tmp_path, git_env, monkeypatch):
    # QA: git reads grafts from the file GIT_GRAFT_FILE names, too; they move merge bases.
    # The express lane's ticket holds the variable, not the file: an edit of it went unseen.
    grafts = tmp_path / "grafts"
    grafts.write_text("")
    monkeypatch.setenv("GIT_GRAFT_FILE", str(grafts))
    setup = r'''
git init -q -b main .
printf '[alembic]\nscript_location = %%(here)s/migrations\n' > alembic.ini
mkdir -p migrations/versions; echo "# env" > migrations/env.py
rev migrations/versions/a1_x.py a1 None; rev migrations/versions/x1_x.py x1 a1
git add -A; git commit -qm init; git branch feature
git rm -q migrations/versions/x1_x.py; git commit -qm "main: x1 gone"
git checkout -q feature; rev migrations/versions/y1_x.py y1 x1; git add -A; git commit -qm "feature: y1"
'''
    change = 'git rev-parse HEAD > "$GIT_GRAFT_FILE"  # the feature commit, with no parents'
    _assert_cache_follows(tmp_path / "repo", setup, change)


@pytest.mark.parametrize("submodule", ["a submodule", "a bare gitlink"])
def test_a_file_where_the_index_holds_a_submodule_is_followed_when_edited_in_place(tmp_path, git_env, submodule):
    # QA: git status --ignore-submodules=all never listed the file that replaced a
    # submodule's folder, so an edit in place (same inode, the folder's mtime unmoved)
    # changed no part of the key.
    sub = tmp_path / "sub"
    entry = {
        "a submodule": f"git init -q -b main {sub}; git -C {sub} commit -q --allow-empty -m s\n"
                       f"git -c protocol.file.allow=always submodule add -q {sub} migrations/versions/s1_x.py\n"
                       "rm -rf migrations/versions/s1_x.py",
        "a bare gitlink": "git update-index --add --cacheinfo 160000,$(git rev-parse HEAD),migrations/versions/s1_x.py",
    }[submodule]
    setup = f"""
git init -q -b main .
printf '[alembic]\\nscript_location = %%(here)s/migrations\\n' > alembic.ini
mkdir -p migrations/versions; echo "# env" > migrations/env.py
rev migrations/versions/a1_x.py a1 None
git add -A; git commit -qm init
{entry}
git commit -qm gitlink; git checkout -q -b feature
rev migrations/versions/s1_x.py s1 a1
"""
    change = "rev migrations/versions/s1_x.py s1 zz  # rewritten in place: same inode, same folder"
    _assert_cache_follows(tmp_path / "repo", setup, change)


_UNION_BESIDE = "the repository's git config names an attributes file (merge=union)"  # ../attrs: merge=union


@pytest.mark.parametrize(
    ("extra_setup", "change"),
    [
        # QA: an included file naming core.attributesFile went unseen by the express lane.
        (': > ../inc; git config include.path "$(cd .. && pwd)/inc"',
         'printf \'[core]\\n\\tattributesFile = %s\\n\' "$(cd .. && pwd)/attrs" > ../inc'),
        # QA: includeIf "onbranch:" applies after a switch to a branch on the same commit.
        ('git branch feature2; printf \'[core]\\n\\tattributesFile = %s\\n\' "$(cd .. && pwd)/attrs" > ../inc\n'
         'git config includeIf.onbranch:feature2.path "$(cd .. && pwd)/inc"',
         "git checkout -q feature2"),
    ],
    ids=["include.path", "includeIf onbranch"],
)
def test_included_git_config_is_followed(tmp_path, git_env, extra_setup, change):
    setup = _SCENARIOS[_UNION_BESIDE][0] + extra_setup + "\n"
    _assert_cache_follows(tmp_path / "repo", setup, change)


def test_an_inactive_include_naming_an_unknown_user_s_home_keeps_the_cache(repo):
    # QA: `git config --type=path` expanded `~nosuchuser/x` of an includeIf whose
    # condition does not hold, failed (git itself never reads it), and the result cache
    # was off for good. An included `~/x` still counts (test_included_git_config_is_followed).
    git(repo.path, "config", "includeIf.gitdir:/nonexistent/.path", "~nosuchuser/x")
    same_answer(repo.path)
    assert cached_report(repo.path) is not None


def test_a_system_config_read_under_git_config_nosystem_0_is_in_the_key(tmp_path, git_env, monkeypatch):
    # QA: git reads GIT_CONFIG_NOSYSTEM as a boolean: "0" still reads the system file.
    system = tmp_path / "system-config"
    system.write_text("")
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", str(system))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "0")
    change = f'printf \'[core]\\n\\tattributesFile = %s\\n\' "$(cd .. && pwd)/attrs" > {system}'
    _assert_cache_follows(tmp_path / "repo", _SCENARIOS[_UNION_BESIDE][0], change)


def test_git_config_given_in_the_environment_is_part_of_the_key(tmp_path, git_env, monkeypatch):
    # QA: GIT_CONFIG_COUNT/KEY/VALUE (and `git -c`, GIT_CONFIG_PARAMETERS) name an
    # attributes file with merge=union: no part of the result cache's key moved.
    key = "the repository's git config names an attributes file (merge=union)"
    setup = _SCENARIOS[key][0]
    attrs = tmp_path / "attrs"  # the scenario writes '*.py merge=union' there (beside the repository)

    def configure() -> None:
        monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
        monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.attributesFile")
        monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(attrs))

    _assert_cache_follows(tmp_path / "repo", setup, configure)


def _assert_cache_follows(path: Path, setup: str, change) -> None:
    """``check --base main`` after ``setup``, then after ``change``: cached twice and with
    ``--no-cache``, each time the same answer; and ``change`` changed it. ``change``: a
    shell script, or a function (that sets a variable of the environment, say)."""
    path.mkdir()

    def shell(script: str) -> None:
        subprocess.run(["bash", "-c", _SHELL_PRELUDE + script], cwd=path, env={**os.environ, "PYTHON": sys.executable},
                       check=True, capture_output=True)  # fmt: skip

    def same() -> tuple:
        runs = [_run(path, "check", "--base", "main"), _run(path, "check", "--base", "main"),
                _run(path, "check", "--base", "main", cache=False)]  # fmt: skip
        assert len({(r.returncode, r.stdout) for r in runs}) == 1, [r.stdout for r in runs]
        return runs[0].returncode, runs[0].stdout

    shell(setup)
    time.sleep(2.1)
    before = same()
    change() if callable(change) else shell(change)
    time.sleep(2.1)

    assert same() != before  # (and the cache agreed with --no-cache on both)


def test_an_edit_staged_outside_the_folders_keeps_the_result(repo):
    # A pre-commit hook checks while application code is staged: an edit outside the
    # folders pairs with nothing when HEAD's side deleted no file, so the result stands.
    same_answer(repo.path, pristine=True)
    (repo.path / "app.py").write_text("print('app')\n")
    git(repo.path, "add", "app.py")
    git(repo.path, "commit", "-qm", "app")
    same_answer(repo.path)
    (repo.path / "app.py").write_text("print('app, edited')\n")
    git(repo.path, "add", "app.py")

    assert cached_report(repo.path) is not None
    (repo.path / "other.py").write_text("print('new')\n")
    git(repo.path, "add", "other.py")  # a file the index adds can be a rename's end
    assert cached_report(repo.path) is None


def test_replace_refs_kept_elsewhere_switch_the_caches_off(tmp_path, monkeypatch):
    # QA: GIT_REPLACE_REF_BASE moves replace refs out of refs/replace/, where revgraph looked.
    from revgraph import express

    (tmp_path / "refs").mkdir()
    monkeypatch.delenv("GIT_NO_REPLACE_OBJECTS", raising=False)
    monkeypatch.delenv("GIT_REPLACE_REF_BASE", raising=False)
    assert not express.object_replacements(str(tmp_path))
    monkeypatch.setenv("GIT_REPLACE_REF_BASE", "refs/alt/")
    assert express.object_replacements(str(tmp_path))
