"""`revgraph doctor --fix` end to end (issue 4): it applies the safe fix, then reports clean.

main and a feature each add a revision on the same landed parent; a SQLite
database has applied main's. After `doctor --fix` the real `alembic upgrade
head` on that database creates the feature's table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import GitRepo, sqlite_tables

BASE = "a1a1a1a1a1a1"
MAIN = "b2b2b2b2b2b2"
FEATURE = "c3c3c3c3c3c3"
CLEAN = "All good"


# ------------------------------------------------------------------ helpers
def table(rev_id: str) -> str:
    return f"t_{rev_id}"


def add(repo: GitRepo, rev_id: str, down, **kw) -> str:
    """A revision whose upgrade() creates a table named after it."""
    body = (
        f'op.create_table("{table(rev_id)}", sa.Column("id", sa.Integer(), primary_key=True))',
        f'op.drop_table("{table(rev_id)}")',
    )
    return repo.add_revision(rev_id, down, message=f"create {table(rev_id)}", body=body, **kw)


def upgrade(repo: GitRepo, db: Path) -> set[str]:
    """The real `alembic upgrade head` CLI on the SQLite file ``db``; returns the app's tables."""
    repo.alembic("-x", f"db=sqlite:///{db}", "upgrade", "head")
    return sqlite_tables(db) - {"alembic_version"}


def migrate(repo: GitRepo, db: Path) -> set[str]:
    """alembic's ``command.upgrade`` in process (the CLI's own code), for a starting state.

    No config file name: env.py then skips ``fileConfig``, which would
    disable the test process's loggers.
    """
    from argparse import Namespace

    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(repo.path / "migrations"))
    config.cmd_opts = Namespace(x=[f"db=sqlite:///{db}"])
    command.upgrade(config, "head")
    return sqlite_tables(db) - {"alembic_version"}


def parents(repo: GitRepo, rev_id: str) -> tuple[str, ...]:
    """``down_revision`` as alembic itself reads it from the working tree."""
    from alembic import util
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(Config(str(repo.path / "alembic.ini")))
    return tuple(util.to_tuple(script.get_revision(rev_id).down_revision, default=()))


def diverged(repo: GitRepo, db: Path) -> tuple[str, str]:
    """Ends on main with db at main's head; returns (main's path, feature's path)."""
    repo.init_env(commit=False)
    add(repo, BASE, None)
    repo.commit("base")
    repo.branch("feature")
    main_path = add(repo, MAIN, BASE)
    repo.commit("main")
    repo.checkout("feature")
    feature_path = add(repo, FEATURE, BASE)
    repo.commit("feature")
    repo.checkout("main")
    assert migrate(repo, db) == {table(BASE), table(MAIN)}
    return main_path, feature_path


def output(proc) -> str:
    return proc.stdout + proc.stderr


# ------------------------------------------------------------------- tests
def test_doctor_fix_during_merge_into_main_moves_the_feature_and_reports_clean(gitrepo, tmp_path):
    db = tmp_path / "app.db"
    main_path, feature_path = diverged(gitrepo, db)
    main_bytes = gitrepo.read(main_path)
    gitrepo.git("merge", "--no-commit", "--no-ff", "feature")
    before = gitrepo.run("doctor", check=1)
    assert "RG101" in before.stdout and "revgraph fix" in before.stdout

    proc = gitrepo.run("doctor", "--fix")

    assert proc.returncode == 0, output(proc)
    assert f"moved {FEATURE}" in proc.stdout
    assert CLEAN in proc.stdout and "RG10" not in proc.stdout
    assert parents(gitrepo, FEATURE) == (MAIN,)
    assert gitrepo.read(main_path) == main_bytes
    assert feature_path in gitrepo.git("diff", "--cached", "--name-only").stdout
    assert upgrade(gitrepo, db) == {table(BASE), table(MAIN), table(FEATURE)}


def test_doctor_fix_after_merging_main_into_the_feature_reports_clean(gitrepo, tmp_path):
    db = tmp_path / "app.db"
    main_path, _ = diverged(gitrepo, db)
    main_bytes = gitrepo.read(main_path)
    gitrepo.checkout("feature")
    gitrepo.merge("main")

    proc = gitrepo.run("doctor", "--fix")

    assert proc.returncode == 0, output(proc)
    assert CLEAN in proc.stdout
    assert parents(gitrepo, FEATURE) == (MAIN,)
    assert gitrepo.read(main_path) == main_bytes
    assert upgrade(gitrepo, db) == {table(BASE), table(MAIN), table(FEATURE)}


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_doctor_fix_with_a_machine_format_keeps_stdout_to_the_report(gitrepo, tmp_path, fmt):
    db = tmp_path / "app.db"
    diverged(gitrepo, db)
    gitrepo.checkout("feature")
    gitrepo.merge("main")

    proc = gitrepo.run("doctor", "--fix", "--format", fmt)

    assert proc.returncode == 0, output(proc)
    report = json.loads(proc.stdout)  # the report alone: the fix's diff and lines went to stderr
    assert report
    assert f"moved {FEATURE}" in proc.stderr
    assert parents(gitrepo, FEATURE) == (MAIN,)


def test_doctor_fix_on_a_healthy_graph_says_nothing_to_do(gitrepo):
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)
    gitrepo.commit("base")

    proc = gitrepo.run("doctor", "--fix")

    assert proc.returncode == 0, output(proc)
    assert "nothing for --fix to do" in proc.stdout and CLEAN in proc.stdout
    assert gitrepo.status() == ""


@pytest.mark.parametrize("state", ["missing", "stale"])
def test_doctor_fix_writes_the_lock_file_rg401_asks_for(gitrepo, state):
    # QA: doctor said "nothing for --fix to do" (exit 1) while its own finding's fix
    # was `revgraph lock`, a safe write.
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)
    gitrepo.run("install", check=True)
    gitrepo.commit("base, locked")
    lock = "migrations/revgraph.lock"
    if state == "missing":
        gitrepo.remove(lock)
    else:
        add(gitrepo, MAIN, BASE)  # a new head the lock does not record
    assert gitrepo.run("doctor").returncode == 1

    proc = gitrepo.run("doctor", "--fix")

    assert proc.returncode == 0, output(proc)
    assert f"{lock}: written" in proc.stdout and CLEAN in proc.stdout
    assert gitrepo.run("lock", "--check").returncode == 0


def test_doctor_fix_writes_the_lock_file_beside_a_docstring_repair(gitrepo):
    # Review: with a docstring to mend as well, the lock file stayed missing (exit 1).
    gitrepo.init_env(commit=False)
    path = add(gitrepo, BASE, None)
    gitrepo.run("install", check=True)
    gitrepo.commit("base, locked")
    gitrepo.remove("migrations/revgraph.lock")
    gitrepo.write(path, gitrepo.read(path).replace(f"Revision ID: {BASE}".encode(), b"Revision ID: 0000"))

    proc = gitrepo.run("doctor", "--fix")

    assert proc.returncode == 0, output(proc)
    assert "migrations/revgraph.lock: written" in proc.stdout and CLEAN in proc.stdout


def test_doctor_fix_for_a_project_named_by_config_rebases_and_never_locks_two_heads(gitrepo):
    # Review: with -c, every fix line reads `revgraph --config db.ini fix ...`, which
    # doctor --fix did not take for a fix: it skipped the rebase and wrote a lock file
    # recording both competing heads, silencing RG401 while RG101 stood.
    gitrepo.init_env(commit=False)
    (gitrepo.path / "alembic.ini").rename(gitrepo.path / "db.ini")
    add(gitrepo, BASE, None)
    gitrepo.run("-c", "db.ini", "install", check=True)
    gitrepo.commit("base, locked")
    add(gitrepo, MAIN, BASE)
    add(gitrepo, "c3c3c3c3c3c3", BASE)

    proc = gitrepo.run("-c", "db.ini", "doctor", "--fix")

    lock = gitrepo.read("migrations/revgraph.lock").decode()
    assert lock.count("head:") == 1, lock  # one head, after the rebase; never both
    assert proc.returncode == 0, output(proc)


def test_doctor_fix_refuses_with_the_reason_when_base_has_several_heads(gitrepo):
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)
    add(gitrepo, MAIN, BASE)
    add(gitrepo, "b3b3b3b3b3b3", BASE)
    gitrepo.commit("main with two heads")
    gitrepo.branch("feature")
    gitrepo.checkout("feature")
    add(gitrepo, FEATURE, MAIN)
    gitrepo.commit("feature")

    proc = gitrepo.run("doctor", "--fix")

    assert proc.returncode == 1, output(proc)
    assert "itself has several heads" in proc.stderr
    assert "Traceback" not in output(proc)
    assert gitrepo.status() == ""


def test_fix_offered_for_a_predicted_merge_conflict_resolves_it_or_refuses(gitrepo, tmp_path):
    diverged(gitrepo, tmp_path / "app.db")
    gitrepo.checkout("feature")
    check = gitrepo.run("check", "--base", "main", check=1)
    assert "RG102" in check.stdout and "fix: git merge main; revgraph fix" in check.stdout

    fix = gitrepo.run("fix", "--base", "main")

    # Either the offered command refuses, saying what to do first, or RG102 is gone after it.
    if fix.returncode == 0:
        after = gitrepo.run("check", "--base", "main", "--select", "RG102")
        assert after.returncode == 0, output(fix) + output(after)
    else:
        assert fix.returncode == 1 and "Traceback" not in fix.stderr


def test_doctor_refuses_an_unknown_strategy_as_fix_does(tmp_path, git_env):
    from tests.support.gitrepo import run_module

    # Refused before it reads a project (there is none here), with fix's words.
    for command in (["doctor"], ["doctor", "--fix"], ["fix"]):
        done = run_module("revgraph", *command, "--strategy", "bogus", cwd=tmp_path)
        assert (done.returncode, done.stderr) == (2, "revgraph: error: unknown strategy 'bogus'; choose rebase or merge\n")
