"""The merge driver in a monorepo: it finds the project that owns the lock file, and the
command its conflict names takes that same project, settings and all.

git runs the driver at the top of the work tree, where the user usually reads
its message too. The lock file's project may be configured at the top (its
``[tool.revgraph]`` naming a service's alembic.ini, with ``protected``
release branches), or in the service's folder alone (``backend/alembic.ini``),
with the lock file inside it or outside (``lock_file = "../heads.lock"``).
Real repositories, the driver installed by ``revgraph install``, real
``git merge``; the command the message names is run exactly as written.
"""

from __future__ import annotations

import re

import pytest

from revgraph.lockfile import parse_lock
from tests.integration.test_merge_driver_e2e import BASE_ID, FEATURE_ID, MAIN_ID, _at_top
from tests.support.revfiles import TEMPLATES
from tests.support.gitrepo import run_module

HOTFIX_ID = "e4e4e4e4e4e4"
SERVICE_INI = "[alembic]\nscript_location = %(here)s/migrations\n"


def _commit_revision(repo, branch: str, rev_id: str, down, message: str, versions: str, project: str) -> None:
    repo.checkout(branch)
    repo.add_revision(rev_id, down, message=message, versions=versions)
    assert _at_top(repo, f"revgraph {project} lock".replace("  ", " ")).returncode == 0
    repo.commit(f"{branch}: {message}")


def _suggested(merge) -> str:
    """The command the driver's message names (on git's output)."""
    found = re.findall(r"run `(revgraph [^`]*)`", merge.stdout + merge.stderr)
    assert found, merge.stdout + merge.stderr
    return found[0]


# ------------------------------------------- settings at the top, service below
TOP_SETTINGS = """\
[tool.revgraph]
protected = ["release/*"]

[tool.revgraph.environments.svc]
config = "svc/a/alembic.ini"
"""


def test_the_fix_a_conflict_names_keeps_the_top_settings_that_protect_a_release(gitrepo):
    # The service has an alembic.ini of its own, so `revgraph -C svc/a` would load
    # svc/a alone, without the top's `protected`: the hotfix landed on release/1
    # would then count as new and be moved onto main's revision.
    versions = "svc/a/migrations/versions"
    gitrepo.write("pyproject.toml", TOP_SETTINGS)
    gitrepo.write("svc/a/alembic.ini", SERVICE_INI)
    gitrepo.add_revision(BASE_ID, None, message="create users", versions=versions)
    assert _at_top(gitrepo, "revgraph install").returncode == 0
    gitrepo.commit("base with revgraph")
    gitrepo.branch("release/1")
    _commit_revision(gitrepo, "release/1", HOTFIX_ID, BASE_ID, "hotfix users", versions, "")
    _commit_revision(gitrepo, "main", MAIN_ID, BASE_ID, "add orders", versions, "")
    hotfix = next(p for p in gitrepo.ls_files("release/1") if HOTFIX_ID in p)

    merge = gitrepo.merge("release/1", expect_conflict=True)

    command = _suggested(merge)
    fixed = _at_top(gitrepo, command)  # exactly what the message said, where git ran it
    assert gitrepo.read(hotfix) == gitrepo.show("release/1", hotfix), command  # the released revision stays
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr  # refused: both heads have landed
    assert "must not move" in fixed.stderr
    assert command == "revgraph fix"
    # Started in svc/a, the same plain command takes the top's environment for it,
    # `protected` and all: it refuses too, and the text need not say where to run it.
    assert "at the top of the work tree" not in gitrepo.read("svc/a/migrations/revgraph.lock").decode()
    in_service = run_module("revgraph", "fix", cwd=gitrepo.path / "svc" / "a", env=gitrepo.env)
    assert in_service.returncode == 1 and "must not move" in in_service.stderr, in_service.stderr
    assert gitrepo.read(hotfix) == gitrepo.show("release/1", hotfix)


def test_settings_at_the_top_without_environments_are_not_bypassed_by_the_service_folder(gitrepo):
    # `protected` at the top, but no environment there: revgraph at the top stops with
    # a config error. The driver must not fall back on svc/a's own project (which
    # knows no release branch), neither to decide nor in the command it names.
    versions = "svc/a/migrations/versions"
    gitrepo.write("pyproject.toml", '[tool.revgraph]\nprotected = ["release/*"]\n')
    gitrepo.write("svc/a/alembic.ini", SERVICE_INI)
    gitrepo.add_revision(BASE_ID, None, message="create users", versions=versions)
    assert _at_top(gitrepo, "revgraph -C svc/a install").returncode == 0
    gitrepo.commit("base with revgraph")
    gitrepo.branch("release/1")
    _commit_revision(gitrepo, "release/1", HOTFIX_ID, BASE_ID, "hotfix users", versions, "-C svc/a")
    _commit_revision(gitrepo, "main", MAIN_ID, BASE_ID, "add orders", versions, "-C svc/a")

    merge = gitrepo.merge("release/1", expect_conflict=True)

    command = _suggested(merge)
    assert "-C svc/a" not in command, command
    shown = _at_top(gitrepo, command)
    assert shown.returncode == 2 and "[tool.revgraph.environments]" in shown.stderr, shown.stderr


# ------------------------------------------------- the project in a subfolder
def _backend(repo, lock_setting: str | None) -> str:
    """backend/alembic.ini and backend/pyproject.toml, nothing at the top; returns the lock's path."""
    repo.write("backend/alembic.ini", SERVICE_INI)
    repo.write("backend/migrations/script.py.mako", TEMPLATES["typed"])
    settings = "[tool.revgraph]\n" + (f'lock_file = "{lock_setting}"\n' if lock_setting else 'strategy = "rebase"\n')
    repo.write("backend/pyproject.toml", settings)
    repo.add_revision(BASE_ID, None, message="create users", versions="backend/migrations/versions")
    assert _at_top(repo, "revgraph -C backend install").returncode == 0
    repo.commit("base with revgraph")
    repo.branch("feature")
    return "heads.lock" if lock_setting else "backend/migrations/revgraph.lock"


@pytest.mark.parametrize("lock_setting", [None, "../heads.lock"], ids=["lock-inside", "lock-outside"])
def test_a_healthy_merge_of_a_backend_project_merges_the_lock_cleanly(gitrepo, lock_setting):
    lock = _backend(gitrepo, lock_setting)
    versions = "backend/migrations/versions"
    same_day = "2024-06-03 10:00:00.000000"  # byte-identical files on both sides
    gitrepo.add_revision(MAIN_ID, BASE_ID, message="add orders", versions=versions, create_date=same_day)
    assert _at_top(gitrepo, "revgraph -C backend lock").returncode == 0
    gitrepo.commit("main: orders")
    gitrepo.checkout("feature")
    gitrepo.add_revision(MAIN_ID, BASE_ID, message="add orders", versions=versions, create_date=same_day)
    _commit_revision(gitrepo, "feature", FEATURE_ID, MAIN_ID, "add invoices", versions, "-C backend")
    gitrepo.checkout("main")

    gitrepo.merge("feature")  # asserts a clean result

    assert parse_lock(gitrepo.read(lock).decode()).heads == (FEATURE_ID,)
    check = _at_top(gitrepo, "revgraph -C backend check --base main")
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_lock_file_outside_its_project_names_the_project_folder_in_the_conflict(gitrepo):
    lock = _backend(gitrepo, "../heads.lock")
    versions = "backend/migrations/versions"
    _commit_revision(gitrepo, "main", MAIN_ID, BASE_ID, "add orders", versions, "-C backend")
    _commit_revision(gitrepo, "feature", FEATURE_ID, BASE_ID, "add invoices", versions, "-C backend")
    gitrepo.checkout("main")

    merge = gitrepo.merge("feature", expect_conflict=True)

    assert gitrepo.conflicted() == [lock]
    assert _suggested(merge) == "revgraph -C backend fix"
    assert "# Resolve: run `revgraph -C backend fix`" in gitrepo.read(lock).decode()
    fixed = _at_top(gitrepo, "revgraph -C backend fix")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    gitrepo.git("merge", "--continue")
    check = _at_top(gitrepo, "revgraph -C backend check --base main")
    assert check.returncode == 0, check.stdout + check.stderr
