"""Snapshots from the working tree, git refs, the index and predicted merges.

Real temporary git repositories (``gitrepo`` fixtures, git CLI in subprocesses);
alembic's own ``ScriptDirectory`` is the oracle for which files are revisions.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import py_compile
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revgraph.config import Environment
from revgraph.errors import GitError, UnknownRefError
from revgraph.model import ParseProblem, Revision, Span
from revgraph.parse import parse_revision
from revgraph.sources import cache as cache_module
from revgraph.sources.cache import ParseCache, ResultCache, cache_dir_for
from revgraph.sources.gitref import GitRepo, git_version
from revgraph.listing import COMPILED_REASON
from revgraph.sources.merged import (
    predict_merge,
    read_head_with_worktree,
    union_merge,
    worktree_commit,
)
from revgraph.sources.worktree import blob_id, read_worktree
from tests.support.revfiles import render_revision

V = "migrations/versions"


# ---------------------------------------------------------------- helpers
def env_for(*folders: Path, recursive: bool = False, sourceless: bool = False) -> Environment:
    return Environment(
        name="default",
        script_location=None,
        version_locations=tuple(folders),
        recursive=recursive,
        sourceless=sourceless,
    )


def ids(snapshot) -> list[str]:
    return sorted(rev.id for rev in snapshot.revisions)


def revision_text(rev_id: str, down=None, message: str = "step") -> str:
    return render_revision(rev_id, down, message=message, style="generic")


class CountingParser:
    """The real parser, counting its calls (to see cache hits)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, data: bytes, path: str, blob_id: str | None = None):
        self.calls.append(path)
        return parse_revision(data, path, blob_id)


def counting_cache(directory: Path | None) -> tuple[ParseCache, CountingParser]:
    parser = CountingParser()
    return ParseCache(directory, parser=parser, parser_version=1), parser


def git_state(repo) -> tuple[str, int, str, str]:
    """What a read must never change: status, index mtime, HEAD and the branch."""
    index = repo.path / ".git" / "index"
    return (
        repo.git("--no-optional-locks", "status", "--porcelain").stdout,
        index.stat().st_mtime_ns if index.exists() else 0,
        repo.git("rev-parse", "HEAD").stdout,
        repo.git("symbolic-ref", "-q", "HEAD", check=None).stdout,
    )


@pytest.fixture
def two_branches(gitrepo):
    """main: a <- b; feature (from b): c; main then adds d. HEAD on main."""
    gitrepo.write(f"{V}/a_first.py", revision_text("aaaa0001", None, "first"))
    gitrepo.write(f"{V}/b_second.py", revision_text("bbbb0002", "aaaa0001", "second"))
    gitrepo.commit("a and b")
    gitrepo.branch("feature")
    gitrepo.checkout("feature")
    gitrepo.write(f"{V}/c_feature.py", revision_text("cccc0003", "bbbb0002", "feature"))
    gitrepo.commit("c")
    gitrepo.checkout("main")
    gitrepo.write(f"{V}/d_main.py", revision_text("dddd0004", "bbbb0002", "main"))
    gitrepo.commit("d")
    return gitrepo


# ------------------------------------------------------------------- refs
def test_read_ref_gives_that_branchs_revisions_without_touching_worktree_or_index(two_branches):
    repo = two_branches
    # An uncommitted edit and a staged file must both survive the read.
    repo.write(f"{V}/e_wip.py", revision_text("eeee0005", "dddd0004"))
    repo.git("add", f"{V}/e_wip.py")
    repo.write("notes.txt", "untracked")
    before = git_state(repo)
    env = env_for(repo.path / V)
    with GitRepo(repo.path) as git:
        feature = git.read_ref(env, "feature")
        main = git.read_ref(env, "main")
    assert ids(feature) == ["aaaa0001", "bbbb0002", "cccc0003"]
    assert ids(main) == ["aaaa0001", "bbbb0002", "dddd0004"]
    assert git_state(repo) == before


def test_read_ref_records_commit_source_paths_and_git_blob_ids(two_branches):
    repo = two_branches
    env = env_for(repo.path / V)
    with GitRepo(repo.path) as git:
        snapshot = git.read_ref(env, "feature~0")
    assert snapshot.source == "feature~0"
    assert snapshot.commit == repo.rev_parse("feature")
    for rev in snapshot.revisions:
        expected = repo.git("rev-parse", f"feature:{rev.path}").stdout.strip()
        assert rev.blob_id == expected
        assert rev.path.startswith(f"{V}/")


def test_unknown_ref_raises_unknown_ref_error(two_branches):
    env = env_for(two_branches.path / V)
    with GitRepo(two_branches.path) as git:
        for ref in ("no-such-branch", "--all", "main:migrations", "HEAD~99"):
            with pytest.raises(UnknownRefError) as caught:
                git.read_ref(env, ref)
            assert caught.value.ref == ref
        assert not git.ref_exists("no-such-branch")
        assert git.ref_exists("feature")


def test_a_folder_outside_any_repository_is_not_a_git_repository(tmp_path, git_env):
    outside = tmp_path / "plain"
    outside.mkdir()
    with pytest.raises(GitError, match="not a git repository"):
        GitRepo(outside)


def test_repository_metadata_head_merge_base_and_refs(two_branches, tmp_path):
    repo = two_branches
    repo.git("branch", "topic/one")
    repo.git("branch", "topic/two")
    repo.git("tag", "v1")
    with GitRepo(repo.path / V) as git:
        assert git.root == repo.path.resolve()
        assert git.git_dir == (repo.path / ".git").resolve()
        assert git.common_dir == git.git_dir
        assert git.head_sha() == repo.head()
        assert git.merge_base("main", "feature") == repo.rev_parse("main~1")
        assert git.list_refs("topic/*") == ["topic/one", "topic/two"]
        assert git.list_refs("refs/tags/*") == ["v1"]
        assert not git.is_shallow()
        assert git.show("main", f"{V}/c_feature.py") is None
        assert git.show("main", f"{V}/d_main.py") == repo.read(f"{V}/d_main.py")
        # ":" is the index, as everywhere a ref is taken (what is staged, not on disk).
        staged = repo.read(f"{V}/d_main.py")
        repo.write(f"{V}/d_main.py", staged + b"# unstaged\n")
        assert git.show(":", f"{V}/d_main.py") == staged


def test_tree_ids_change_exactly_when_a_versions_folder_changes(two_branches):
    repo = two_branches
    repo.write("README", "unrelated change")
    repo.commit("readme")
    folders = [V, "migrations", "absent", ""]
    with GitRepo(repo.path) as git:
        now, before_readme, feature = (
            git.tree_ids(ref, folders) for ref in ("HEAD", "HEAD~1", "feature")
        )
        assert git.blob_ids("HEAD", [V]) == {
            path: repo.git("rev-parse", f"HEAD:{path}").stdout.strip()
            for path in repo.ls_files()
            if path.startswith(V)
        }
    assert now[0] == before_readme[0] == repo.git("rev-parse", f"HEAD:{V}").stdout.strip()
    assert now[0] != feature[0]
    assert now[2] is None
    assert now[3] == repo.git("rev-parse", "HEAD^{tree}").stdout.strip() != before_readme[3]


def test_show_reads_a_file_that_only_exists_on_another_branch(two_branches):
    repo = two_branches
    expected = repo.git("show", f"feature:{V}/c_feature.py").stdout.encode()
    with GitRepo(repo.path) as git:
        assert git.show("feature", f"{V}/c_feature.py") == expected


def test_a_repository_without_commits_has_no_head(gitrepo):
    with GitRepo(gitrepo.path) as git:
        assert git.head_sha() is None
        with pytest.raises(UnknownRefError):
            git.resolve("HEAD")


def test_shallow_clone_is_reported_shallow(two_branches, tmp_path):
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{two_branches.path}", str(clone)],
        check=True,
        capture_output=True,
    )
    with GitRepo(clone) as git:
        assert git.is_shallow()


def test_bare_repository_reads_refs_with_repository_relative_folders(two_branches, tmp_path):
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(two_branches.path), str(bare)], check=True)
    with GitRepo(bare) as git:
        assert git.root is None
        assert git.git_dir == bare.resolve()
        snapshot = git.read_ref(env_for(Path(V)), "feature")
        assert ids(snapshot) == ["aaaa0001", "bbbb0002", "cccc0003"]
        with pytest.raises(GitError, match="bare repository"):
            git.read_ref(env_for(two_branches.path / V), "feature")
        with pytest.raises(GitError, match="bare repository"):
            git.read_index(env_for(Path(V)))


def test_linked_worktree_reads_its_own_head_and_shares_the_common_dir(two_branches, tmp_path):
    repo = two_branches
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", str(linked), "feature")
    env = env_for(linked / V)
    with GitRepo(linked / V) as git:
        assert git.root == linked.resolve()
        assert git.common_dir == (repo.path / ".git").resolve()
        assert git.git_dir != git.common_dir
        assert ids(git.read_ref(env, "HEAD")) == ["aaaa0001", "bbbb0002", "cccc0003"]
        assert ids(git.read_ref(env, "main")) == ["aaaa0001", "bbbb0002", "dddd0004"]
        assert ids(read_head_with_worktree(git, env)) == ["aaaa0001", "bbbb0002", "cccc0003"]
    assert cache_dir_for(linked) == (repo.path / ".git" / "revgraph").resolve()


def test_a_pinned_repository_takes_head_from_its_discovery_in_every_layout(two_branches, make_gitrepo, tmp_path):
    """HEAD comes with the layout, from one `git rev-parse`, and the layout lines are
    what `express.DISCOVER` prints there, wherever `--show-cdup` prints nothing."""
    from revgraph import express

    repo = two_branches
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(bare)], check=True)
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", str(linked), "feature")
    main_sha, feature_sha = repo.rev_parse("main"), repo.rev_parse("feature")
    places = [
        (repo.path / V, main_sha, repo.path),
        (repo.path / ".git", main_sha, repo.path),  # outside the work tree: no cdup line
        (bare, main_sha, None),
        (linked, feature_sha, linked),
    ]
    for start, head, root in places:
        with GitRepo(start, pin=True) as git:
            assert git.head_sha() == head, start
            assert git.root == (root.resolve() if root else None)
            done = subprocess.run(express.DISCOVER, cwd=start, capture_output=True, check=True)
            assert git.discovery == (str(start.resolve()), done.stdout.decode().rstrip("\n"))
    # Pinned, HEAD keeps meaning what it meant when the repository was found.
    with GitRepo(repo.path, pin=True) as pinned, GitRepo(repo.path) as unpinned:
        repo.write("notes.txt", "moves HEAD")
        moved = repo.commit("after the discovery")
        assert (pinned.head_sha(), unpinned.head_sha()) == (main_sha, moved)
    unborn = make_gitrepo("unborn")
    with GitRepo(unborn.path, pin=True) as git:
        assert git.head_sha() is None and git.root == unborn.path.resolve()


def test_marked_entries_are_looked_for_again_only_when_the_index_changed(two_branches, monkeypatch):
    """A command looks for assume-unchanged / skip-worktree entries once per index:
    marking one rewrites the index, and then git is asked again."""
    from revgraph import express

    monkeypatch.setattr(express, "RACY_NS", 0)  # an index written a moment ago may vouch for itself
    repo = two_branches
    with GitRepo(repo.path) as git:
        assert git.marked_paths([V]) == []
        path = os.environ["PATH"]
        monkeypatch.setenv("PATH", "/nonexistent")  # no git to ask: the answer must be the known one
        git.prefetch_marked([V])
        assert git.marked_paths([V]) == []
        monkeypatch.setenv("PATH", path)
        repo.git("update-index", "--assume-unchanged", f"{V}/a_first.py")
        assert git.marked_paths([V]) == [f"{V}/a_first.py".encode()]
        repo.git("update-index", "--no-assume-unchanged", f"{V}/a_first.py")
        git.prefetch_marked([V])  # started while the index is as it is now
        assert git.marked_paths([V]) == []


def test_submodule_is_its_own_repository(two_branches, make_gitrepo):
    outer = make_gitrepo("outer")
    outer.write("README", "outer")
    outer.commit("outer")
    outer.git(
        "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(two_branches.path), "sub"
    )
    with GitRepo(outer.path / "sub" / V) as git:
        assert git.root == (outer.path / "sub").resolve()
        env = env_for(outer.path / "sub" / V)
        assert ids(git.read_ref(env, "HEAD")) == ["aaaa0001", "bbbb0002", "dddd0004"]


def test_paths_with_spaces_and_non_ascii_are_read_from_refs_index_and_disk(gitrepo):
    folder = "db migrations/versões"
    gitrepo.write(f"{folder}/a b é.py", revision_text("aaaa0001"))
    gitrepo.write(f"{folder}/\u65e5\u672c.py", revision_text("bbbb0002", "aaaa0001"))
    gitrepo.commit("odd names")
    env = env_for(gitrepo.path / folder)
    with GitRepo(gitrepo.path) as git:
        for snapshot in (
            git.read_ref(env, "HEAD"),
            git.read_index(env),
            read_worktree(env, gitrepo.path),
        ):
            assert ids(snapshot) == ["aaaa0001", "bbbb0002"], snapshot.source
            assert sorted(r.path for r in snapshot.revisions) == [
                f"{folder}/a b é.py", f"{folder}/\u65e5\u672c.py",
            ]  # fmt: skip
            assert not snapshot.problems


def test_recursive_locations_are_read_from_refs(gitrepo):
    gitrepo.write(f"{V}/a.py", revision_text("aaaa0001"))
    gitrepo.write(f"{V}/2024/b.py", revision_text("bbbb0002", "aaaa0001"))
    gitrepo.commit("nested")
    with GitRepo(gitrepo.path) as git:
        assert ids(git.read_ref(env_for(gitrepo.path / V), "HEAD")) == ["aaaa0001"]
        both = git.read_ref(env_for(gitrepo.path / V, recursive=True), "HEAD")
    assert ids(both) == ["aaaa0001", "bbbb0002"]


def test_symlinks_in_a_ref_are_followed_inside_the_repository(gitrepo):
    gitrepo.write(f"{V}/a.py", revision_text("aaaa0001"))
    gitrepo.write("shared/b.py", revision_text("bbbb0002", "aaaa0001"))
    (gitrepo.path / V / "alias.py").symlink_to("a.py")
    (gitrepo.path / V / "b.py").symlink_to("../../shared/b.py")
    (gitrepo.path / V / "out.py").symlink_to("../../../outside.py")
    (gitrepo.path / V / "self.py").symlink_to("self.py")
    gitrepo.commit("links")
    with GitRepo(gitrepo.path) as git:
        snapshot = git.read_ref(env_for(gitrepo.path / V), "HEAD")
    assert sorted((r.id, r.path) for r in snapshot.revisions) == [
        ("aaaa0001", f"{V}/a.py"),  # alias.py is the same file, read once as alembic does
        ("bbbb0002", "shared/b.py"),
    ]
    assert sorted(p.path for p in snapshot.problems) == [f"{V}/out.py", f"{V}/self.py"]


def test_a_pyc_only_revision_in_a_ref_is_reported_not_read(gitrepo):
    gitrepo.write(f"{V}/a.py", revision_text("aaaa0001"))
    gitrepo.write(f"{V}/b.pyc", b"\x00compiled")
    gitrepo.commit("pyc")
    with GitRepo(gitrepo.path) as git:
        plain = git.read_ref(env_for(gitrepo.path / V), "HEAD")
        sourceless = git.read_ref(env_for(gitrepo.path / V, sourceless=True), "HEAD")
    assert ids(plain) == ids(sourceless) == ["aaaa0001"]
    assert not plain.problems
    assert [(p.path, p.reason) for p in sourceless.problems] == [(f"{V}/b.pyc", COMPILED_REASON)]


def test_huge_files_are_problems_not_reads(gitrepo):
    big = b"revision = 'x'\n" + b"#" * (6 * 1024 * 1024)
    gitrepo.write(f"{V}/big.py", big)
    gitrepo.write(f"{V}/a.py", revision_text("aaaa0001"))
    gitrepo.commit("big")
    env = env_for(gitrepo.path / V)
    with GitRepo(gitrepo.path) as git:
        from_ref = git.read_ref(env, "HEAD")
    from_disk = read_worktree(env, gitrepo.path)
    for snapshot in (from_ref, from_disk):
        assert ids(snapshot) == ["aaaa0001"]
        [problem] = snapshot.problems
        assert problem.path == f"{V}/big.py"
        assert problem.reason == "file too large to be a revision (6.0 MB)"


def test_many_blob_requests_stream_through_one_process_and_resync_after_an_early_stop(gitrepo):
    # Requests and answers both exceed a pipe buffer (64 KiB): a naive
    # write-all-then-read would deadlock here.
    contents = [(f"blob {i} " * 40).encode() for i in range(1500)]
    stream = b"".join(
        b"blob\nmark :%d\ndata %d\n%s\n" % (i + 1, len(c), c) for i, c in enumerate(contents)
    )
    marks = gitrepo.path / "marks"
    subprocess.run(
        ["git", "fast-import", "--quiet", f"--export-marks={marks}"],
        input=stream, cwd=gitrepo.path, check=True,
    )  # fmt: skip
    by_mark = dict(line.split() for line in marks.read_text().splitlines())
    oids = [by_mark[f":{i + 1}"] for i in range(len(contents))]
    with GitRepo(gitrepo.path) as git:
        stream = git.blobs(oids)
        first = [next(stream) for _ in range(10)]
        stream.close()  # stop early: the rest must be drained, not mixed into the next read
        again = list(git.blobs(oids))
        process = git._cat._proc
        assert [b.data for b in list(git.blobs(oids[:3]))] == contents[:3]
        assert git._cat._proc is process  # one long-lived cat-file per repository
    assert [b.data for b in first] == contents[:10]
    assert [b.data for b in again] == contents
    assert [b.oid for b in again] == oids
    missing = "0" * 40
    with GitRepo(gitrepo.path) as git:
        assert [b.status for b in git.blobs([missing, oids[0]])] == ["missing", "ok"]


def test_read_tree_reads_a_tree_object_under_a_label(two_branches):
    repo = two_branches
    tree = repo.git("rev-parse", "feature^{tree}").stdout.strip()
    with GitRepo(repo.path) as git:
        snapshot = git.read_tree(env_for(repo.path / V), tree, "feature's tree")
        with pytest.raises(UnknownRefError):
            git.read_tree(env_for(repo.path / V), "0" * 40, "nothing")
    assert snapshot.source == "feature's tree" and snapshot.commit is None
    assert ids(snapshot) == ["aaaa0001", "bbbb0002", "cccc0003"]


# ------------------------------------------------------------------ index
def test_read_index_sees_staged_but_not_unstaged_changes(two_branches):
    repo = two_branches
    repo.write(f"{V}/e_staged.py", revision_text("eeee0005", "dddd0004"))
    repo.git("add", f"{V}/e_staged.py")
    repo.write(f"{V}/f_unstaged.py", revision_text("ffff0006", "eeee0005"))
    before = git_state(repo)
    env = env_for(repo.path / V)
    with GitRepo(repo.path) as git:
        staged = git.read_index(env)
        assert git.conflicted_paths() == []
    assert staged.source == "index"
    assert ids(staged) == ["aaaa0001", "bbbb0002", "dddd0004", "eeee0005"]
    assert git_state(repo) == before


def test_a_conflicted_merge_exposes_its_conflicted_paths(gitrepo):
    gitrepo.write(f"{V}/a.py", revision_text("aaaa0001"))
    gitrepo.commit("a")
    gitrepo.branch("other")
    gitrepo.write(f"{V}/a.py", revision_text("aaaa0001", message="ours"))
    gitrepo.commit("ours")
    gitrepo.checkout("other")
    gitrepo.write(f"{V}/a.py", revision_text("aaaa0001", message="theirs"))
    gitrepo.commit("theirs")
    gitrepo.checkout("main")
    gitrepo.merge("other", expect_conflict=True)
    env = env_for(gitrepo.path / V)
    with GitRepo(gitrepo.path) as git:
        assert git.conflicted_paths() == [f"{V}/a.py"]
        assert git.conflicted_paths([V]) == [f"{V}/a.py"]
        assert git.conflicted_paths(["elsewhere"]) == []
        assert ids(git.read_index(env)) == []  # no stage-0 entry while conflicted


# ------------------------------------------------------------ working tree
def test_worktree_reads_uncommitted_edits_outside_git_too(tmp_path):
    folder = tmp_path / "project" / V
    folder.mkdir(parents=True)
    (folder / "a.py").write_text(revision_text("aaaa0001"))
    (folder / "b.py").write_text(revision_text("bbbb0002", "aaaa0001"))
    snapshot = read_worktree(env_for(folder), tmp_path / "project")
    assert snapshot.source == "worktree" and snapshot.commit is None
    assert ids(snapshot) == ["aaaa0001", "bbbb0002"]
    assert sorted(r.path for r in snapshot.revisions) == [f"{V}/a.py", f"{V}/b.py"]


def test_worktree_blob_ids_are_gits(gitrepo):
    path = gitrepo.write(f"{V}/a.py", revision_text("aaaa0001"))
    [rev] = read_worktree(env_for(gitrepo.path / V), gitrepo.path).revisions
    assert rev.blob_id == gitrepo.git("hash-object", str(path)).stdout.strip()
    assert blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_a_missing_versions_folder_gives_an_empty_snapshot(tmp_path):
    snapshot = read_worktree(env_for(tmp_path / "nowhere"), tmp_path)
    assert snapshot.revisions == () and snapshot.problems == ()


def test_worktree_symlink_loops_broken_links_and_escapes_are_problems(tmp_path):
    root = tmp_path / "project"
    folder = root / V
    folder.mkdir(parents=True)
    (folder / "a.py").write_text(revision_text("aaaa0001"))
    (tmp_path / "secret.py").write_text(revision_text("ssss0009"))
    (folder / "loop1.py").symlink_to("loop2.py")
    (folder / "loop2.py").symlink_to("loop1.py")
    (folder / "broken.py").symlink_to("missing.py")
    (folder / "escape.py").symlink_to(tmp_path / "secret.py")
    (folder / "alias.py").symlink_to("a.py")
    (folder / "dirlink").symlink_to(folder)  # a folder symlink is never entered
    snapshot = read_worktree(env_for(folder, recursive=True), root)
    assert ids(snapshot) == ["aaaa0001"]
    problems = {p.path: p.reason for p in snapshot.problems}
    assert set(problems) == {f"{V}/{n}" for n in ("loop1.py", "loop2.py", "broken.py", "escape.py")}
    assert "leaves the repository" in problems[f"{V}/escape.py"]
    assert "cannot be followed" in problems[f"{V}/broken.py"]


def test_non_regular_and_unreadable_files_are_problems(tmp_path):
    folder = tmp_path / V
    folder.mkdir(parents=True)
    os.mkfifo(folder / "fifo.py")  # opening it would block forever
    (folder / "locked.py").write_text(revision_text("aaaa0001"))
    (folder / "locked.py").chmod(0)
    snapshot = read_worktree(env_for(folder), tmp_path)
    problems = {p.path: p.reason for p in snapshot.problems}
    assert problems[f"{V}/fifo.py"] == "not a regular file"
    if os.geteuid() != 0:  # root reads anything
        assert problems[f"{V}/locked.py"].startswith("cannot read file")


# ----------------------------------------------- listing vs alembic itself
def alembic_scripts(root: Path, folders: list[Path], *, recursive: bool, sourceless: bool):
    """(revision id, path relative to root) of every script alembic loads."""
    from alembic.script import ScriptDirectory

    old = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # importing must not add __pycache__ files
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "File ... loaded twice! ignoring." for overlaps
            scripts = ScriptDirectory(
                str(root),
                version_locations=[str(f) for f in folders],
                recursive_version_locations=recursive,
                sourceless=sourceless,
            )
            return {
                (s.revision, Path(s.path).resolve().relative_to(root.resolve()).as_posix())
                for s in scripts.walk_revisions()
            }
    finally:
        sys.dont_write_bytecode = old


def revgraph_scripts(snapshot) -> set[tuple[str, str]]:
    found = {(r.id, r.path) for r in snapshot.revisions}
    for problem in snapshot.problems:
        assert problem.reason == COMPILED_REASON, problem
        found.add((_id_for(problem.path), problem.path))
    return found


def _id_for(relative: str) -> str:
    return "r" + hashlib.sha1(relative.encode()).hexdigest()[:10]


def write_revision_file(root: Path, relative: str) -> None:
    """A valid revision whose id derives from its path (a .pyc is compiled from source)."""
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    source = f"revision = {_id_for(relative)!r}\ndown_revision = None\n"
    if relative.endswith(".pyc"):
        scratch = root.parent / "scratch.py"
        scratch.write_text(source)
        py_compile.compile(str(scratch), cfile=str(target), doraise=True)
    else:
        target.write_text(source)


ODD_NAMES = [
    f"{V}/a1.py",
    f"{V}/_x.py",
    f"{V}/.#y.py",
    f"{V}/__init__.py",
    f"{V}/__init__helper.py",
    f"{V}/notes.txt",
    f"{V}/Makefile",
    f"{V}/z.py.orig",
    f"{V}/sub/dir/z.py",
    f"{V}/sub/b2.py",
    f"{V}/__pycache__/c3.py",
    f"{V}/a b.py",
]


@pytest.mark.parametrize("recursive", [False, True])
def test_worktree_listing_loads_what_alembic_loads_for_odd_names(tmp_path, recursive):
    root = tmp_path / "project"
    for relative in ODD_NAMES:
        write_revision_file(root, relative)
    env = env_for(root / V, recursive=recursive)
    ours = revgraph_scripts(read_worktree(env, root))
    assert ours == alembic_scripts(root, [root / V], recursive=recursive, sourceless=False)
    assert (_id_for(f"{V}/_x.py"), f"{V}/_x.py") in ours


@st.composite
def folder_trees(draw):
    folders = ["", "sub", "sub/deep", "__pycache__", "other", "x__pycache__"]
    names = ["a.py", "b.py", "_c.py", ".#d.py", "__init__.py", "e.pyc", "a.pyc", "f.txt", "g h.py"]
    chosen = set()
    for _ in range(draw(st.integers(1, 10))):
        folder = draw(st.sampled_from(folders))
        name = draw(st.sampled_from(names))
        if folder.endswith("__pycache__") and name.endswith(".pyc"):
            name = name.replace(".pyc", ".cpython-3x.pyc")
        chosen.add(f"{V}/{folder}/{name}" if folder else f"{V}/{name}")
    return sorted(chosen)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=folder_trees(), recursive=st.booleans(), sourceless=st.booleans(), second=st.booleans())
def test_worktree_listing_matches_alembic_on_random_folders(
    tmp_path_factory, tree, recursive, sourceless, second
):
    root = tmp_path_factory.mktemp("tree") / "project"
    for relative in tree:
        write_revision_file(root, relative)
    (root / V).mkdir(parents=True, exist_ok=True)
    folders = [root / V] + ([root / V / "sub"] if second else [])  # overlapping locations
    env = env_for(*folders, recursive=recursive, sourceless=sourceless)
    ours = revgraph_scripts(read_worktree(env, root))
    assert ours == alembic_scripts(root, folders, recursive=recursive, sourceless=sourceless)


# -------------------------------------------------------- predicted merges
def test_predicted_merge_shows_both_branches_new_revisions(two_branches):
    repo = two_branches
    before = git_state(repo)
    env = env_for(repo.path / V)
    with GitRepo(repo.path) as git:
        predicted = predict_merge(git, env, "main", "feature", worktree=False)
        fallback = union_merge(git, env, "main", "feature")
    assert ids(predicted) == ids(fallback) == ["aaaa0001", "bbbb0002", "cccc0003", "dddd0004"]
    assert predicted.source == "merge of feature into main" and predicted.commit is None
    assert git_state(repo) == before
    repo.merge("feature")  # the prediction is what git then does
    assert ids(read_worktree(env, repo.path)) == ids(predicted)


def test_predicted_merge_of_a_conflicting_edit_keeps_both_sides(gitrepo):
    gitrepo.write(f"{V}/a.py", revision_text("aaaa0001"))
    gitrepo.commit("a")
    gitrepo.branch("other")
    gitrepo.write(f"{V}/a.py", revision_text("aaaa0001", message="ours"))
    gitrepo.commit("ours edits a")
    gitrepo.checkout("other")
    gitrepo.write(f"{V}/a.py", revision_text("aaaa0001", message="theirs"))
    gitrepo.write(f"{V}/b.py", revision_text("bbbb0002", "aaaa0001"))
    gitrepo.commit("theirs edits a, adds b")
    gitrepo.checkout("main")
    before = git_state(gitrepo)
    env = env_for(gitrepo.path / V)
    with GitRepo(gitrepo.path) as git:
        for snapshot in (
            predict_merge(git, env, "main", "other"),
            union_merge(git, env, "main", "other"),
        ):
            messages = sorted(r.message for r in snapshot.revisions if r.id == "aaaa0001")
            assert messages == ["ours", "theirs"]
            assert ids(snapshot) == ["aaaa0001", "aaaa0001", "bbbb0002"]
            assert not snapshot.problems  # no conflict markers read as a revision
    assert git_state(gitrepo) == before


def test_union_merge_takes_one_sided_deletions_and_edits(gitrepo):
    gitrepo.write(f"{V}/a.py", revision_text("aaaa0001"))
    gitrepo.write(f"{V}/b.py", revision_text("bbbb0002", "aaaa0001"))
    gitrepo.commit("a b")
    gitrepo.branch("other")
    gitrepo.remove(f"{V}/b.py")
    gitrepo.commit("ours deletes b")
    gitrepo.checkout("other")
    gitrepo.write(f"{V}/a.py", revision_text("aaaa0001", message="edited"))
    gitrepo.commit("theirs edits a")
    gitrepo.checkout("main")
    with GitRepo(gitrepo.path) as git:
        env = env_for(gitrepo.path / V)
        merged = union_merge(git, env, "main", "other")
        predicted = predict_merge(git, env, "main", "other")
    for snapshot in (merged, predicted):
        assert [(r.id, r.message) for r in snapshot.revisions] == [("aaaa0001", "edited")]


@pytest.mark.skipif(git_version() < (2, 38), reason="merge-tree --write-tree needs git 2.38")
def test_predicted_merge_counts_uncommitted_changes_as_head_and_leaves_the_index_alone(
    two_branches,
):
    repo = two_branches
    repo.write(f"{V}/e_wip.py", revision_text("eeee0005", "dddd0004"))  # untracked
    repo.remove(f"{V}/d_main.py")  # deleted, unstaged
    repo.write(f"{V}/a_first.py", revision_text("aaaa0001", message="edited"))
    repo.git("add", f"{V}/a_first.py")  # staged edit
    before = git_state(repo)
    env = env_for(repo.path / V)
    with GitRepo(repo.path) as git:
        with_edits = predict_merge(git, env, "HEAD", "feature")
        committed_only = predict_merge(git, env, "HEAD", "feature", worktree=False)
        assert worktree_commit(git, env) == worktree_commit(git, env)  # deterministic
    assert ids(with_edits) == ["aaaa0001", "bbbb0002", "cccc0003", "eeee0005"]
    assert [r.message for r in with_edits.revisions if r.id == "aaaa0001"] == ["edited"]
    assert ids(committed_only) == ["aaaa0001", "bbbb0002", "cccc0003", "dddd0004"]
    assert git_state(repo) == before


def test_head_with_worktree_is_the_working_tree_with_heads_commit(two_branches):
    repo = two_branches
    repo.write(f"{V}/e_wip.py", revision_text("eeee0005", "dddd0004"))
    with GitRepo(repo.path) as git:
        snapshot = read_head_with_worktree(git, env_for(repo.path / V))
    assert snapshot.commit == repo.head()
    assert ids(snapshot) == ["aaaa0001", "bbbb0002", "dddd0004", "eeee0005"]


# ------------------------------------------------------------------ caches
def test_parse_cache_hit_avoids_reparsing_across_refs_and_processes(two_branches, tmp_path):
    repo = two_branches
    env = env_for(repo.path / V)
    cache, parser = counting_cache(tmp_path / "cache")
    with GitRepo(repo.path) as git:
        git.read_ref(env, "main", cache=cache)
        assert len(parser.calls) == 3
        git.read_ref(env, "feature", cache=cache)  # a and b are shared: only c is new
        assert parser.calls[3:] == [f"{V}/c_feature.py"]
        cache.save()
        fresh, fresh_parser = counting_cache(tmp_path / "cache")  # another process, same disk
        snapshot = git.read_ref(env, "feature", cache=fresh)
    assert fresh_parser.calls == []
    assert ids(snapshot) == ["aaaa0001", "bbbb0002", "cccc0003"]
    assert {r.path for r in snapshot.revisions} == {
        f"{V}/a_first.py", f"{V}/b_second.py", f"{V}/c_feature.py",
    }  # fmt: skip


def test_worktree_reads_hit_the_cache_filled_by_refs(two_branches, tmp_path):
    repo = two_branches
    env = env_for(repo.path / V)
    cache, parser = counting_cache(tmp_path / "cache")
    with GitRepo(repo.path) as git:
        from_ref = git.read_ref(env, "HEAD", cache=cache)
    calls = len(parser.calls)
    from_disk = read_worktree(env, repo.path, cache=cache)
    assert len(parser.calls) == calls
    assert from_disk.revisions == from_ref.revisions


def test_unchanged_worktree_files_are_not_rehashed_but_edited_ones_are(tmp_path, monkeypatch):
    from revgraph.sources import worktree

    folder = tmp_path / V
    folder.mkdir(parents=True)
    target = folder / "a.py"
    target.write_text(revision_text("aaaa0001", message="one"))
    monkeypatch.setattr(cache_module.StatCache, "RACY_SECONDS", 0.0)
    hashed: list[int] = []
    real_blob_id = worktree.blob_id
    monkeypatch.setattr(worktree, "blob_id", lambda *args: hashed.append(1) or real_blob_id(*args))
    env = env_for(folder)

    def read():
        with ParseCache(tmp_path / "c") as cache:  # a fresh process each time
            return read_worktree(env, tmp_path, cache=cache)

    read()
    assert len(hashed) == 1
    again = read()
    assert len(hashed) == 1  # identity unchanged: the stored blob id was used
    stamp = target.stat()
    time.sleep(0.05)  # past the file system's timestamp granularity (RACY_SECONDS is 0 here)
    target.write_text(revision_text("aaaa0001", message="two"))  # same size
    os.utime(target, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # even with the old mtime
    edited = read()
    assert len(hashed) == 2
    assert [r.message for r in again.revisions] == ["one"]
    assert [r.message for r in edited.revisions] == ["two"]


def test_files_modified_just_now_are_not_trusted_to_their_stat(tmp_path):
    folder = tmp_path / V
    folder.mkdir(parents=True)
    (folder / "a.py").write_text(revision_text("aaaa0001"))
    with ParseCache(tmp_path / "c") as cache:
        read_worktree(env_for(folder), tmp_path, cache=cache)
    assert list((tmp_path / "c").glob("cache-v*.parse"))  # the parse result was kept
    assert not cache_module.StatCache(tmp_path / "c")._stored()


def test_same_content_at_two_paths_is_parsed_once_and_placed_at_each(tmp_path):
    folder = tmp_path / V
    folder.mkdir(parents=True)
    (folder / "one.py").write_text(revision_text("aaaa0001"))
    (folder / "two.py").write_text(revision_text("aaaa0001"))
    cache, parser = counting_cache(None)
    snapshot = read_worktree(env_for(folder), tmp_path, cache=cache)
    assert len(parser.calls) == 1
    assert [r.path for r in snapshot.revisions] == [f"{V}/one.py", f"{V}/two.py"]


def test_a_file_named_for_its_id_is_not_shared_with_a_copy_under_another_name(tmp_path):
    folder = tmp_path / V
    folder.mkdir(parents=True)
    legacy = b"down_revision = None\n"  # alembic 0.1: the id is the file name
    (folder / "abc123.py").write_bytes(legacy)
    (folder / "def456.py").write_bytes(legacy)
    (folder / "not_hex.py").write_bytes(legacy)
    for _ in range(2):  # cold, then from the cache
        with ParseCache(tmp_path / "c") as cache:
            snapshot = read_worktree(env_for(folder), tmp_path, cache=cache)
        assert ids(snapshot) == ["abc123", "def456"]
        assert [p.path for p in snapshot.problems] == [f"{V}/not_hex.py"]


def test_a_corrupt_or_truncated_cache_file_is_ignored_and_rebuilt(two_branches, tmp_path):
    repo = two_branches
    env = env_for(repo.path / V)
    directory = tmp_path / "cache"
    with GitRepo(repo.path) as git:
        cache, _ = counting_cache(directory)
        git.read_ref(env, "main", cache=cache)
        cache.save()
        stored = cache.path
        good = stored.read_bytes()
        for damage in (good[: len(good) // 2], b"garbage", b"", good[:-1] + b"\x00"):
            stored.write_bytes(damage)
            cache, parser = counting_cache(directory)
            assert ids(git.read_ref(env, "main", cache=cache)) == [
                "aaaa0001",
                "bbbb0002",
                "dddd0004",
            ]
            assert len(parser.calls) == 3  # nothing usable was read
            cache.save()
            again, again_parser = counting_cache(directory)
            git.read_ref(env, "main", cache=again)
            assert again_parser.calls == []  # the rewrite healed it


def test_a_cache_written_by_another_parser_version_is_not_used(tmp_path):
    folder = tmp_path / V
    folder.mkdir(parents=True)
    (folder / "a.py").write_text(revision_text("aaaa0001"))
    with ParseCache(tmp_path / "c", parser=CountingParser(), parser_version=1) as first:
        read_worktree(env_for(folder), tmp_path, cache=first)
    parser = CountingParser()
    read_worktree(
        env_for(folder), tmp_path, cache=ParseCache(tmp_path / "c", parser=parser, parser_version=2)
    )
    assert len(parser.calls) == 1


def _write_entries(directory: str, worker: int, rounds: int) -> None:
    for round_ in range(rounds):
        cache = ParseCache(Path(directory), parser=parse_revision, parser_version=1)
        for i in range(50):
            rid = f"w{worker}r{round_}n{i}"
            revision = Revision(rid, path="x.py", spans={"revision": Span(0, 1, 1)})
            cache.put(hashlib.sha1(rid.encode()).hexdigest(), revision)
        cache.save()


def test_concurrent_writers_leave_a_loadable_cache(tmp_path):
    directory = tmp_path / "cache"
    # Not fork: pytest-xdist's worker runs threads, and forking a threaded
    # process may deadlock the child (Python 3.12+ warns about it).
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    workers = [
        context.Process(target=_write_entries, args=(str(directory), w, 8)) for w in range(3)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
        assert process.exitcode == 0
    cache = ParseCache(directory, parser=parse_revision, parser_version=1)
    assert cache._stored(), "the file must load"

    def present(worker: int, round_: int) -> bool:
        keys = [hashlib.sha1(f"w{worker}r{round_}n{i}".encode()).hexdigest() for i in range(50)]
        return all(cache.get(key, "y.py") is not None for key in keys)

    # Whoever wrote last left its whole final round (and merged in what it found).
    assert any(present(worker, 7) for worker in range(3))
    assert not list(directory.glob(".*.tmp")), "no temp file left behind"


def _entry(rid: str) -> tuple[str, Revision]:
    return hashlib.sha1(rid.encode()).hexdigest(), Revision(rid, path="x.py", spans={"revision": Span(0, 1, 1)})


def test_a_save_merges_what_another_process_saved_and_rereads_only_then(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    with ParseCache(directory, parser=parse_revision, parser_version=1) as first:
        first.put(*_entry("one"))
    reads: list[Path] = []
    real = cache_module._read_bytes
    monkeypatch.setattr(cache_module, "_read_bytes", lambda path, *a: reads.append(Path(path)) or real(path, *a))
    mine = ParseCache(directory, parser=parse_revision, parser_version=1)
    assert mine.get(_entry("one")[0], "x.py") is not None  # loads the file: one read
    mine.put(*_entry("two"))
    mine.save()
    assert reads.count(mine.path) == 1  # nobody saved meanwhile: no second read to merge
    # Another process saves between our load and our save: its entry is kept.
    other = ParseCache(directory, parser=parse_revision, parser_version=1)
    other._stored()
    mine.put(*_entry("three"))
    time.sleep(0.01)
    other.put(*_entry("four"))
    other.save()
    mine.save()
    after = ParseCache(directory, parser=parse_revision, parser_version=1)
    for rid in ("one", "two", "three", "four"):
        assert after.get(_entry(rid)[0], "x.py") is not None, rid


def test_result_cache_round_trips_and_survives_corruption(tmp_path):
    results = ResultCache(tmp_path / "c")
    assert results.get("key-1") is None
    assert results.put("key-1", {"heads": ("a", "b")})
    assert ResultCache(tmp_path / "c").get("key-1") == {"heads": ("a", "b")}
    for stored in (tmp_path / "c" / "results").glob("*.pickle"):
        stored.write_bytes(stored.read_bytes()[:10])
    assert ResultCache(tmp_path / "c").get("key-1", "missing") == "missing"
    assert ResultCache(None).put("k", 1) is False


def test_result_cache_keeps_only_the_newest_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "_RESULTS_KEPT", 3)
    results = ResultCache(tmp_path / "c")
    for i in range(6):
        results.put(f"k{i}", i)
        stored = results._file(f"k{i}")
        os.utime(stored, (1000 + i, 1000 + i))
    results.put("k6", 6)
    fresh = ResultCache(tmp_path / "c")
    assert [fresh.get(f"k{i}") for i in range(7)] == [None, None, None, None, 4, 5, 6]


def test_cache_dir_is_in_the_git_common_dir_or_the_user_cache(gitrepo, tmp_path, monkeypatch):
    assert cache_dir_for(gitrepo.path / "some" / "folder") == gitrepo.path / ".git" / "revgraph"
    with GitRepo(gitrepo.path) as git:
        assert cache_dir_for(git) == (gitrepo.path / ".git" / "revgraph").resolve()
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir_for(plain) == tmp_path / "xdg" / "revgraph"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir_for(plain) == tmp_path / "home" / ".cache" / "revgraph"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")  # invalid per the XDG spec: ignored
    assert cache_dir_for(plain) == tmp_path / "home" / ".cache" / "revgraph"


def test_no_cache_directory_writes_nothing(tmp_path):
    folder = tmp_path / V
    folder.mkdir(parents=True)
    (folder / "a.py").write_text(revision_text("aaaa0001"))
    before = sorted(tmp_path.rglob("*"))
    snapshot = read_worktree(env_for(folder), tmp_path, cache=ParseCache(None))
    assert ids(snapshot) == ["aaaa0001"]
    assert sorted(tmp_path.rglob("*")) == before


def test_problems_are_cached_too_and_keep_their_path(tmp_path):
    folder = tmp_path / V
    folder.mkdir(parents=True)
    (folder / "bad.py").write_text("revision = 'x' +\n")
    for _ in range(2):
        cache, parser = counting_cache(tmp_path / "c")
        [problem] = read_worktree(env_for(folder), tmp_path, cache=cache).problems
        cache.save()
        assert isinstance(problem, ParseProblem) and problem.path == f"{V}/bad.py"
    assert parser.calls == []


def test_blobs_over_the_limit_are_refused_and_the_answers_after_them_stay_in_step(gitrepo):
    """An oversized blob is refused by its header (git's process is replaced, not drained)."""
    for i in range(3):
        gitrepo.write(f"f{i}.txt", f"small {i}\n")
    gitrepo.write("big.bin", "x" * 300_000)
    gitrepo.commit("files")
    with GitRepo(gitrepo.path) as git:
        requests = ["HEAD:f0.txt", "HEAD:big.bin", "HEAD:f1.txt", "HEAD:big.bin", "HEAD:f2.txt"]
        answers = list(git.blobs(requests, limit=1000))
        assert [a.status for a in answers] == ["ok", "too-large", "ok", "too-large", "ok"]
        assert [a.data for a in answers] == [b"small 0\n", None, b"small 1\n", None, b"small 2\n"]
        assert answers[1].size == 300_000

        # A reader that stops at the oversized answer leaves the handle usable.
        for answer in git.blobs(["HEAD:big.bin", "HEAD:f0.txt", "HEAD:f1.txt"], limit=1000):
            assert answer.status == "too-large"
            break
        again = list(git.blobs(["HEAD:f2.txt", "HEAD:big.bin"]))
        assert [a.data for a in again] == [b"small 2\n", b"x" * 300_000]
