"""``GitRepo.prefetch``: a command started early gives what running it later would give.

A cold ``check`` starts base's and the merge base's listings, the merge
prediction and the clean-tree test before it reads the working tree
(``api.checking._prefetch_git_reads``), so git works while Python parses. These tests
hold the prefetched answers against the same commands run plainly, on real
repositories, and show that each prefetched command is actually taken (no
second process) and that nothing is left running.
"""

from __future__ import annotations

import subprocess

import pytest

from revgraph import api
from revgraph.errors import GitError
from revgraph.sources import merged
from revgraph.sources.gitref import GitRepo
from tests.support.revfiles import render_revision

V = "migrations/versions"


def text(rev_id: str, down=None, message: str = "step") -> str:
    return render_revision(rev_id, down, message=message, style="generic")


def _counting_runs(monkeypatch) -> list[list[str]]:
    """Every git process ``GitRepo.git`` starts with subprocess.run (prefetches use Popen)."""
    runs: list[list[str]] = []
    real = subprocess.run

    def run(argv, *a, **k):
        runs.append(list(argv))
        return real(argv, *a, **k)

    monkeypatch.setattr(subprocess, "run", run)
    return runs


@pytest.fixture
def forked(gitrepo):
    """main and feature both add a revision on top of a shared one."""
    gitrepo.write(f"{V}/a.py", text("aaaa0001"))
    gitrepo.commit("start")
    gitrepo.branch("feature")
    gitrepo.write(f"{V}/b.py", text("bbbb0002", "aaaa0001"))
    gitrepo.commit("main adds b")
    gitrepo.checkout("feature")
    gitrepo.write(f"{V}/c.py", text("cccc0003", "aaaa0001"))
    gitrepo.commit("feature adds c")
    return gitrepo


@pytest.mark.parametrize("recursive", [False, True])
def test_a_tree_read_for_several_references_starts_each_command_once(forked, monkeypatch, recursive):
    from revgraph.config import Environment

    env = Environment(name="default", script_location=None, version_locations=(forked.path / V,),
                      recursive=recursive)  # fmt: skip
    started: list[str] = []
    real = GitRepo.prefetch
    monkeypatch.setattr(GitRepo, "prefetch", lambda self, *args: started.append(args[0]) or real(self, *args))
    with GitRepo(forked.path) as git:
        folders = git.folders(env)
        head, main = git.head_sha(), git.resolve("main")
        git.prefetch_tree_read(env, folders, main, head, None)
        git.prefetch_tree_read(env, folders, main, head, head)
    # Plain: a difference from HEAD and a full listing, then the same difference
    # again (a new prefetch asks again). Recursive: every read is a listing.
    assert started == (["ls-tree", "ls-tree"] if recursive else ["diff-tree", "ls-tree", "diff-tree"])


def test_a_prefetched_listing_is_the_listing_and_no_second_process_runs(forked, monkeypatch):
    with GitRepo(forked.path) as plain:
        expected = plain.ls_tree(plain.resolve("main"), [V])
    with GitRepo(forked.path) as git:
        sha = git.resolve("main")
        git.prefetch_ls_tree(sha, [V])
        runs = _counting_runs(monkeypatch)
        assert git.ls_tree(sha, [V]) == expected
        assert not any("ls-tree" in argv for argv in runs)
        assert git._prefetched == {}
        # Taken once: the next listing runs git again.
        assert git.ls_tree(sha, [V]) == expected
        assert any("ls-tree" in argv for argv in runs)


def test_a_prefetched_merge_prediction_equals_the_plain_one(forked):
    env = api.Workspace(api.Options(cwd=forked.path, versions=forked.path / V)).environments[0]
    with GitRepo(forked.path) as plain:
        expected = merged.predict_merge(plain, env, "HEAD", "main")
    with GitRepo(forked.path) as git:
        merged.prefetch_merge(git, git.folders(env), git.head_sha(), git.resolve("main"))
        assert len(git._prefetched) == 4  # clean test (2), marked entries, merge
        got = merged.predict_merge(git, env, "HEAD", "main")
        assert git._prefetched == {}  # the clean test, the marks and the merge were all taken
    assert sorted(r.id for r in got.revisions) == sorted(r.id for r in expected.revisions)
    assert sorted(r.id for r in got.revisions) == ["aaaa0001", "bbbb0002", "cccc0003"]


def test_a_failing_prefetched_command_fails_as_the_plain_one_does(forked):
    with GitRepo(forked.path) as git:
        git.prefetch("ls-tree", "-r", "no-such-tree-" + "0" * 10)
        with pytest.raises(GitError, match="git ls-tree failed"):
            git.git("ls-tree", "-r", "no-such-tree-" + "0" * 10)
        git.prefetch("merge-base", "0" * 40, "1" * 40)
        done = git.git("merge-base", "0" * 40, "1" * 40, ok=range(256))
        assert done.returncode != 0 and done.stderr


def test_a_prefetch_nobody_takes_is_waited_for_at_close(forked):
    git = GitRepo(forked.path)
    git.prefetch("status", "--porcelain")
    (proc, out, _err), = git._prefetched.values()
    git.close()
    assert proc.returncode == 0 and out.closed
    assert git._prefetched == {}


def test_an_uncommitted_edit_still_counts_when_the_merge_was_prefetched(forked):
    """The prefetched merge of HEAD is only used while the clean-tree test holds."""
    forked.write(f"{V}/d.py", text("dddd0004", "cccc0003"))  # untracked, not committed
    with api.Workspace(api.Options(cwd=forked.path, versions=forked.path / V)) as ws:
        report = api.check(ws, base="main")
        ctx = report.extras["contexts"]["default"]
    assert "dddd0004" in {r.id for r in ctx.merged.revisions}
    assert "dddd0004" in {r.id for r in ctx.head.revisions}


def test_check_prefetches_before_reading_the_working_tree(forked, monkeypatch):
    order: list[str] = []
    real_prefetch, real_read = GitRepo.prefetch, api.Workspace._read

    def prefetch(self, *args):
        order.append(f"prefetch {args[0]}")
        return real_prefetch(self, *args)

    def read(self, env, ref):
        order.append(f"read {ref or 'worktree'}")
        return real_read(self, env, ref)

    monkeypatch.setattr(GitRepo, "prefetch", prefetch)
    monkeypatch.setattr(api.Workspace, "_read", read)
    with api.Workspace(api.Options(cwd=forked.path, versions=forked.path / V, no_cache=True)) as ws:
        report = api.check(ws, base="main")
    assert order[: order.index("read worktree")] == [
        "prefetch diff-tree",  # base as its difference from HEAD (a clean tree, plain layout)
        "prefetch ls-tree",  # base in full (edits in the folders)
        "prefetch diff-index", "prefetch status", "prefetch ls-files", "prefetch merge-tree",
        "prefetch diff-tree",  # the merge base, as its difference from HEAD
        "prefetch diff-tree",  # ... or from base
    ]  # fmt: skip
    assert {f.code for f in report.findings} >= {"RG102"}


def test_a_prefetch_is_never_answered_from_an_older_one(forked):
    """git status differs over time: prefetching it again asks again, and a status the
    clean-tree test did not need (staged changes) is dropped, not kept for later."""
    env = api.Workspace(api.Options(cwd=forked.path, versions=forked.path / V)).environments[0]
    with GitRepo(forked.path) as git:
        folders = git.folders(env)
        git.prefetch(*merged._status_args(folders))
        git._prefetched[merged._status_args(folders)][0].wait()
        forked.write(f"{V}/d.py", text("dddd0004", "cccc0003"))  # untracked, after that status ran
        git.prefetch(*merged._status_args(folders))
        assert git.git(*merged._status_args(folders)).stdout  # the new file is seen
        assert git._prefetched == {}
        forked.git("add", f"{V}/d.py")  # staged: the clean test stops at diff-index
        merged.prefetch_merge(git, folders, git.head_sha(), git.resolve("main"))
        assert not merged._clean(git, folders)
        assert merged._status_args(folders) not in git._prefetched
        forked.git("reset", "-q")
        forked.remove(f"{V}/d.py")
        assert merged._clean(git, folders)  # asked afresh, not from the dropped status


def test_a_cached_check_asks_git_for_the_merge_base_and_each_commit_once(forked, monkeypatch):
    """The result cache's key, the prefetch and the read all need the merge base of
    base and HEAD, and the commits the key's cat-file already peeled: one answer each."""
    seen: list[list[str]] = []
    real_popen = subprocess.Popen.__init__

    def popen(self, argv, *a, **k):  # run() and prefetches alike
        seen.append(list(argv))
        return real_popen(self, argv, *a, **k)

    monkeypatch.setattr(subprocess.Popen, "__init__", popen)
    with api.Workspace(api.Options(cwd=forked.path, versions=forked.path / V)) as ws:
        api.check(ws, base="main")
    commands = [_subcommand(argv) for argv in seen if argv[0] == "git"]
    assert sum(c[:1] == ["merge-base"] for c in commands) == 1
    main, head = forked.rev_parse("main"), forked.rev_parse("HEAD")
    peels = [c for c in commands if c[:1] == ["rev-parse"] and c[-1] in (f"{main}^{{commit}}", f"{head}^{{commit}}")]
    assert peels == []
    # One state of the repository: HEAD and base are each asked once while the
    # context is built (seven and two times before), once more by the store.
    names = [c[-1] for c in commands if c[:1] == ["rev-parse"] and c[-1] in ("HEAD^{commit}", "main^{commit}")]
    assert names.count("HEAD^{commit}") <= 2 and names.count("main^{commit}") <= 2, names


def _subcommand(argv: list[str]) -> list[str]:
    """``git [-C dir] [--git-dir=..] [--work-tree=..] cmd args`` -> ``[cmd, args...]``."""
    rest = argv[1:]
    while rest and rest[0].startswith("-"):
        rest = rest[2:] if rest[0] == "-C" else rest[1:]
    return rest
