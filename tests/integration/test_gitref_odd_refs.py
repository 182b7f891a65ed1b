"""Refs that name something other than one snapshot, or name two things.

A branch and a tag with one name: git reads the tag (``git help revisions``)
and warns; revgraph does the same and says which ref it read and what the
other is. An empty ref, a range, or a blob id is not "an unknown ref you may
need to fetch": each says what it is, with no fetch hint.
"""

from __future__ import annotations

import pytest

from tests.support.gitrepo import GitRepo


@pytest.fixture
def repo(gitrepo: GitRepo) -> GitRepo:
    """main: a. Tag feat on main; branch feat: a <- b."""
    gitrepo.init_env()
    gitrepo.add_revision("aaaa00000001", None, message="a")
    gitrepo.commit("a")
    gitrepo.git("tag", "feat")
    gitrepo.branch("feat")
    gitrepo.checkout("feat")
    gitrepo.add_revision("bbbb00000002", "aaaa00000001", message="b")
    gitrepo.commit("b")
    return gitrepo


def _clean_failure(done) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, done.stdout + done.stderr
    assert "git fetch" not in done.stderr and "did you fetch" not in done.stderr, done.stderr
    return done.stderr


def test_an_ambiguous_ref_warns_naming_both_and_the_one_read(repo):
    done = repo.run("heads", "--ref", "feat")

    assert done.returncode == 0, done.stderr
    assert "aaaa00000001" in done.stdout  # the tag, as git reads it
    assert "ambiguous" in done.stderr
    assert "refs/tags/feat" in done.stderr and "refs/heads/feat" in done.stderr
    assert done.stderr.count("ambiguous") == 1, done.stderr

    diff = repo.run("diff", "main", "feat")
    assert "ambiguous" in diff.stderr and "refs/heads/feat" in diff.stderr
    # The full name reads the branch, without a warning.
    full = repo.run("heads", "--ref", "refs/heads/feat")
    assert "bbbb00000002" in full.stdout and "ambiguous" not in full.stderr


def test_an_empty_ref_is_a_usage_error(repo):
    err = _clean_failure(repo.run("heads", "--ref", ""))
    assert "empty ref" in err


def test_a_range_is_not_a_snapshot(repo):
    for spec in ("main..feat", "main...feat"):
        err = _clean_failure(repo.run("heads", "--ref", spec))
        assert "range" in err and "one commit or tree" in err, err


def test_a_blob_id_says_it_is_a_blob(repo):
    blob = repo.git("rev-parse", "main:alembic.ini").stdout.strip()

    err = _clean_failure(repo.run("heads", "--ref", blob))

    assert "is a blob, not a commit or tree" in err, err


def test_the_fetch_hint_is_kept_for_branch_names_only(repo):
    for spec in ("HEAD~7", "feat.lock", "a//b"):  # git check-ref-format --branch refuses them
        done = repo.run("heads", "--ref", spec)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert spec in done.stderr and "git fetch" not in done.stderr, done.stderr

    # Without a remote, no fetch can bring it: the branches that are here instead.
    alone = repo.run("heads", "--ref", "origin/nosuch")
    assert alone.returncode == 2 and "git fetch" not in alone.stderr and "did you fetch" not in alone.stderr
    assert "no remote 'origin' to fetch from; the branches here are:" in alone.stderr, alone.stderr
    assert "main" in alone.stderr

    repo.git("remote", "add", "origin", str(repo.path))
    branch = repo.run("heads", "--ref", "origin/nosuch")
    assert branch.returncode == 2
    assert "git fetch origin nosuch:refs/remotes/origin/nosuch" in branch.stderr, branch.stderr


def test_an_ancestor_past_the_history_says_so_and_a_shallow_clone_says_how_to_deepen(repo, tmp_path):
    # feat has two commits, and no merge: HEAD~7 and feat^2 name nothing, and no fetch changes that.
    for args in (("heads", "--ref", "HEAD~7"), ("heads", "--ref", "feat^2"), ("check", "--base", "main~3"),
                 ("diff", "main~3")):  # fmt: skip
        done = repo.run(*args)
        stderr = _clean_failure(done)
        spec = args[-1]
        assert f"unknown ref '{spec}': {spec[:-2].rstrip('~^')} has no such ancestor" in stderr, stderr
        assert "git log --oneline" in stderr, stderr
    assert repo.run("heads", "--ref", "HEAD~1").returncode == 0

    # A shallow clone lacks what lies past its depth: the fetch that brings it.
    shallow = tmp_path / "shallow"
    repo.git("clone", "-q", "--depth", "1", "--branch", "feat", f"file://{repo.path}", str(shallow))
    clone = GitRepo(shallow, repo.env)
    for args in (("heads", "--ref", "HEAD~1"), ("check", "--base", "feat~1")):
        done = clone.run(*args)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert f"unknown ref '{args[-1]}': this shallow clone does not reach that far back" in done.stderr
        assert "hint: `git fetch --unshallow` brings the rest" in done.stderr, done.stderr
        assert "refs/" not in done.stderr, done.stderr  # no fetch of a branch named `feat~1`


def test_a_short_object_id_several_objects_share_says_so_and_a_shared_name_does_not(repo):
    import hashlib

    # Two blobs whose ids share their first four hex digits (git's shortest prefix).
    seen: dict[str, bytes] = {}
    for i in range(100_000):
        data = b"blob %d\n" % i
        prefix = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()[:4]
        if prefix in seen:
            break
        seen[prefix] = data
    for data in (seen[prefix], data):
        repo.git("hash-object", "-w", "--stdin", input=data.decode())
    done = repo.run("heads", "--ref", prefix)
    assert f"'{prefix}' is ambiguous: several objects start with it" in _clean_failure(done)
    # `feat` is a tag and a branch: git warns that the name is ambiguous, which
    # says nothing about object ids.
    assert "several objects" not in repo.run("heads", "--ref", "feat~5").stderr


def test_an_ambiguous_base_warns_on_every_run_not_only_the_first(repo):
    # A cached result would answer without reading the ref, and without the warning.
    for _ in range(3):
        done = repo.run("check", "--base", "feat")
        assert "Traceback" not in done.stderr, done.stderr
        assert "ambiguous" in done.stderr and "refs/heads/feat" in done.stderr, done.stderr


@pytest.mark.parametrize("base", ["main..feat", "", "HEAD~9", "deadbeef00"])
def test_an_explicit_base_that_no_fetch_brings_gets_no_fetch_hint(repo, base):
    done = repo.run("check", "--base", base)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refs/heads/" not in done.stderr, done.stderr  # no `git fetch origin X:refs/heads/X` line


def test_quiet_leaves_out_the_ambiguous_ref_warning_and_reads_the_same(repo):
    for args in (("-q", "heads", "--ref", "feat"), ("heads", "--ref", "feat", "-q"), ("check", "--base", "feat", "-q")):
        done = repo.run(*args)
        assert "Traceback" not in done.stderr, done.stderr
        assert "ambiguous" not in done.stderr, (args, done.stderr)
    assert "aaaa00000001" in repo.run("-q", "heads", "--ref", "feat").stdout  # still the tag, as git reads it


def test_a_folder_s_tree_is_told_so_not_read_as_empty_or_unfetched(repo):
    folder_tree = repo.git("rev-parse", "HEAD:migrations").stdout.strip()
    for args in (("heads", "--ref", folder_tree), ("heads", "--ref", "HEAD:migrations"),
                 ("check", "--base", "HEAD:migrations")):  # fmt: skip
        done = _clean_failure(repo.run(*args))
        assert "folder" in done and "(no revisions)" not in done, (args, done)


def test_the_root_tree_reads_as_a_snapshot_and_a_tree_base_says_a_commit_is_needed(repo):
    for spec in ("HEAD:", "HEAD^{tree}"):
        done = repo.run("heads", "--ref", spec)
        assert done.returncode == 0 and "bbbb00000002" in done.stdout, (spec, done.stderr)

    root_tree = repo.git("rev-parse", "main^{tree}").stdout.strip()
    err = _clean_failure(repo.run("check", "--base", root_tree))
    assert "is a tree, not a commit" in err, err


def test_audit_and_collisions_say_a_tree_is_not_a_commit(repo):
    root_tree = repo.git("rev-parse", "main^{tree}").stdout.strip()
    for args in (("audit", "--ref", root_tree), ("collisions", root_tree, "--base", "main")):
        err = _clean_failure(repo.run(*args))
        assert "is a tree, not a commit" in err, (args, err)


def test_a_config_option_naming_a_folder_or_a_device_says_so(repo):
    assert "is a directory" in _clean_failure(repo.run("-c", "migrations", "heads"))
    assert "is not a regular file" in _clean_failure(repo.run("-c", "/dev/null", "heads"))


def test_a_command_s_workspace_reads_each_ref_once_and_a_new_workspace_reads_it_again(repo):
    """A command reads one state of the repository: a branch that moves while it
    runs still means the commit it meant first (``GitRepo.pin``); the next
    command sees the move."""
    from revgraph.api import Options, Workspace, _shared_copy

    first = repo.rev_parse("refs/heads/feat")
    with Workspace(Options(cwd=repo.path)) as ws:
        git = ws.repo()
        assert git.resolve("refs/heads/feat") == first
        assert _shared_copy(git, "refs/heads/feat") is None
        repo.add_revision("cccc00000003", "bbbb00000002", message="c")
        moved = repo.commit("c")
        repo.git("branch", "-f", "origin-copy", "refs/heads/feat")
        repo.git("config", "branch.feat.remote", ".")
        repo.git("config", "branch.feat.merge", "refs/heads/origin-copy")
        assert git.resolve("refs/heads/feat") == first
        assert _shared_copy(git, "refs/heads/feat") is None  # the upstream set meanwhile is not seen either
    with Workspace(Options(cwd=repo.path)) as ws:
        assert ws.repo().resolve("refs/heads/feat") == moved != first
        assert _shared_copy(ws.repo(), "refs/heads/feat") == "origin-copy"
