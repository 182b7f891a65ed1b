"""`revgraph audit` reads history through GitPython, and only audit pays for it.

The walk (first-parent commits, dates and subjects, folder trees, blobs for
fingerprints) runs git through one ``git.Repo`` per run. What must hold: git's
failures are revgraph's one-line errors, git runs as it did before GitPython
(no optional locks, the user's locale), and importing ``revgraph.audit``
imports no GitPython.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from revgraph import audit
from revgraph.errors import GitError
from revgraph.sources.gitref import GitRepo as SourceRepo

A = "0a0a0a0a0a01"
B = "0b0b0b0b0b02"
C = "0c0c0c0c0c03"


@pytest.fixture
def three_commits(gitrepo):
    r = gitrepo
    r.init_env()
    shas = []
    for rev_id, down in ((A, None), (B, A), (C, B)):
        r.add_revision(rev_id, down, message=f"revision {rev_id}")
        shas.append(r.commit(f"add {rev_id}"))
    return r, shas


def test_importing_the_audit_module_does_not_import_gitpython_but_running_audit_does(three_commits):
    repo, _ = three_commits
    probe = "import sys, revgraph.audit; print('git' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"

    ran = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "revgraph", "-C", str(repo.path), "audit", "--ref", "main"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    loaded = {line.rsplit("|", 1)[1].strip() for line in ran.stderr.splitlines() if line.startswith("import time:")}
    assert "git" in loaded  # the declared dependency does the history walk


def test_a_history_git_cannot_read_is_a_one_line_error_not_a_traceback(three_commits):
    repo, shas = three_commits
    middle = shas[1]
    (repo.path / ".git" / "objects" / middle[:2] / middle[2:]).unlink()  # a commit of main's history is gone

    done = repo.run("audit", "--ref", "main", check=2)
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("revgraph: error: git rev-list failed: "), done.stderr
    assert middle in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_failing_git_command_is_one_line_with_git_s_own_first_line(three_commits):
    repo, _ = three_commits
    with SourceRepo(repo.path) as source, audit._open_history(source) as history:
        with pytest.raises(GitError) as failed:
            audit._commit_infos(history, ["0" * 40])
    assert str(failed.value) == f"git log failed: fatal: bad object {'0' * 40}"


def test_a_missing_blob_has_no_content_and_the_next_blob_still_reads(three_commits):
    repo, _ = three_commits
    path = repo.git("ls-files", "migrations/versions").stdout.split()[0]
    blob_id = repo.git("rev-parse", f"main:{path}").stdout.strip()
    tree_id = repo.git("rev-parse", "main:migrations").stdout.strip()
    with SourceRepo(repo.path) as source, audit._open_history(source) as history:
        assert audit._blob(history, "1" * 40) is None  # `git cat-file blob` fails: no fingerprint
        assert audit._blob(history, tree_id) is None  # not a blob, as `cat-file blob` says
        assert audit._blob(history, blob_id) == repo.read(path)


def test_git_runs_without_optional_locks_and_in_the_user_s_locale(three_commits, monkeypatch):
    """GitPython forces LC_ALL=C and LANGUAGE=C; git's messages reach the user as they were."""
    repo, _ = three_commits
    repo.git("config", "alias.showenv", "!env")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.delenv("LANGUAGE", raising=False)
    with SourceRepo(repo.path) as source, audit._open_history(source) as history:
        seen = dict(
            line.split("=", 1) for line in audit._git(history, "showenv").decode().splitlines() if "=" in line
        )
    assert seen["GIT_OPTIONAL_LOCKS"] == "0"
    assert seen["LC_ALL"] == "C.UTF-8"
    assert seen.get("LANGUAGE", "") == ""  # unset, or empty: what gettext reads as unset


def test_audit_reads_the_same_history_from_a_linked_worktree_and_a_bare_clone(three_commits, tmp_path):
    """git.Repo opens each layout its own way (a .git file, no working tree): same report."""
    repo, shas = three_commits
    repo.add_revision("0d0d0d0d0d04", B, message="a second head on B")
    opened = repo.commit("two heads")
    args = ("audit", "--ref", "main", "--format", "json")
    main = repo.run("--versions", "migrations/versions", *args, check=0).stdout
    report = json.loads(main)
    assert report["commits"] == 5  # the environment, A, B, C, the second head
    assert [w["opened"]["commit"] for w in report["environments"][0]["windows"]] == [opened]

    repo.git("worktree", "add", "-q", str(tmp_path / "linked"), shas[1])
    linked = type(repo)(tmp_path / "linked", repo.env)
    assert linked.run("--versions", "migrations/versions", *args, check=0).stdout == main

    repo.git("clone", "-q", "--bare", str(repo.path), str(tmp_path / "bare.git"))
    bare = type(repo)(tmp_path / "bare.git", repo.env)
    assert bare.run("--versions", "migrations/versions", *args, check=0).stdout == main
