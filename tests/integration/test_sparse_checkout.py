"""A sparse checkout that leaves the migrations out: the error says so, and how to bring them in."""

from __future__ import annotations

import shutil


def test_a_sparse_checkout_without_the_migrations_folder_names_the_git_command(gitrepo):
    gitrepo.init_env(commit=False)
    gitrepo.add_revision("a1a1a1a1a1a1", None, message="create users")
    gitrepo.write("app/models.py", "x = 1\n")
    gitrepo.commit("first revision")
    gitrepo.git("sparse-checkout", "set", "app")
    assert not (gitrepo.path / "migrations").exists()

    left_out = gitrepo.run("check")

    assert left_out.returncode == 2, left_out.stderr
    assert "is not a directory" in left_out.stderr
    assert "`git sparse-checkout add migrations` brings it in" in left_out.stderr
    gitrepo.git("sparse-checkout", "add", "migrations")
    assert gitrepo.run("check").returncode == 0


def test_a_work_tree_no_longer_sparse_gets_no_sparse_hint(gitrepo):
    gitrepo.init_env(commit=False)
    gitrepo.add_revision("a1a1a1a1a1a1", None, message="create users")
    gitrepo.commit("first revision")
    gitrepo.git("sparse-checkout", "set", "migrations")
    gitrepo.git("sparse-checkout", "disable")  # leaves .git/info/sparse-checkout behind
    shutil.rmtree(gitrepo.path / "migrations")

    gone = gitrepo.run("check")

    assert gone.returncode == 2, gone.stderr
    assert "is not a directory" in gone.stderr
    assert "sparse" not in gone.stderr
