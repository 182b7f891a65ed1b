"""A repository in git's SHA-256 object format (``git init --object-format=sha256``).

git's object ids there are SHA-256 digests, and Git 3.0 makes the format the
default for new repositories. revgraph hashes working-tree files itself (the
stat and parse caches, the result cache's key): in SHA-1, every file on disk
had an id no commit could have. ``diff REF`` then called every revision of a
clean work tree "edited", and the result cache never stored a check. The
real CLI on real repositories.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from tests.support.gitrepo import GitRepo

from revgraph import api, resultcache

ROOT, MID, OURS, THEIRS = "aaaa00000001", "bbbb00000002", "cccc00000003", "dddd00000004"


def _git_has_sha256() -> bool:
    done = subprocess.run(["git", "init", "-h"], capture_output=True, text=True)
    return "--object-format" in done.stdout + done.stderr


pytestmark = pytest.mark.skipif(not _git_has_sha256(), reason="git cannot make SHA-256 repositories")


@pytest.fixture
def repo(tmp_path, git_env):
    """main: ROOT <- MID; branch feature adds OURS on MID, main then adds THEIRS on MID."""
    repo = GitRepo(tmp_path / "repo")
    repo.path.mkdir()
    repo.git("init", "-q", "-b", "main", "--object-format=sha256")
    repo.init_env(commit=False)
    repo.add_revision(ROOT, None, message="root")
    repo.add_revision(MID, ROOT, message="mid")
    repo.commit("history")
    repo.branch("feature")
    repo.add_revision(THEIRS, MID, message="theirs")
    repo.commit("theirs")
    repo.checkout("feature")
    repo.add_revision(OURS, MID, message="ours")
    repo.commit("ours")
    assert len(repo.head()) == 64
    return repo


def test_diff_against_a_ref_sees_a_clean_work_tree_as_unchanged(repo):
    data = json.loads(repo.run("diff", "main", "-f", "json", check=True).stdout)

    [env] = data["environments"]
    assert env["added"] == [OURS] and env["removed"] == [THEIRS]
    assert env["edited"] == [] and env["cosmetic"] == []


def test_diff_still_sees_an_uncommitted_edit(repo):
    [mid] = (repo.path / "migrations" / "versions").glob(f"{MID}_*.py")
    mid.write_bytes(mid.read_bytes() + b"# a comment\n")

    data = json.loads(repo.run("diff", "HEAD", "-f", "json", check=True).stdout)

    [env] = data["environments"]
    assert env["edited"] == [MID] and env["cosmetic"] == [MID]


def _cached(path):
    resultcache._code_fingerprint = None  # as the CLI subprocesses fingerprint the sources
    with api.Workspace(api.Options(cwd=path)) as ws:
        found = resultcache.probe(ws, base="main", select=(), ignore=())
        return found.report if found is not None else None


def test_check_is_stored_and_found_again_in_the_result_cache(repo):
    fresh = repo.run("check", "--base", "main", "-f", "json", "--no-cache", check=1)
    assert _cached(repo.path) is None

    first = repo.run("check", "--base", "main", "-f", "json", check=1)
    hit = _cached(repo.path)

    assert first.stdout == fresh.stdout
    assert {f["code"] for f in json.loads(first.stdout)["findings"]} == {"RG102"}
    assert hit is not None
    assert [f.to_json() for f in hit.findings] == json.loads(fresh.stdout)["findings"]


def test_an_edit_after_a_cached_check_changes_the_answer(repo):
    repo.run("check", "--base", "main", check=1)
    [ours] = (repo.path / "migrations" / "versions").glob(f"{OURS}_*.py")
    ours.write_bytes(ours.read_bytes().replace(f"= '{MID}'".encode(), b"= 'nowhere'"))

    cached = repo.run("check", "--base", "main", "-f", "json")
    fresh = repo.run("check", "--base", "main", "-f", "json", "--no-cache")

    assert (cached.returncode, cached.stdout) == (fresh.returncode, fresh.stdout)
    assert "RG104" in {f["code"] for f in json.loads(cached.stdout)["findings"]}


def test_fix_moves_the_new_revision_after_a_merge(repo):
    repo.merge("main", expect_conflict=False)
    repo.run("fix", check=True)

    heads = repo.run("heads", "--json", check=True).stdout
    assert json.loads(heads)["environments"][0]["heads"] == [OURS]
    assert repo.alembic("heads").stdout.split() == [OURS, "(head)"]


def test_audit_walks_the_history(repo):
    # A reviewer: audit failed with "internal error: ValueError" (GitPython's commit
    # parser takes 40-character ids).
    [mid] = (repo.path / "migrations" / "versions").glob(f"{MID}_*.py")
    repo.merge("main", expect_conflict=False)
    mid.write_bytes(mid.read_bytes().replace(b"    pass", b"    op.drop_table('users')", 1))
    repo.commit("edit a landed revision")

    report = json.loads(repo.run("audit", "--ref", "feature", "--format", "json", check=0).stdout)

    [env] = report["environments"]
    assert [w["opened"]["heads"] for w in env["windows"]] == [[OURS, THEIRS]]
    assert [e["revision"] for e in env["edited"]] == [MID]
    assert report["commit"] == repo.rev_parse("feature") and len(report["commit"]) == 64
