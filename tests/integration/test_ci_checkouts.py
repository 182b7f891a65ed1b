"""``check`` in the checkouts CI systems make: it never passes silently when it could
not compare the pull request with its target.

Found by running revgraph the way GitHub Actions, GitLab, Azure Pipelines and
container jobs do. Each case used to exit 0 ("All good") on a pull request
whose merge creates two heads, or failed on a clone that held the base:

- a checkout owned by another user, which git refuses ("dubious ownership"):
  revgraph read the files alone, as if outside git;
- git not installed beside a ``.git`` (a slim job image): the same;
- no ``.git`` at all (an exported tree) while a CI variable names the target;
- Azure Repos names the target as a ref (``refs/heads/main``);
- GitHub's ``pull_request_target`` checks out the target itself.

Real repositories: a bare origin, clones of it, the real CLI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.support.gitrepo import GitRepo, apply_environ

# The clone test_base_origin_head builds: on ``feature``, which adds a revision on ROOT
# while main (in origin/main) added another: merging it creates two heads.
from tests.integration.test_base_origin_head import ours  # noqa: E402,F401 - a shared fixture


@pytest.fixture
def clone(ours) -> GitRepo:  # noqa: F811
    return ours


def _with(repo: GitRepo, **changes: str | None) -> dict[str, str]:
    return apply_environ(changes, repo.env if repo.env is not None else os.environ)  # None: the isolated os.environ


def _no_traceback(done: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in done.stderr, done.stderr


def test_a_pull_request_that_forks_is_reported_through_each_ci_variable(clone):
    # The reference the cases below are held against: in a plain clone, RG102.
    for name, value in (("GITHUB_BASE_REF", "main"), ("SYSTEM_PULLREQUEST_TARGETBRANCH", "refs/heads/main")):
        done = clone.run("check", env=_with(clone, **{name: value}))
        assert done.returncode == 1, (name, done.stdout + done.stderr)
        assert "RG102" in done.stdout and "origin/main" in done.stdout, done.stdout
        _no_traceback(done)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="making another user's checkout needs root")
def test_a_checkout_git_refuses_as_another_user_s_is_an_error_with_git_s_remedy(clone):
    clone.run("check", env=_with(clone, GITHUB_BASE_REF="main"))  # a result in the cache, as on a runner
    for folder, _, files in os.walk(clone.path):
        for name in [".", *files]:
            os.chown(os.path.join(folder, name), 65534, 65534)  # nobody

    done = clone.run("check", env=_with(clone, GITHUB_BASE_REF="main"))

    assert done.returncode == 2, done.stdout + done.stderr
    assert "dubious ownership" in done.stderr
    assert "git config --global --add safe.directory" in done.stderr
    _no_traceback(done)
    heads = clone.run("heads")  # every command says it, not only check
    assert heads.returncode == 2 and "dubious ownership" in heads.stderr, heads.stdout + heads.stderr


def test_git_missing_beside_a_dot_git_is_an_error(clone, tmp_path):
    bare_path = tmp_path / "bin-without-git"
    bare_path.mkdir()
    env = _with(clone, GITHUB_BASE_REF="main", PATH=str(bare_path))

    done = subprocess.run([sys.executable, "-m", "revgraph", "check"], cwd=clone.path, env=env,
                          capture_output=True, text=True)  # fmt: skip

    assert done.returncode == 2, done.stdout + done.stderr
    assert "git is not available" in done.stderr and "install git" in done.stderr
    _no_traceback(done)


def test_without_git_a_ci_variable_naming_the_target_is_an_error_not_a_pass(clone, tmp_path):
    exported = tmp_path / "exported"
    shutil.copytree(clone.path, exported, ignore=shutil.ignore_patterns(".git"))
    plain = subprocess.run([sys.executable, "-m", "revgraph", "check"], cwd=exported, env=_with(clone),
                           capture_output=True, text=True)  # fmt: skip
    assert plain.returncode == 0, plain.stdout + plain.stderr  # the files alone: one head, as alembic sees them

    done = subprocess.run([sys.executable, "-m", "revgraph", "check"], cwd=exported,
                          env=_with(clone, GITHUB_BASE_REF="main"), capture_output=True, text=True)  # fmt: skip

    assert done.returncode == 2, done.stdout + done.stderr  # not the cached "All good" of the run above
    assert "GITHUB_BASE_REF names the base branch (main)" in done.stderr
    assert "not in a git repository" in done.stderr
    _no_traceback(done)


def test_a_checkout_of_the_target_itself_warns_that_nothing_was_checked(clone):
    clone.checkout("main")
    clone.git("reset", "-q", "--hard", "origin/main")
    env = _with(clone, GITHUB_BASE_REF="main", GITHUB_EVENT_NAME="pull_request_target")

    for _ in range(2):  # the second run too: a cached result still says it
        done = clone.run("check", env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "HEAD is origin/main itself" in done.stderr and "pull_request.head.sha" in done.stderr, done.stderr
    # -q hides the project's warnings, not this one; the cache changes nothing to it
    # (QA: with the cache, -q dropped it, even on the first run).
    said = {(args, done.stderr) for args in (("-q", "check"), ("-q", "check"), ("--no-cache", "-q", "check"))
            for done in [clone.run(*args, env=env)]}  # fmt: skip
    assert len({stderr for _, stderr in said}) == 1 and "HEAD is origin/main itself" in said.pop()[1]
    quiet = clone.run("check", env=_with(clone))  # no CI variable: a developer on main, nothing to say
    assert quiet.returncode == 0 and "HEAD is" not in quiet.stderr, quiet.stderr


def test_a_work_tree_whose_git_dir_is_named_by_git_dir_is_read_with_git(clone, tmp_path):
    # QA: with GIT_DIR/GIT_WORK_TREE naming a git directory outside the work tree,
    # revgraph went on as if outside git: install said "needs a git repository", and
    # check compared nothing with base (a silent pass on a branch that forks).
    elsewhere = tmp_path / "elsewhere.git"
    (clone.path / ".git").rename(elsewhere)
    env = _with(clone, GIT_DIR=str(elsewhere), GIT_WORK_TREE=str(clone.path))

    check = subprocess.run([sys.executable, "-m", "revgraph", "check", "--base", "origin/main"], cwd=clone.path,
                           env=env, capture_output=True, text=True)  # fmt: skip
    install = subprocess.run([sys.executable, "-m", "revgraph", "install"], cwd=clone.path, env=env,
                             capture_output=True, text=True)  # fmt: skip

    assert check.returncode == 1 and "RG102" in check.stdout, check.stdout + check.stderr
    assert install.returncode == 0, install.stdout + install.stderr
    assert (elsewhere / "config").read_text().count("merge-driver") == 1


def test_git_dir_alone_does_not_make_a_sub_folder_the_top_of_the_work_tree(clone, tmp_path):
    # Review: following GIT_DIR without GIT_WORK_TREE, git took the folder revgraph ran
    # in for the top of the work tree: a project in a sub-folder read base as empty.
    elsewhere = tmp_path / "elsewhere.git"
    (clone.path / ".git").rename(elsewhere)
    sub = clone.path / "migrations"
    env = _with(clone, GIT_DIR=str(elsewhere))

    done = subprocess.run([sys.executable, "-m", "revgraph", "check", "--base", "origin/main"], cwd=sub,
                          env=env, capture_output=True, text=True)  # fmt: skip

    assert done.returncode == 2 and "needs a git repository" in done.stderr, done.stdout + done.stderr
