"""Another ref is read with the working tree's alembic settings: say so when they differ.

Found by hand: main turned on ``recursive_version_locations`` and moved its old
migrations into ``versions/2024/``. On a branch from before that, ``diff main``
said those revisions were added here and ``fix`` refused with a landed revision
"hanging off a new one". Until each ref is read with its own settings, the
commands that read another ref warn when its location settings differ.
"""

from __future__ import annotations

import pytest

OLD = "a1a1a1a1a1a1"
MID = "b2b2b2b2b2b2"
FEATURE = "c3c3c3c3c3c3"
DRIFT = "warning: main sets recursive_version_locations differently from this working tree"


@pytest.fixture
def reorganised(gitrepo):
    """main moved its old revisions into versions/2024/ with recursion on; ends on feature (from before)."""
    gitrepo.init_env(commit=False)
    old = gitrepo.add_revision(OLD, None, message="create users")
    mid = gitrepo.add_revision(MID, OLD, message="add orders")
    gitrepo.commit("history")
    gitrepo.branch("feature")
    ini = gitrepo.read("alembic.ini").decode()
    gitrepo.write("alembic.ini", ini.replace("[alembic]\n", "[alembic]\nrecursive_version_locations = true\n", 1))
    (gitrepo.path / "migrations/versions/2024").mkdir()
    for path in (old, mid):
        gitrepo.git("mv", path, path.replace("versions/", "versions/2024/"))
    gitrepo.commit("main: old migrations into a year folder")
    gitrepo.checkout("feature")
    gitrepo.add_revision(FEATURE, MID, message="add invoices")
    gitrepo.commit("feature: invoices")
    return gitrepo


def test_commands_that_read_main_say_its_settings_differ(reorganised):
    repo = reorganised
    diff = repo.run("diff", "main", check=True)
    assert DRIFT in diff.stderr and f"+ {OLD} added" in diff.stdout  # what the warning explains
    assert DRIFT in repo.run("fix", "--dry-run").stderr
    assert repo.run("fix", "--dry-run", "--base", "feature", "--onto", "main").stderr.count(DRIFT) == 1
    assert DRIFT in repo.run("graph", check=True).stderr
    assert DRIFT in repo.run("graph", "--ref", "main", check=True).stderr
    heads = repo.run("heads", "--ref", "main", check=True)
    assert DRIFT in heads.stderr and MID not in heads.stdout  # main's head is out of sight here

    repo.git("merge", "-q", "--no-edit", "main")
    for args in (("diff", "main"), ("graph",), ("fix", "--dry-run")):
        done = repo.run(*args)
        assert "warning: main sets" not in done.stderr, args
    assert repo.run("diff", "main", check=True).stdout.strip() == f"+ {FEATURE} added"


def test_settings_that_do_not_move_revisions_warn_of_nothing(gitrepo):
    gitrepo.init_env(commit=False)
    gitrepo.add_revision(OLD, None, message="create users")
    gitrepo.commit("history")
    gitrepo.branch("feature")
    ini = gitrepo.read("alembic.ini").decode()
    gitrepo.write("alembic.ini", ini.replace("[alembic]\n", "[alembic]\n# the database\nsqlalchemy.url = sqlite://\n", 1))
    gitrepo.commit("main: a url and a comment")
    gitrepo.checkout("feature")
    assert "warning:" not in gitrepo.run("diff", "main", check=True).stderr


def test_version_locations_in_the_pyproject_beside_the_ini_count_too(gitrepo):
    gitrepo.init_env(commit=False)
    gitrepo.add_revision(OLD, None, message="create users")
    gitrepo.commit("history")
    gitrepo.branch("feature")
    gitrepo.write("pyproject.toml", '[tool.alembic]\nversion_locations = ["%(here)s/migrations/versions", "%(here)s/more"]\n')
    (gitrepo.path / "more").mkdir()
    gitrepo.commit("main: a second versions folder")
    gitrepo.checkout("feature")
    assert "warning: main sets version_locations differently" in gitrepo.run("diff", "main", check=True).stderr


def test_a_change_in_one_section_of_a_shared_ini_is_found_for_that_environment(gitrepo):
    # Two environments in one alembic.ini: the file is read once, each section compared.
    from tests.integration.test_ini_sections import two_environments

    two_environments(gitrepo)
    gitrepo.branch("feature")
    ini = gitrepo.read("alembic.ini").decode()
    gitrepo.write("alembic.ini", ini.replace(
        "script_location = %(here)s/analytics\n", "script_location = %(here)s/analytics\nsourceless = true\n", 1
    ))  # fmt: skip
    gitrepo.commit("main: analytics ships byte-code only")
    gitrepo.checkout("feature")
    assert "warning: main sets sourceless differently" in gitrepo.run("diff", "main", check=True).stderr
    assert "warning:" not in gitrepo.run("--env", "default", "diff", "main", check=True).stderr
