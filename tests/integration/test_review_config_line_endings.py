"""A config checked out with CRLF by ``core.autocrlf`` is not "edited since HEAD".

git status says the file is clean; its bytes on disk differ from HEAD's blob only
by the line endings git's own filter wrote. Both readers of alembic.ini and
pyproject.toml (configparser, tomllib) read the two alike.
"""

from __future__ import annotations

from revgraph.config import load_project
from revgraph.sources import merged
from revgraph.sources.gitref import GitRepo

BASE = "a0a0a0a0a0a0"


def _checked_out_with_crlf(gitrepo, ini_edit=None):
    gitrepo.init_env(commit=False)
    if ini_edit is not None:
        gitrepo.write("alembic.ini", ini_edit(gitrepo.read("alembic.ini").decode()))
    gitrepo.add_revision(BASE, None, message="base")
    gitrepo.commit("base")
    gitrepo.git("config", "core.autocrlf", "true")
    gitrepo.remove("alembic.ini")
    gitrepo.git("checkout", "--", "alembic.ini")
    assert b"\r\n" in gitrepo.read("alembic.ini")
    assert gitrepo.git("status", "--porcelain").stdout.strip() == ""


def test_a_committed_config_error_is_not_blamed_on_an_edit_autocrlf_did_not_make(gitrepo):
    _checked_out_with_crlf(gitrepo, lambda ini: ini.replace("[alembic]\n", "[alembic]\ntruncate_slug_length = abc\n", 1))
    done = gitrepo.run("heads", check=2)
    assert "truncate_slug_length must be a whole number" in done.stderr
    assert "edited since HEAD" not in done.stderr, done.stderr


def test_the_predicted_merge_skips_a_config_only_autocrlf_rewrote(gitrepo):
    _checked_out_with_crlf(gitrepo)
    [env] = load_project(gitrepo.path).environments
    with GitRepo(gitrepo.path) as git:
        assert merged.edited_configs(git, env) == []
        assert merged.worktree_commit(git, env) == git.head_sha()
