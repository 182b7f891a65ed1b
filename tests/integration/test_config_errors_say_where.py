"""A configuration error says which file it read and how that file was chosen.

Found by trying what a team runs into, with the real CLI and the real alembic:

* ``ALEMBIC_CONFIG`` set in a shell profile names a file that is gone: the error
  named a file the command line never mentioned. With ``-c`` the variable is
  not read (``-c`` wins, as for alembic), and nothing may blame it then.
* ``-c typo.ini`` beside a pyproject.toml with ``[tool.alembic]``: alembic reads
  that table alone without a word; revgraph stops (right), but did not say
  how to read that table.
* ``heads --ref main`` while the working tree's alembic.ini is broken (edited,
  or left with conflict markers by a merge): main's is fine, and the error
  did not say that the file at fault is the working tree's copy, which every
  command reads for its environments.
"""

from __future__ import annotations

import os

from tests.support.gitrepo import run_alembic

BASE, ONE, TWO = "a0a0a0a0a0a0", "b1b1b1b1b1b1", "c2c2c2c2c2c2"


def _env(**changes: str) -> dict[str, str]:
    return {**os.environ, **changes}  # the isolated environment (git_env) plus these


def test_a_missing_config_named_by_alembic_config_says_the_variable_named_it(gitrepo):
    gitrepo.init_env()
    done = gitrepo.run("heads", env=_env(ALEMBIC_CONFIG="gone.ini"), check=2)
    assert "config file" in done.stderr and "gone.ini not found" in done.stderr
    assert "hint: ALEMBIC_CONFIG=gone.ini names it" in done.stderr


def test_with_minus_c_a_broken_config_is_never_blamed_on_alembic_config(gitrepo):
    gitrepo.init_env()
    gitrepo.write("broken.ini", "[alembic\n")
    with_var = _env(ALEMBIC_CONFIG="gone.ini")
    assert gitrepo.run("-c", "alembic.ini", "heads", env=with_var, check=True).stderr == ""  # -c wins
    done = gitrepo.run("-c", "broken.ini", "heads", env=with_var, check=2)
    assert "broken.ini: cannot parse" in done.stderr
    assert "ALEMBIC_CONFIG" not in done.stderr and "gone.ini" not in done.stderr


def test_a_missing_minus_c_ini_beside_tool_alembic_says_how_to_read_that_table(gitrepo):
    gitrepo.init_env(commit=False)
    gitrepo.remove("alembic.ini")
    gitrepo.write("pyproject.toml", '[tool.alembic]\nscript_location = "%(here)s/migrations"\n')
    gitrepo.add_revision(BASE, None, message="base")
    gitrepo.commit("base")
    alembic = run_alembic(gitrepo.path, "-c", "typo.ini", "heads", env=gitrepo.env)
    assert alembic.stdout.split()[0] == BASE  # alembic reads [tool.alembic] alone, silently

    done = gitrepo.run("-c", "typo.ini", "heads", check=2)
    assert "typo.ini not found" in done.stderr
    assert "alembic would read the [tool.alembic] of pyproject.toml alone; to check it, pass -c pyproject.toml" in done.stderr
    assert gitrepo.run("-c", "pyproject.toml", "heads", check=True).stdout.split()[0] == BASE


def test_a_broken_working_tree_ini_is_named_as_the_working_tree_s_for_a_ref_too(gitrepo):
    gitrepo.init_env(commit=False)
    gitrepo.add_revision(BASE, None, message="base")
    gitrepo.commit("base")
    gitrepo.write("alembic.ini", "[alembic\nscript_location = %(here)s/migrations\n")

    for args in (("heads", "--ref", "main"), ("diff", "main", "HEAD")):
        done = gitrepo.run(*args, check=2)
        assert f"{gitrepo.path / 'alembic.ini'}: cannot parse" in done.stderr, done.stderr
        assert (
            "this is the working tree's alembic.ini, edited since HEAD (git diff HEAD -- alembic.ini): "
            "revgraph takes the environments from it for every command, --ref and --base too"
        ) in done.stderr, done.stderr
    gitrepo.commit("a broken ini")  # HEAD's copy is the same: nothing to tell them apart by
    assert "working tree" not in gitrepo.run("heads", check=2).stderr


def test_an_ini_left_with_conflict_markers_by_a_merge_says_so(gitrepo):
    gitrepo.init_env(commit=False)
    gitrepo.add_revision(BASE, None, message="base")
    gitrepo.commit("base")
    ini = gitrepo.read("alembic.ini").decode()
    gitrepo.branch("feature")
    gitrepo.write("alembic.ini", ini.replace("[alembic]\n", "[alembic]\ntimezone = UTC\n", 1))
    gitrepo.commit("main: UTC")
    gitrepo.checkout("feature")
    gitrepo.write("alembic.ini", ini.replace("[alembic]\n", "[alembic]\ntimezone = Europe/Paris\n", 1))
    gitrepo.commit("feature: Paris")
    gitrepo.merge("main", expect_conflict=True)
    assert gitrepo.conflicted() == ["alembic.ini"]

    for args in (("fix",), ("check",)):
        done = gitrepo.run(*args, check=2)
        assert "alembic.ini: cannot parse" in done.stderr
        assert "hint: it holds merge conflict markers (<<<<<<<): resolve the conflict in it first" in done.stderr
