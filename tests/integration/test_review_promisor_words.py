"""Only a partial clone's failed lazy fetch is reported as one.

The partial-clone commits took any failing git command whose stderr held the
word "promisor" for a lazy fetch that failed. git's messages name paths: a
whole clone in a folder called ``promisor-api`` with an unrelated failure
(another git process holding index.lock) was told "this is a partial clone ...
could not fetch them from 'origin'" and sent to check the network.
"""

from __future__ import annotations

from tests.integration.test_partial_clone import origin  # noqa: F401 - the fixture

A, B, C = "aaaa00000001", "bbbb00000002", "cccc00000003"


def test_a_whole_clone_in_a_folder_named_promisor_is_not_called_partial(make_gitrepo):
    repo = make_gitrepo("promisor-api")
    repo.init_env()
    repo.add_revision(A, None, message="a")
    repo.commit("a")
    repo.branch("feature")
    repo.add_revision(C, A, message="c")
    repo.commit("main: c")
    repo.checkout("feature")
    repo.add_revision(B, A, message="b")
    repo.commit("feature: b")
    repo.git("merge", "--no-commit", "--no-ff", "main")
    (repo.path / ".git" / "index.lock").write_bytes(b"")  # another git process at work

    done = repo.run("fix", check=2)
    assert "partial clone" not in done.stderr, done.stderr
    assert "index.lock" in done.stderr, done.stderr


def test_a_partial_clone_in_a_folder_named_promisor_says_git_s_own_error(origin, tmp_path):  # noqa: F811
    import subprocess

    from tests.support.gitrepo import GitRepo

    dest = tmp_path / "promisor-api"
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", "-b", "feature", origin.as_uri(), str(dest)],
                   check=True, capture_output=True)  # fmt: skip
    clone = GitRepo(dest)
    assert clone.git("config", "remote.origin.promisor").stdout.strip() == "true"
    clone.git("merge", "--no-commit", "--no-ff", "origin/main")
    (dest / ".git" / "index.lock").write_bytes(b"")

    done = clone.run("fix", check=None)
    assert "partial clone" not in done.stderr, done.stderr
    assert "index.lock" in done.stderr, done.stderr


def test_promisor_remotes_read_remote_promisor_as_git_reads_a_boolean(gitrepo):
    # git_config_bool: true/yes/on, and any integer but 0, with git's k/m/g units too.
    from revgraph.sources.gitref import GitRepo as Repo

    values = {"a": None, "b": "", "c": "-1", "d": "1k", "e": "TRUE", "f": "0", "g": "off", "h": "2"}
    with open(gitrepo.path / ".git" / "config", "a") as config:
        for name, value in values.items():
            config.write(f'[remote "{name}"]\n\turl = /nowhere/{name}\n')
            config.write("\tpromisor\n" if value is None else f"\tpromisor = {value}\n")
    as_git = [name for name in values
              if gitrepo.git("config", "--type=bool", f"remote.{name}.promisor").stdout.strip() == "true"]  # fmt: skip
    assert as_git == ["a", "c", "d", "e", "h"]
    with Repo(gitrepo.path) as repo:
        assert [name for name, _ in repo.promisor_remotes()] == as_git
