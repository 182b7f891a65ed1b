"""`revgraph fix` inside git operations, end to end (issue 4, "How it must be shown").

main and a feature branch each add one revision on the same landed parent.
A SQLite database is migrated on main first (it has applied main's revision,
as production would), then git merges / rebases / cherry-picks / applies the
feature, `revgraph fix` runs in the middle of it, and the real
`alembic upgrade head` on that same database must create the feature's table.

Whichever side git calls "ours", the feature's revision is the one that moves:
main's has landed and may already be applied. Parents are read back with
alembic's own ScriptDirectory, not with revgraph.
"""

from __future__ import annotations

import datetime
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from revgraph.lockfile import parse_lock
from tests.support import GitRepo, sqlite_tables

BASE = "a1a1a1a1a1a1"
MAIN = "b2b2b2b2b2b2"
FEATURE = "c3c3c3c3c3c3"
LOCK = "migrations/revgraph.lock"
NOTES = "notes.txt"
AT_0 = datetime.datetime(2024, 6, 3, 9, 0, 0, 125000)
ONE_HOUR = datetime.timedelta(hours=1)


# ------------------------------------------------------------------ helpers
def table(rev_id: str) -> str:
    return f"t_{rev_id}"


def add(repo: GitRepo, rev_id: str, down, **kw) -> str:
    """A revision whose upgrade() creates a table named after it."""
    body = (
        f'op.create_table("{table(rev_id)}", sa.Column("id", sa.Integer(), primary_key=True))',
        f'op.drop_table("{table(rev_id)}")',
    )
    return repo.add_revision(rev_id, down, message=kw.pop("message", f"create {table(rev_id)}"), body=body, **kw)


def upgrade(repo: GitRepo, db: Path, target: str = "head") -> set[str]:
    """The real `alembic upgrade` CLI on the SQLite file ``db``; returns the app's tables."""
    repo.alembic("-x", f"db=sqlite:///{db}", "upgrade", target)
    return sqlite_tables(db) - {"alembic_version"}


def migrate(repo: GitRepo, db: Path, target: str = "head") -> set[str]:
    """alembic's own ``command.upgrade`` in this process: the code the CLI runs, 1.5 s faster.

    Used to put a database in its starting state. The config has no file
    name, so the repository's env.py skips ``fileConfig`` (which would
    disable the test process's loggers); the URL goes in as ``-x db=`` does.
    """
    from argparse import Namespace

    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(repo.path / "migrations"))
    config.cmd_opts = Namespace(x=[f"db=sqlite:///{db}"])
    command.upgrade(config, target)
    return sqlite_tables(db) - {"alembic_version"}


def parents(repo: GitRepo, rev_id: str) -> tuple[str, ...]:
    """``down_revision`` as alembic itself reads it from the working tree."""
    from alembic import util
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(Config(str(repo.path / "alembic.ini")))
    return tuple(util.to_tuple(script.get_revision(rev_id).down_revision, default=()))


def staged(repo: GitRepo) -> list[str]:
    return sorted(repo.git("diff", "--cached", "--name-only").stdout.split())


def exists_in(repo: GitRepo, ref: str, relpath: str) -> bool:
    return repo.git("cat-file", "-e", f"{ref}:{relpath}", check=None).returncode == 0


def fix_ok(repo: GitRepo, *args: str) -> str:
    proc = repo.run("fix", *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@dataclass
class Diverged:
    """main and feature each added a revision on BASE; the database is at main's head."""

    repo: GitRepo
    db: Path
    main_path: str
    feature_path: str
    main_commit: str
    feature_commit: str

    def assert_feature_moved_onto_main(self, main_bytes: bytes) -> None:
        assert parents(self.repo, FEATURE) == (MAIN,)
        assert parents(self.repo, MAIN) == (BASE,)
        assert self.repo.read(self.main_path) == main_bytes  # landed: byte-identical
        # Only the parent id changed in the feature's file (docstring and assignment).
        original = self.repo.show(self.feature_commit, self.feature_path)
        assert self.repo.read(self.feature_path) == original.replace(BASE.encode(), MAIN.encode())

    def assert_upgrade_creates_feature_table(self) -> None:
        assert upgrade(self.repo, self.db) == {table(BASE), table(MAIN), table(FEATURE)}


def diverge(repo: GitRepo, db: Path, *, notes_conflict: bool = False, lock: bool = False) -> Diverged:
    """Ends on main, clean, with ``db`` migrated to main's head.

    ``notes_conflict``: both sides also change notes.txt differently, so that
    a rebase / cherry-pick / am stops. ``lock``: the heads lock file is kept
    (without the merge driver), so a merge stops on it.
    """
    repo.init_env(commit=False)
    add(repo, BASE, None)
    repo.write(NOTES, "shared\n")
    if lock:
        write_lock(repo)
    repo.commit("base")
    repo.branch("feature")
    main_path = add(repo, MAIN, BASE)
    if notes_conflict:
        repo.write(NOTES, "main's notes\n")
    if lock:
        write_lock(repo)
    main_commit = repo.commit("main: add t_main")
    repo.checkout("feature")
    feature_path = add(repo, FEATURE, BASE)
    if notes_conflict:
        repo.write(NOTES, "feature's notes\n")
    if lock:
        write_lock(repo)
    feature_commit = repo.commit("feature: add t_feature")
    repo.checkout("main")
    assert migrate(repo, db) == {table(BASE), table(MAIN)}
    return Diverged(repo, db, main_path, feature_path, main_commit, feature_commit)


def write_lock(repo: GitRepo) -> None:
    """What `revgraph lock` does, in process (setup only; the CLI is not under test here)."""
    from revgraph import api

    with api.Workspace(api.Options(cwd=repo.path)) as ws:
        assert [status.written or status.current for status in api.lock(ws)] == [True]


def resolve_notes(repo: GitRepo) -> None:
    repo.write(NOTES, "both\n")
    repo.git("add", NOTES)


def continue_(repo: GitRepo, operation: str) -> None:
    proc = repo.git(operation, "--continue", check=None)
    assert proc.returncode == 0, proc.stdout + proc.stderr + repo.status()


# ------------------------------------------------ merging into main itself
def test_fix_during_merge_into_main_moves_the_feature_not_main_whose_side_is_ours(gitrepo, tmp_path):
    d = diverge(gitrepo, tmp_path / "app.db")
    main_bytes = gitrepo.read(d.main_path)
    gitrepo.git("merge", "--no-commit", "--no-ff", "feature")
    # git calls main's side "ours": a fix that moved "ours" onto "theirs" would move MAIN.
    assert gitrepo.rev_parse("HEAD") == d.main_commit
    assert gitrepo.rev_parse("MERGE_HEAD") == d.feature_commit
    assert exists_in(gitrepo, "HEAD", d.main_path) and not exists_in(gitrepo, "HEAD", d.feature_path)
    assert exists_in(gitrepo, "MERGE_HEAD", d.feature_path)
    _assert_naive_ours_onto_theirs_loses_the_feature_table(d, tmp_path / "naive")

    out = fix_ok(gitrepo)

    d.assert_feature_moved_onto_main(main_bytes)
    assert d.feature_path in staged(gitrepo)
    assert "git merge --continue" in out
    d.assert_upgrade_creates_feature_table()
    continue_(gitrepo, "merge")
    assert gitrepo.status() == ""


def _assert_naive_ours_onto_theirs_loses_the_feature_table(d: Diverged, twin: Path) -> None:
    """In a copy: re-point main's revision ("ours") onto the feature's; alembic says nothing."""
    shutil.copytree(d.repo.path, twin)
    shutil.copyfile(d.db, twin.parent / "naive.db")
    naive = GitRepo(twin, d.repo.env)
    path = naive.path / d.main_path
    path.write_bytes(path.read_bytes().replace(BASE.encode(), FEATURE.encode()))
    assert parents(naive, MAIN) == (FEATURE,)
    # `upgrade head` exits 0: the database is "at head" already, the feature table never comes.
    assert migrate(naive, twin.parent / "naive.db") == {table(BASE), table(MAIN)}


def test_fix_during_merge_stopped_by_the_lock_file_rewrites_and_stages_it(gitrepo, tmp_path):
    d = diverge(gitrepo, tmp_path / "app.db", lock=True)
    main_bytes = gitrepo.read(d.main_path)
    merge = gitrepo.merge("feature", expect_conflict=True)
    assert gitrepo.conflicted() == [LOCK], merge.stdout

    out = fix_ok(gitrepo)

    d.assert_feature_moved_onto_main(main_bytes)
    assert gitrepo.conflicted() == []
    assert {d.feature_path, LOCK} <= set(staged(gitrepo))
    assert parse_lock(gitrepo.read(LOCK).decode()).heads == (FEATURE,)
    assert "git merge --continue" in out
    continue_(gitrepo, "merge")
    d.assert_upgrade_creates_feature_table()


def test_fix_says_when_the_file_it_stages_also_held_the_users_unstaged_changes(gitrepo, tmp_path):
    # Merging main into the feature: the feature's revision moves, and its file
    # carries an edit of the user's that was not staged. `git add` takes both.
    d = diverge(gitrepo, tmp_path / "app.db", lock=True)
    gitrepo.checkout("feature")
    gitrepo.merge("main", expect_conflict=True)
    gitrepo.write(d.feature_path, gitrepo.read(d.feature_path) + b"\n# my own note\n")

    out = fix_ok(gitrepo)

    assert parents(gitrepo, FEATURE) == (MAIN,)
    assert gitrepo.git("diff", "--name-only").stdout == ""  # all of it staged
    assert f"note: {d.feature_path} also held changes of yours that were not staged" in out, out
    assert f"note: {LOCK}" not in out  # the lock file was in conflict: resolving it is fix's job

    # Without such changes, no note.
    gitrepo.git("merge", "--abort")
    gitrepo.merge("main", expect_conflict=True)
    out = fix_ok(gitrepo)
    assert parents(gitrepo, FEATURE) == (MAIN,) and "note:" not in out, out


@pytest.mark.parametrize("lock", [True, False], ids=["stopped at the lock file", "clean squash"])
def test_fix_during_a_squash_merge_stages_and_says_git_commit(gitrepo, tmp_path, lock):
    # QA: `git merge --squash` records no MERGE_HEAD. fix moved the feature but
    # staged nothing and named no next step; the lock file stayed unmerged, so
    # `git commit` refused, with nothing from revgraph to say why.
    d = diverge(gitrepo, tmp_path / "app.db", lock=lock)
    main_bytes = gitrepo.read(d.main_path)
    squash = gitrepo.git("merge", "--squash", "feature", check=None)
    assert (squash.returncode != 0) == lock
    assert gitrepo.conflicted() == ([LOCK] if lock else [])

    out = fix_ok(gitrepo)

    d.assert_feature_moved_onto_main(main_bytes)
    assert gitrepo.conflicted() == []
    assert d.feature_path in staged(gitrepo)
    assert "next: git commit" in out
    gitrepo.git("commit", "-q", "-m", "squashed feature")
    assert gitrepo.status() == "" and gitrepo.rev_parse("HEAD~1") == d.main_commit
    d.assert_upgrade_creates_feature_table()


def test_fix_after_a_conflicted_stash_pop_says_the_lock_file_is_still_unmerged(gitrepo):
    # QA: local work stashed, main pulled in, `git stash pop` stops at the lock file.
    # No operation is in progress, so fix stages nothing (right: a popped stash stays
    # unstaged), but it said nothing either, and `git commit` then refused.
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)
    gitrepo.run("lock", check=True)
    gitrepo.commit("base")
    gitrepo.branch("work")
    add(gitrepo, MAIN, BASE)
    gitrepo.run("lock", check=True)
    gitrepo.commit("main: orders")
    gitrepo.checkout("work")
    feature_path = add(gitrepo, FEATURE, BASE)
    gitrepo.run("lock", check=True)
    gitrepo.git("stash", "push", "-u", "-q")
    gitrepo.git("merge", "-q", "main")
    popped = gitrepo.git("stash", "pop", check=None)
    assert popped.returncode != 0 and gitrepo.conflicted() == [LOCK]

    out = fix_ok(gitrepo)

    assert f"moved {FEATURE}: {BASE} -> {MAIN}" in out
    assert f"next: git still lists {LOCK} as unmerged; `git add` it once it looks right" in out
    assert gitrepo.conflicted() == [LOCK]  # fix stages nothing without an operation
    assert feature_path not in staged(gitrepo)
    gitrepo.git("add", LOCK)
    assert gitrepo.conflicted() == [] and parents(gitrepo, FEATURE) == (MAIN,)


def test_fix_run_again_mid_merge_names_what_git_still_holds_and_the_continue_command(gitrepo, tmp_path):
    # QA: after `fix --no-stage` (or a lock file resolved by hand), a second fix said
    # only "nothing to fix", while git still held the lock file in conflict.
    d = diverge(gitrepo, tmp_path / "app.db", lock=True)
    gitrepo.merge("feature", expect_conflict=True)
    first = fix_ok(gitrepo, "--no-stage")
    assert gitrepo.conflicted() == [LOCK]
    # The re-pointed revision is written but not staged: the merge would leave it out.
    assert (f"next: resolve and `git add` what git still holds in conflict ({LOCK}), then "
            f"`git add` what fix wrote ({d.feature_path}), then git merge --continue") in first  # fmt: skip

    out = fix_ok(gitrepo)

    assert "nothing to fix" in out
    assert f"next: resolve and `git add` what git still holds in conflict ({LOCK}), then git merge --continue" in out
    # --no-stage left the re-pointed revision unstaged too: the merge commits what is staged.
    gitrepo.git("add", "-A")
    assert "next: git merge --continue" in fix_ok(gitrepo)
    continue_(gitrepo, "merge")
    assert "next:" not in fix_ok(gitrepo)


def test_fix_during_a_merge_with_another_conflict_names_it_before_continuing(gitrepo, tmp_path):
    # QA: fix said "next: git merge --continue" while notes.txt was still in conflict.
    diverge(gitrepo, tmp_path / "app.db", notes_conflict=True, lock=True)
    gitrepo.merge("feature", expect_conflict=True)
    assert NOTES in gitrepo.conflicted()

    out = fix_ok(gitrepo)

    assert f"resolve and `git add` what git still holds in conflict ({NOTES}), then git merge --continue" in out
    assert gitrepo.conflicted() == [NOTES]


def test_fix_during_a_merge_of_the_prs_target_into_it_moves_the_pr_not_the_target(gitrepo, tmp_path):
    """QA: the PR targets develop while base resolves to main; the PR's revision is
    older by Create Date. Merging develop into the PR, fix moved develop's landed
    revision (Create Date decided); the branch merged in is what the work branch
    builds on, as the upstream is in `git rebase develop`."""
    db = tmp_path / "develop.db"
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None, create_date=AT_0)
    gitrepo.commit("base")
    gitrepo.branch("develop")
    gitrepo.branch("pr")
    gitrepo.checkout("pr")
    pr_path = add(gitrepo, FEATURE, BASE, create_date=AT_0 + ONE_HOUR)  # older than develop's
    gitrepo.commit("pr: add a table")
    gitrepo.checkout("develop")
    develop_path = add(gitrepo, MAIN, BASE, create_date=AT_0 + 2 * ONE_HOUR)
    gitrepo.commit("develop: a PR landed")
    assert upgrade(gitrepo, db) == {table(BASE), table(MAIN)}  # develop's database ran it
    develop_bytes = gitrepo.read(develop_path)
    gitrepo.checkout("pr")
    gitrepo.git("merge", "--no-commit", "--no-ff", "develop")

    out = fix_ok(gitrepo)

    assert f"moved {FEATURE}" in out and f"moved {MAIN}" not in out, out
    assert gitrepo.read(develop_path) == develop_bytes
    assert parents(gitrepo, FEATURE) == (MAIN,)
    assert pr_path in staged(gitrepo)
    assert upgrade(gitrepo, db) == {table(BASE), table(MAIN), table(FEATURE)}


# ------------------------------------------ the feature side (ours inverted)
def test_fix_during_merge_of_main_into_feature_moves_the_feature_revision(gitrepo, tmp_path):
    d = diverge(gitrepo, tmp_path / "app.db")
    main_bytes = gitrepo.read(d.main_path)
    gitrepo.checkout("feature")
    gitrepo.git("merge", "--no-commit", "--no-ff", "main")
    assert exists_in(gitrepo, "HEAD", d.feature_path)  # here the feature is "ours"

    out = fix_ok(gitrepo)

    d.assert_feature_moved_onto_main(main_bytes)
    assert d.feature_path in staged(gitrepo)
    assert "git merge --continue" in out
    continue_(gitrepo, "merge")
    assert gitrepo.current_branch() == "feature"
    d.assert_upgrade_creates_feature_table()


def test_fix_during_stopped_rebase_of_feature_onto_main_moves_the_feature_revision(gitrepo, tmp_path):
    d = diverge(gitrepo, tmp_path / "app.db", notes_conflict=True)
    main_bytes = gitrepo.read(d.main_path)
    gitrepo.checkout("feature")
    gitrepo.rebase("main", expect_conflict=True)
    # In a rebase git's "ours" is the upstream: HEAD is main's commit.
    assert gitrepo.rev_parse("HEAD") == d.main_commit

    out = fix_ok(gitrepo)

    d.assert_feature_moved_onto_main(main_bytes)
    assert d.feature_path in staged(gitrepo)
    assert "git rebase --continue" in out
    resolve_notes(gitrepo)
    continue_(gitrepo, "rebase")
    assert gitrepo.current_branch() == "feature"
    assert gitrepo.show("feature", d.main_path) == main_bytes
    assert gitrepo.show("feature", d.feature_path) == gitrepo.read(d.feature_path)
    d.assert_upgrade_creates_feature_table()


def test_fix_after_a_completed_rebase_moves_the_feature_and_stages_nothing(gitrepo, tmp_path):
    d = diverge(gitrepo, tmp_path / "app.db")
    main_bytes = gitrepo.read(d.main_path)
    gitrepo.checkout("feature")
    gitrepo.rebase("main")

    out = fix_ok(gitrepo)

    d.assert_feature_moved_onto_main(main_bytes)
    assert staged(gitrepo) == []
    assert "--continue" not in out
    assert gitrepo.status().split() == ["M", d.feature_path]
    d.assert_upgrade_creates_feature_table()


# --------------------------------------------------- cherry-pick and git am
def test_fix_during_stopped_cherry_pick_stages_and_says_cherry_pick_continue(gitrepo, tmp_path):
    d = diverge(gitrepo, tmp_path / "app.db", notes_conflict=True)
    main_bytes = gitrepo.read(d.main_path)
    gitrepo.cherry_pick(d.feature_commit, expect_conflict=True)

    out = fix_ok(gitrepo)

    d.assert_feature_moved_onto_main(main_bytes)
    assert d.feature_path in staged(gitrepo)
    assert "git cherry-pick --continue" in out
    resolve_notes(gitrepo)
    continue_(gitrepo, "cherry-pick")
    d.assert_upgrade_creates_feature_table()


def test_fix_during_stopped_git_am_says_am_continue(gitrepo, tmp_path):
    d = diverge(gitrepo, tmp_path / "app.db", notes_conflict=True)
    main_bytes = gitrepo.read(d.main_path)
    patch = gitrepo.git("format-patch", "-1", "--stdout", d.feature_commit).stdout
    am = gitrepo.git("am", "-3", check=None, input=patch)
    assert am.returncode != 0 and gitrepo.conflicted() == [NOTES], am.stdout + am.stderr

    out = fix_ok(gitrepo)

    d.assert_feature_moved_onto_main(main_bytes)
    assert d.feature_path in staged(gitrepo)
    assert "git am --continue" in out
    resolve_notes(gitrepo)
    continue_(gitrepo, "am")
    d.assert_upgrade_creates_feature_table()


# ------------------------------------------- a clone whose main is unpushed
@pytest.mark.parametrize("operation", ["merge", "cherry-pick"])
def test_fix_on_a_clones_unpushed_main_never_moves_mains_revision(make_gitrepo, tmp_path, operation):
    """origin/HEAD (the default base) lags behind local main: main's revision is still ours to keep.

    main's revision is younger than the feature's, so stacking the two as if
    both were new would move main's onto the feature's: the database that
    already applied it would then never get the feature's table.
    """
    upstream = make_gitrepo("upstream")
    upstream.init_env(commit=False)
    add(upstream, BASE, None, create_date=AT_0)
    upstream.write(NOTES, "shared\n")
    upstream.commit("base")
    repo = upstream.clone(tmp_path / "clone")
    repo.git("checkout", "-q", "-b", "feature")
    feature_path = add(repo, FEATURE, BASE, create_date=AT_0 + ONE_HOUR)
    repo.write(NOTES, "feature's notes\n")
    feature_commit = repo.commit("feature")
    repo.checkout("main")
    main_path = add(repo, MAIN, BASE, create_date=AT_0 + 2 * ONE_HOUR)
    repo.write(NOTES, "main's notes\n")
    repo.commit("main: merged locally, not pushed yet")
    main_bytes = repo.read(main_path)
    db = tmp_path / "app.db"
    assert migrate(repo, db) == {table(BASE), table(MAIN)}
    if operation == "merge":
        repo.merge("feature", expect_conflict=True)
    else:
        repo.cherry_pick(feature_commit, expect_conflict=True)

    out = fix_ok(repo)

    assert repo.read(main_path) == main_bytes, out
    assert parents(repo, FEATURE) == (MAIN,)
    assert feature_path in staged(repo)
    assert f"git {operation} --continue" in out
    assert upgrade(repo, db) == {table(BASE), table(MAIN), table(FEATURE)}


# ------------------------------- rebasing main itself, in a repo with no remote
def test_fix_while_rebasing_main_onto_a_feature_with_no_remote_never_moves_mains_revision(gitrepo, tmp_path):
    """QA: no origin; on main, `git rebase feature` stops on the lock file.

    main's local tip does not count during its own rebase (it would hold unpushed
    commits), and with no remote copy nothing else protected main's revision: fix
    moved it onto the feature's, and the database that applied it would never get
    the feature's table. main's tip before the rebase is the only copy of what
    landed, so it counts: both heads have landed, and fix refuses.
    """
    d = diverge(gitrepo, tmp_path / "app.db", lock=True)
    main_bytes = gitrepo.read(d.main_path)
    gitrepo.rebase("feature", expect_conflict=True)
    assert gitrepo.conflicted() == [LOCK]
    status = gitrepo.status()

    proc = gitrepo.run("fix", check=1)

    assert f"moved {MAIN}" not in proc.stdout, proc.stdout + proc.stderr
    assert gitrepo.read(d.main_path) == main_bytes and parents(gitrepo, MAIN) == (BASE,)
    assert gitrepo.status() == status and gitrepo.conflicted() == [LOCK]  # nothing written nor staged
    assert "main before the rebase" in proc.stderr  # what made main's revision landed
    assert "revgraph fix --strategy merge" in proc.stderr  # what to run next

    # The way out it names moves nothing: a merge revision joins both heads.
    out = fix_ok(gitrepo, "--strategy", "merge")
    assert gitrepo.read(d.main_path) == main_bytes and parents(gitrepo, FEATURE) == (BASE,)
    assert "git rebase --continue" in out
    d.assert_upgrade_creates_feature_table()
    continue_(gitrepo, "rebase")


# ------------------------------------------ no base branch: fix cannot judge
def _on_trunk(d: Diverged) -> None:
    """main renamed trunk: no base resolves (no origin, no main, no [tool.revgraph] base)."""
    d.repo.git("branch", "-m", "main", "trunk")


@pytest.mark.parametrize("operation", ["merge", "cherry-pick"])
def test_fix_during_a_merge_with_no_base_stops_before_writing_like_check(gitrepo, tmp_path, operation):
    """QA: default branch trunk, no origin; `git merge trunk` on feature stopped on the
    lock file. fix took every revision as new ("a new base"), wrote and staged a lock
    file with two heads (git then took the conflict as resolved) and exited 1, while
    check said "no base branch found". Without a base fix cannot tell the branch you
    are on from the base (whose revisions must stay), so it writes nothing."""
    d = diverge(gitrepo, tmp_path / "app.db", lock=True)
    _on_trunk(d)
    if operation == "merge":
        gitrepo.checkout("feature")
        gitrepo.merge("trunk", expect_conflict=True)
    else:
        gitrepo.cherry_pick(d.feature_commit, expect_conflict=True)
    assert gitrepo.conflicted() == [LOCK]
    status = gitrepo.status()
    lock_bytes = gitrepo.read(LOCK)

    proc = gitrepo.run("fix", check=2)

    assert "no base branch found" in proc.stderr, proc.stdout + proc.stderr
    assert "--base REF" in proc.stderr and "trunk" in proc.stderr  # what to run next, and the branches
    assert "Traceback" not in proc.stderr
    assert gitrepo.status() == status and gitrepo.conflicted() == [LOCK]  # nothing written nor staged
    assert gitrepo.read(LOCK) == lock_bytes
    assert gitrepo.run("check", check=2).stderr.startswith("revgraph: error: no base branch found")

    # Naming the base, as the hint says, fixes it: the feature moves, trunk's stays.
    out = fix_ok(gitrepo, "--base", "trunk")
    d.assert_feature_moved_onto_main(gitrepo.show("trunk", d.main_path))
    assert f"git {operation} --continue" in out
    d.assert_upgrade_creates_feature_table()


def test_fix_while_rebasing_trunk_with_no_base_stops_before_moving_trunks_revision(gitrepo, tmp_path):
    """The rebase twin of the two above: on trunk (no base resolves), `git rebase
    feature` stopped on the lock file and fix moved trunk's own revision onto the
    feature's ("landed ... came from: the rebase's upstream"), exit 0. Without a
    base fix cannot tell that the branch being rebased is the base, so it stops."""
    d = diverge(gitrepo, tmp_path / "app.db", lock=True)
    _on_trunk(d)
    trunk_bytes = gitrepo.read(d.main_path)
    gitrepo.rebase("feature", expect_conflict=True)
    status = gitrepo.status()

    proc = gitrepo.run("fix", check=2)

    assert "no base branch found" in proc.stderr and "during a rebase" in proc.stderr, proc.stdout + proc.stderr
    assert "--base REF" in proc.stderr
    assert gitrepo.read(d.main_path) == trunk_bytes and gitrepo.status() == status

    # Named as the base, trunk is the branch being rebased with no remote copy: its
    # revision has landed, as has the feature's, and fix refuses to move either.
    proc = gitrepo.run("fix", "--base", "trunk", check=1)
    assert "trunk before the rebase" in proc.stderr, proc.stdout + proc.stderr
    assert gitrepo.read(d.main_path) == trunk_bytes and gitrepo.status() == status
