"""`revgraph lock` as a pre-commit hook, where a new file goes unseen.

pre-commit fails a hook that changes a tracked file, and sets ``PRE_COMMIT=1``
in the hook's environment. A lock file the hook *creates* is untracked:
pre-commit saw no change, said "Passed", and the commit went in without it,
as did every later one (QA, new-user journey with the published hooks in a
project that never ran `revgraph install`). Under pre-commit, a lock file git
does not track makes the hook fail with what to do.
"""

from __future__ import annotations

import os

from tests.support.gitrepo import GitRepo

PRE_COMMIT = {**os.environ, "PRE_COMMIT": "1"}


def _project(gitrepo: GitRepo) -> None:
    gitrepo.init_env()
    gitrepo.add_revision("a1a1a1a1a1a1", None, message="first")
    gitrepo.commit("a first migration")
    gitrepo.write("pyproject.toml", '[tool.revgraph]\nlock_file = "migrations/revgraph.lock"\n')
    gitrepo.commit("revgraph settings")


def test_a_lock_file_the_hook_creates_fails_the_hook_until_it_is_added(gitrepo):
    _project(gitrepo)
    lock = "migrations/revgraph.lock"

    first = gitrepo.run("lock", env=PRE_COMMIT)
    assert first.returncode == 1, first.stdout + first.stderr
    assert (gitrepo.path / lock).is_file()
    assert f"git add {lock}" in first.stderr, first.stderr
    again = gitrepo.run("lock", env=PRE_COMMIT)  # still untracked: still not done
    assert again.returncode == 1, again.stdout + again.stderr

    gitrepo.git("add", lock)
    assert gitrepo.run("lock", env=PRE_COMMIT).returncode == 0


def test_outside_pre_commit_writing_a_new_lock_file_succeeds(gitrepo):
    _project(gitrepo)
    done = gitrepo.run("lock")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "written" in done.stdout


def test_an_ignored_lock_file_is_the_project_s_choice(gitrepo):
    _project(gitrepo)
    gitrepo.write(".gitignore", "revgraph.lock\n")
    done = gitrepo.run("lock", env=PRE_COMMIT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_lock_file_a_submodule_tracks_passes(gitrepo, tmp_path):
    # The superproject's git refuses to answer for a file inside a submodule
    # (check-ignore exits 128): that was taken for "untracked", and the hook failed
    # on every commit with a `git add` git refuses too.
    import subprocess

    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "versions").mkdir()
    (inner / "versions" / "a1.py").write_text('revision = "a1a1a1a1a1a1"\ndown_revision = None\n')
    git = ["git", "-c", "protocol.file.allow=always"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "first"]):
        subprocess.run([*git, *args], cwd=inner, check=True)
    gitrepo.init_env(commit=False)
    subprocess.run([*git, "submodule", "add", "-q", str(inner), "inner"], cwd=gitrepo.path, check=True)
    gitrepo.write(
        "alembic.ini",
        "[alembic]\nscript_location = %(here)s/migrations\nversion_locations = %(here)s/inner/versions\n"
        "path_separator = os\n",
    )
    gitrepo.write("pyproject.toml", '[tool.revgraph]\nlock_file = "inner/revgraph.lock"\n')
    gitrepo.commit("versions in a submodule")
    assert gitrepo.run("lock").returncode == 0
    subprocess.run([*git, "add", "revgraph.lock"], cwd=gitrepo.path / "inner", check=True)
    subprocess.run([*git, "commit", "-qm", "lock"], cwd=gitrepo.path / "inner", check=True)
    done = gitrepo.run("lock", env=PRE_COMMIT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_git_add_names_the_lock_file_from_where_the_command_runs(gitrepo):
    # By hand in a sub-folder (here migrations/), the path from the repository's
    # top did not name the file there: `git add migrations/revgraph.lock` failed.
    from tests.support.gitrepo import run_module

    _project(gitrepo)
    done = run_module("revgraph", "-c", "../alembic.ini", "lock", cwd=gitrepo.path / "migrations", env=PRE_COMMIT)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "`git add revgraph.lock`" in done.stderr, done.stderr
