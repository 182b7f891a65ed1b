"""A Flask-Migrate project end to end.

`flask db init` puts alembic.ini inside ``migrations/`` without a
``script_location`` (Flask-Migrate sets it to that folder at run time), and
`flask db` runs from the application's root. revgraph, run there, must find
that environment, see two branches' revisions collide, install its driver,
and fix the merge; alembic, configured the way Flask-Migrate configures it,
reads the result back.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.revfiles import TEMPLATES
from tests.unit.test_config import FLASK_MIGRATE_INI

BASE_ID = "a1a1a1a1a1a1"
MAIN_ID = "b2b2b2b2b2b2"
FEATURE_ID = "c3c3c3c3c3c3"
LOCK = "migrations/revgraph.lock"


def _flask_script(repo):
    """alembic's view, configured as Flask-Migrate configures it."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    folder = repo.path / "migrations"
    config = Config(str(folder / "alembic.ini"))
    config.set_main_option("script_location", str(folder))
    return ScriptDirectory.from_config(config)


def _flask_app_installed(repo) -> None:
    repo.write("migrations/alembic.ini", FLASK_MIGRATE_INI.lstrip("\n"))
    repo.write("migrations/env.py", "from flask import current_app\n")
    repo.write("migrations/script.py.mako", TEMPLATES["generic"])
    repo.write("app/__init__.py", "")
    repo.add_revision(BASE_ID, None, message="create users", style="generic")
    repo.run("install", check=True)
    assert (repo.path / LOCK).exists()
    repo.commit("flask app with migrations")


def _flask_repo(gitrepo):
    """A Flask-Migrate app with one revision and `revgraph install`, committed: built once."""
    gitrepo.build_once("flask_migrate app installed", _flask_app_installed)
    assert (gitrepo.path / LOCK).exists()
    return gitrepo


def test_a_flask_migrate_project_is_checked_locked_and_fixed_from_the_app_root(gitrepo):
    repo = _flask_repo(gitrepo)
    assert repo.run("heads", check=True).stdout.split()[0] == BASE_ID
    repo.branch("feature")
    repo.add_revision(MAIN_ID, BASE_ID, message="add orders", style="generic")
    repo.run("lock", check=True)
    repo.commit("main: add orders")
    repo.checkout("feature")
    repo.add_revision(FEATURE_ID, BASE_ID, message="add invoices", style="generic")
    repo.run("lock", check=True)
    repo.commit("feature: add invoices")

    found = repo.run("check", "--base", "main")
    assert found.returncode == 1 and "RG102" in found.stdout, found.stdout + found.stderr

    repo.checkout("main")
    repo.merge("feature", expect_conflict=True)
    assert repo.conflicted() == [LOCK]
    fixed = repo.run("fix", check=True)
    assert f"moved {FEATURE_ID}: {BASE_ID} -> {MAIN_ID}" in fixed.stdout
    repo.git("commit", "-q", "--no-edit")

    script = _flask_script(repo)
    assert list(script.get_heads()) == [FEATURE_ID]
    assert script.get_revision(FEATURE_ID).down_revision == MAIN_ID
    assert repo.run("check").returncode == 0


def test_a_merge_revision_for_a_flask_migrate_project_is_what_alembic_reads(gitrepo):
    repo = _flask_repo(gitrepo)
    repo.add_revision(MAIN_ID, BASE_ID, message="add orders", style="generic")
    repo.add_revision(FEATURE_ID, BASE_ID, message="add invoices", style="generic")

    done = repo.run("fix", "--strategy", "merge", "-m", "merge heads", check=True)

    (line,) = [ln for ln in done.stdout.splitlines() if ln.startswith("new merge revision ")]
    new_id, path = line.split()[3], line.split("(", 1)[1].split(")", 1)[0]
    script = _flask_script(repo)
    assert list(script.get_heads()) == [new_id]
    assert set(script.get_revision(new_id).down_revision) == {MAIN_ID, FEATURE_ID}
    assert script.get_revision(new_id).doc == "merge heads"
    assert Path(script.get_revision(new_id).path) == repo.path / path
