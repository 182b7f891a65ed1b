"""A base found through ``origin/HEAD`` is named by the branch it points to.

With no base given, revgraph tries ``origin/HEAD`` first (PRODUCT §1). Users
know that branch as ``origin/main``: every message, fix command and title
says ``origin/main`` (``git merge origin/main``), in every format and
command. Which branch ``origin/HEAD`` names is no commit id: ``git remote
set-head`` re-points it, possibly to a branch at the very same commit, and
neither the result cache nor the express lane may then keep answering with
the old name. Real repositories: a bare origin and a clone of it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.support.gitrepo import GitRepo

ROOT, MAIN_NEW, FEATURE_NEW = "a0a0a0a0a0a0", "b2b2b2b2b2b2", "f1f1f1f1f1f1"
CHECK = ("check", "--format", "json")  # no --base: the default base


@pytest.fixture
def ours(make_gitrepo, tmp_path) -> GitRepo:
    """A clone (on ``feature``) whose origin has main and develop at one commit.

    main and feature each add a revision on ROOT: ``check`` finds RG102 and
    says to merge the base first. ``origin/HEAD`` points to ``origin/main``.
    """
    seed = make_gitrepo("seed")
    seed.init_env()
    seed.add_revision(ROOT, None, message="root")
    seed.commit("root")
    seed.branch("feature")
    seed.add_revision(MAIN_NEW, ROOT, message="main work")
    seed.commit("main adds a revision")
    seed.branch("develop")  # the same commit as main
    seed.checkout("feature")
    seed.add_revision(FEATURE_NEW, ROOT, message="feature work")
    seed.commit("feature adds a revision")
    seed.checkout("main")
    seed.git("clone", "-q", "--bare", str(seed.path), str(tmp_path / "origin.git"))
    ours = GitRepo(tmp_path / "origin.git", seed.env).clone(tmp_path / "ours")
    ours.checkout("feature")
    assert ours.git("symbolic-ref", "refs/remotes/origin/HEAD").stdout.strip() == "refs/remotes/origin/main"
    assert ours.rev_parse("origin/develop") == ours.rev_parse("origin/main")
    return ours


def check(repo: GitRepo, *args: str) -> dict:
    done = repo.run(*args, *CHECK)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


def rg102_fix(report: dict) -> str:
    (hit,) = [f for f in report["findings"] if f["code"] == "RG102"]
    return hit["fix"]


LANE = """
    import json, sys
    from revgraph import __version__, express
    from revgraph.resultcache import parse_check_argv
    opts = parse_check_argv(["-C", sys.argv[1], *sys.argv[2:]])
    found = express.answer(opts, __version__)
    print(json.dumps(found is not None))
"""


def lane_answers(repo: GitRepo) -> bool:
    """Whether the express lane has a ticket answering ``CHECK`` in ``repo`` now (it prints nothing)."""
    # From where GitRepo.run starts the CLI: a ticket is for one working directory.
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(LANE), str(repo.path), *CHECK],
                          cwd=repo.path.parent, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def cached_report(path: Path):
    """What the result cache holds for ``check`` (default base) now (None: a miss)."""
    from revgraph import api, resultcache

    resultcache._code_fingerprint = None  # as the CLI processes see revgraph's sources
    with api.Workspace(api.Options(cwd=path)) as ws:
        found = resultcache.probe(ws, base=None, select=(), ignore=())
        return found.report if found is not None else None


# ------------------------------------------------------------------ naming
def test_every_check_format_names_the_branch_origin_head_points_to(ours):
    report = check(ours, "--no-cache")
    assert report["base"] == "origin/main"
    assert rg102_fix(report) == "git merge origin/main; revgraph fix"
    for fmt in ("text", "github", "sarif", "junit", "markdown"):
        done = ours.run("--no-cache", "check", "--format", fmt)
        assert done.returncode == 1, done.stderr
        assert "git merge origin/main; revgraph fix" in done.stdout, (fmt, done.stdout)
        assert "origin/HEAD" not in done.stdout + done.stderr, (fmt, done.stdout)


def test_doctor_fix_graph_and_audit_name_the_branch_origin_head_points_to(ours):
    doctor = ours.run("--no-cache", "doctor")
    assert "fix: git merge origin/main; revgraph fix" in doctor.stdout, doctor.stdout
    fix = ours.run("fix", "--dry-run")  # main's revision is not in this branch yet: merge it first
    assert fix.returncode != 0
    assert "run `git merge origin/main` (or `git rebase origin/main`)" in fix.stderr, fix.stderr
    graph = ours.run("graph", "--format", "mermaid")
    assert "HEAD merged into origin/main" in graph.stdout, graph.stdout
    audit = ours.run("audit")
    assert audit.stdout.startswith("origin/main: "), audit.stdout
    for done in (doctor, fix, graph, audit):
        assert "origin/HEAD" not in done.stdout + done.stderr, done.stdout + done.stderr


def test_packed_refs_keep_the_name_and_an_origin_head_that_is_no_symbolic_ref_keeps_its_own(ours):
    ours.git("pack-refs", "--all")
    assert not (ours.path / ".git" / "refs" / "remotes" / "origin" / "main").exists()  # packed
    report = check(ours, "--no-cache")
    assert report["base"] == "origin/main" and rg102_fix(report) == "git merge origin/main; revgraph fix"
    # An ordinary ref (not a pointer to a branch), packed too: no branch to name it by.
    ours.git("update-ref", "--no-deref", "refs/remotes/origin/HEAD", ours.rev_parse("origin/main"))
    ours.git("pack-refs", "--all")
    assert not (ours.path / ".git" / "refs" / "remotes" / "origin" / "HEAD").exists()
    for _ in range(2):  # and a cached answer says the same
        report = check(ours)
        assert report["base"] == "origin/HEAD" and rg102_fix(report) == "git merge origin/HEAD; revgraph fix"


def test_an_origin_head_naming_a_gone_branch_is_skipped_and_named_among_those_tried(ours):
    ours.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/gone")
    assert check(ours, "--no-cache")["base"] == "main"  # the next default
    ours.git("branch", "-q", "-D", "main")
    ours.git("update-ref", "-d", "refs/remotes/origin/main")
    done = ours.run("--no-cache", *CHECK)
    assert done.returncode == 2
    assert "tried origin/HEAD (origin/gone), main, master, origin/main, origin/master" in done.stderr, done.stderr


def test_an_unset_origin_head_named_on_the_command_line_says_how_to_record_it(ours):
    # A clone of an empty repository, or a remote added by hand: no origin/HEAD,
    # and no fetch makes one. "did you fetch it?" and `git fetch origin HEAD:...` would mislead.
    ours.git("remote", "set-head", "origin", "--delete")
    for args in (("check", "--base", "origin/HEAD"), ("heads", "--ref", "origin/HEAD"), ("diff", "origin/HEAD")):
        done = ours.run(*args)
        assert done.returncode == 2, (args, done.stdout + done.stderr)
        assert "unknown ref 'origin/HEAD': this clone does not record origin's default branch" in done.stderr
        assert "hint: run `git remote set-head origin --auto`" in done.stderr, done.stderr
        assert "fetch" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    ours.git("remote", "set-head", "origin", "--auto")  # what the hint says
    done = ours.run("check", "--base", "origin/HEAD", "--format", "json")
    assert done.returncode == 1 and json.loads(done.stdout)["base"] == "origin/HEAD", done.stdout + done.stderr


# ------------------------------------------------------------------ caches
def test_re_pointing_origin_head_is_a_new_result_cache_key(ours):
    assert check(ours)["base"] == "origin/main"
    hit = cached_report(ours.path)
    assert hit is not None and hit.base == "origin/main"  # stored: the next check could answer from it
    ours.git("remote", "set-head", "origin", "develop")  # the same commit: no commit id moved
    assert cached_report(ours.path) is None
    report = check(ours)
    assert report["base"] == "origin/develop"
    assert rg102_fix(report) == "git merge origin/develop; revgraph fix"


def test_re_pointing_origin_head_is_not_answered_from_an_express_ticket(ours):
    time.sleep(2.1)  # files and folders old enough to vouch for their content: tickets are written
    for _ in range(2):
        assert check(ours)["base"] == "origin/main"
    assert lane_answers(ours)  # the lane would answer an unchanged state
    ours.git("remote", "set-head", "origin", "develop")  # the same commit: no commit id moved
    assert not lane_answers(ours)
    for _ in range(2):  # the second one may be answered by a ticket the first wrote
        report = check(ours)
        assert report["base"] == "origin/develop", report
        assert rg102_fix(report) == "git merge origin/develop; revgraph fix"
    assert lane_answers(ours)  # ... and the lane answers the new state again


def test_in_a_linked_worktree_origin_head_is_read_from_the_shared_refs(ours, tmp_path):
    ours.git("worktree", "add", "-q", "-b", "feature-copy", str(tmp_path / "wt"), "feature")
    wt = GitRepo(tmp_path / "wt", ours.env)
    time.sleep(2.1)  # old enough for tickets
    for _ in range(2):
        report = check(wt)
        assert report["base"] == "origin/main" and rg102_fix(report) == "git merge origin/main; revgraph fix"
    assert lane_answers(wt)
    wt.git("remote", "set-head", "origin", "develop")
    assert not lane_answers(wt)
    assert check(wt)["base"] == "origin/develop"


def test_symbolic_target_reads_the_file_and_asks_git_where_refs_are_no_files(ours):
    from revgraph.sources.gitref import GitRepo as Repo

    with Repo(ours.path) as repo:
        asked = []
        real = repo.git
        repo.git = lambda *args, **kw: asked.append(args[0]) or real(*args, **kw)
        assert repo.symbolic_target("refs/remotes/origin/HEAD") == "refs/remotes/origin/main"
        assert repo.symbolic_target("refs/remotes/origin/main") is None  # an ordinary ref
        assert repo.symbolic_target("refs/remotes/origin/nothing") is None
        assert asked == []  # files only
        (repo.common_dir / "reftable").mkdir()  # as a reftable repository looks: git is asked
        assert repo.symbolic_target("refs/remotes/origin/HEAD") == "refs/remotes/origin/main"
        assert repo.symbolic_target("refs/remotes/origin/main") is None
        assert asked == ["symbolic-ref", "symbolic-ref"]


def test_a_github_merge_queue_run_checks_against_the_queue_s_own_branch(make_gitrepo, tmp_path):
    # A tester: a merge_group run into release/1.x (GITHUB_BASE_REF empty) was checked
    # against origin/main: a false RG102 that stalled the queue.
    import os

    origin = make_gitrepo("origin")
    origin.init_env()
    origin.add_revision("aaaa00000001", None, message="root")
    origin.commit("root")
    origin.git("branch", "release/1.x")
    origin.add_revision("bbbb00000002", "aaaa00000001", message="main only")
    origin.commit("main moves on")
    origin.git("checkout", "-q", "-b", "queue", "release/1.x")
    origin.add_revision("cccc00000003", "aaaa00000001", message="the queued pull request")
    sha = origin.commit("queued")
    clone = origin.clone(tmp_path / "clone")
    clone.git("fetch", "-q", "origin", "release/1.x:refs/remotes/origin/release/1.x")
    clone.git("checkout", "-q", "--detach", sha)
    env = {**os.environ, "GITHUB_REF": f"refs/heads/gh-readonly-queue/release/1.x/pr-5-{sha}", "GITHUB_BASE_REF": ""}

    done = clone.run("check", "--format", "json", env=env, check=0)

    assert '"base": "origin/release/1.x"' in done.stdout


def test_a_configured_base_that_is_not_the_pull_request_s_target_is_said(gitrepo):
    # A tester: [tool.revgraph] base = "origin/main" (as the docs suggest) wins over
    # GITHUB_BASE_REF (PRODUCT §1); a pull request into release/1.x was checked against
    # main, "All good", and nothing said which base was used.
    import os

    gitrepo.init_env()
    gitrepo.add_revision("aaaa00000001", None, message="root")
    gitrepo.write("pyproject.toml", '[tool.revgraph]\nbase = "main"\n')
    gitrepo.commit("root")
    gitrepo.git("checkout", "-q", "-b", "feature")

    other = gitrepo.run("check", env={**os.environ, "GITHUB_BASE_REF": "release/1.x"}, check=0)
    same = gitrepo.run("check", env={**os.environ, "GITHUB_BASE_REF": "main"}, check=0)

    assert ("warning: checked against main ([tool.revgraph] base), but GITHUB_BASE_REF says this "
            "pull request targets release/1.x: pass --base origin/release/1.x") in other.stderr
    assert "warning" not in same.stderr
