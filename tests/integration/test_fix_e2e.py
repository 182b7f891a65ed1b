"""`revgraph fix` end to end on real repositories (issue 4, "How it must be shown").

Each test builds a real git repository with the example-style environment,
migrates a SQLite database to what has landed, runs the real CLI (or, for
failure injection, the API with a real plan), and ends with alembic itself:
revision parents read by alembic's ScriptDirectory and alembic's
``upgrade head`` (``heads`` on labelled lines) creating the table each
revision is named after.

Unless a test says otherwise the feature is being merged into ``main``
(``git merge --no-commit --no-ff``), the case where git's "ours" is the side
that has landed.
"""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest

from tests.support import GitRepo, sqlite_tables

BASE = "a1a1a1a1a1a1"
MAIN = "b2b2b2b2b2b2"
FEATURE = "c3c3c3c3c3c3"
MERGE_ID = "d4d4d4d4d4d4"
VERSIONS = "migrations/versions"


# ------------------------------------------------------------------ helpers
def table(rev_id: str) -> str:
    return f"t_{rev_id}"


def tables(*rev_ids: str) -> set[str]:
    return {table(rid) for rid in rev_ids}


def add(repo: GitRepo, rev_id: str, down, **kw) -> str:
    """A revision whose upgrade() creates a table named after it."""
    body = (
        f'op.create_table("{table(rev_id)}", sa.Column("id", sa.Integer(), primary_key=True))',
        f'op.drop_table("{table(rev_id)}")',
    )
    return repo.add_revision(rev_id, down, message=kw.pop("message", f"create {table(rev_id)}"), body=body, **kw)


def upgrade(repo: GitRepo, db: Path, target: str = "head") -> set[str]:
    """Real alembic ``upgrade`` on the SQLite file ``db``; returns the app's tables.

    alembic's own ``command.upgrade`` run in this process, the function the
    ``alembic upgrade`` CLI calls (tests/integration/test_fix_gitops.py runs
    the CLI itself; here it would add 1.5 s a test). It runs the repository's
    env.py against the file; the config has no file name, so env.py skips
    ``fileConfig`` (which would disable the test process's loggers), and the
    URL goes in as ``-x db=URL`` does.
    """
    from argparse import Namespace

    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(repo.path / "migrations"))
    config.cmd_opts = Namespace(x=[f"db=sqlite:///{db}"])
    command.upgrade(config, target)
    return sqlite_tables(db) - {"alembic_version"}


def script(repo: GitRepo):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(Config(str(repo.path / "alembic.ini")))


def parents(repo: GitRepo, rev_id: str) -> tuple[str, ...]:
    """``down_revision`` as alembic itself reads it from the working tree."""
    from alembic import util

    return tuple(util.to_tuple(script(repo).get_revision(rev_id).down_revision, default=()))


def alembic_heads(repo: GitRepo) -> set[str]:
    return set(script(repo).get_heads())


def versions(repo: GitRepo) -> dict[str, bytes]:
    """Every file in the versions folder (temp files and backups included) and its bytes."""
    folder = repo.path / VERSIONS
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def fix_ok(repo: GitRepo, *args: str) -> str:
    proc = repo.run("fix", *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def merge_into_main(repo: GitRepo, branch: str = "feature") -> None:
    repo.checkout("main")
    repo.git("merge", "--no-commit", "--no-ff", branch)


def at(minute: int) -> datetime.datetime:
    return datetime.datetime(2024, 6, 3, 9, minute, 0, 125000)


def only_parent_changed(old: bytes, new: bytes, was: str, now: str) -> bool:
    """The edit touched the parent id in exactly its two places: `Revises:` and `down_revision`."""
    assert old.count(was.encode()) == 2, "the old parent must appear exactly twice"
    return new == old.replace(was.encode(), now.encode())


def landed_and_feature(repo: GitRepo, db: Path) -> tuple[str, str]:
    """BASE on main; feature adds FEATURE, main adds MAIN (both on BASE); db at main's head."""
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
    assert upgrade(repo, db) == tables(BASE, MAIN)
    return main_path, feature_path


# ------------------------------------------------------------------ shapes
def test_chain_of_three_new_revisions_moves_by_its_root_only(gitrepo, tmp_path):
    db = tmp_path / "app.db"
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)
    gitrepo.commit("base")
    gitrepo.branch("feature")
    add(gitrepo, MAIN, BASE)
    gitrepo.commit("main")
    gitrepo.checkout("feature")
    chain = ["c1c1c1c1c1c1", "c2c2c2c2c2c2", "c3c3c3c3c3c3"]
    paths = [add(gitrepo, rid, down) for rid, down in zip(chain, [BASE, *chain[:2]])]
    gitrepo.commit("feature: three revisions")
    before = {p: gitrepo.read(p) for p in paths}
    gitrepo.checkout("main")
    assert upgrade(gitrepo, db) == tables(BASE, MAIN)
    merge_into_main(gitrepo)

    out = fix_ok(gitrepo)

    assert [parents(gitrepo, rid) for rid in chain] == [(MAIN,), (chain[0],), (chain[1],)]
    assert only_parent_changed(before[paths[0]], gitrepo.read(paths[0]), BASE, MAIN)
    assert [gitrepo.read(p) for p in paths[1:]] == [before[p] for p in paths[1:]]
    assert out.count("moved ") == 1
    assert "re-point" not in out  # the move is said once, by its "moved" line
    assert upgrade(gitrepo, db) == tables(BASE, MAIN, *chain)


def test_merge_revision_options_given_to_the_rebase_are_named_as_ignored(gitrepo, tmp_path):
    landed_and_feature(gitrepo, tmp_path / "app.db")
    merge_into_main(gitrepo)
    proc = gitrepo.run("fix", "--rev-id", "abcabcabcabc", "-m", "join")
    assert proc.returncode == 0, proc.stderr
    assert "-m/--message and --rev-id only name a merge revision" in proc.stderr
    assert parents(gitrepo, FEATURE) == (MAIN,)  # the rebase ran all the same
    assert not any("abcabcabcabc" in name for name in versions(gitrepo))


def test_merging_the_base_into_the_branch_names_the_base_once_as_where_landed_revisions_came_from(gitrepo, tmp_path):
    landed_and_feature(gitrepo, tmp_path / "app.db")
    gitrepo.checkout("feature")
    gitrepo.git("merge", "--no-commit", "--no-ff", "main")
    out = fix_ok(gitrepo)
    assert "landed revisions (never moved) came from: main\n" in out  # not "main + the branch being merged in"
    assert parents(gitrepo, FEATURE) == (MAIN,)


def test_rebasing_the_branch_onto_the_base_names_the_base_once_as_where_landed_revisions_came_from(gitrepo, tmp_path):
    landed_and_feature(gitrepo, tmp_path / "app.db")
    gitrepo.run("install", check=True)  # the lock file makes the rebase stop
    gitrepo.commit("revgraph on main")
    gitrepo.checkout("feature")
    gitrepo.run("lock", check=True)
    gitrepo.commit("feature: lock")
    gitrepo.rebase("main", expect_conflict=True)
    out = fix_ok(gitrepo)
    assert "landed revisions (never moved) came from: main\n" in out  # not "main + the rebase's upstream"
    assert parents(gitrepo, FEATURE) == (MAIN,)


def test_two_new_chains_are_stacked_by_create_date_older_first(gitrepo, tmp_path):
    db = tmp_path / "app.db"
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None, create_date=at(0))
    gitrepo.commit("base")
    gitrepo.branch("feature")
    add(gitrepo, MAIN, BASE, create_date=at(1))
    gitrepo.commit("main")
    gitrepo.checkout("feature")
    # The newer chain sorts first by id and by file name: only the date puts it second.
    newer = ["0e0e0e0e0e01", "0e0e0e0e0e02"]
    older = ["f0f0f0f0f001", "f0f0f0f0f002"]
    add(gitrepo, newer[0], BASE, create_date=at(30))
    add(gitrepo, newer[1], newer[0], create_date=at(31))
    add(gitrepo, older[0], BASE, create_date=at(10))
    add(gitrepo, older[1], older[0], create_date=at(11))
    gitrepo.commit("feature: two chains")
    gitrepo.checkout("main")
    assert upgrade(gitrepo, db) == tables(BASE, MAIN)
    merge_into_main(gitrepo)

    fix_ok(gitrepo)

    assert parents(gitrepo, older[0]) == (MAIN,)
    assert parents(gitrepo, newer[0]) == (older[1],)
    assert parents(gitrepo, older[1]) == (older[0],) and parents(gitrepo, newer[1]) == (newer[0],)
    assert alembic_heads(gitrepo) == {newer[1]}
    assert upgrade(gitrepo, db) == tables(BASE, MAIN, *older, *newer)


def test_history_with_merge_revisions_landed_and_new_is_rebased(gitrepo, tmp_path):
    db = tmp_path / "app.db"
    p, q, r = "a2a2a2a2a2a2", "a3a3a3a3a3a3", "a4a4a4a4a4a4"
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)
    add(gitrepo, p, BASE)
    add(gitrepo, q, BASE)
    add(gitrepo, r, (p, q))  # a landed merge revision
    gitrepo.commit("landed history with a merge")
    gitrepo.branch("feature")
    main_path = add(gitrepo, MAIN, r)
    gitrepo.commit("main")
    gitrepo.checkout("feature")
    f1, f2a, f2b, f3 = "c1c1c1c1c1c1", "c2a2c2a2c2a2", "c2b2c2b2c2b2", "c3c3c3c3c3c3"
    add(gitrepo, f1, r)
    add(gitrepo, f2a, f1)
    add(gitrepo, f2b, f1)
    add(gitrepo, f3, (f2a, f2b))  # the feature's own merge revision
    gitrepo.commit("feature: a diamond")
    gitrepo.checkout("main")
    main_bytes = gitrepo.read(main_path)
    assert upgrade(gitrepo, db) == tables(BASE, p, q, r, MAIN)
    merge_into_main(gitrepo)

    fix_ok(gitrepo)

    assert parents(gitrepo, f1) == (MAIN,)
    assert parents(gitrepo, f3) == (f2a, f2b)
    assert parents(gitrepo, r) == (p, q) and gitrepo.read(main_path) == main_bytes
    assert upgrade(gitrepo, db) == tables(BASE, p, q, r, MAIN, f1, f2a, f2b, f3)


def test_each_branch_labelled_line_is_rebased_onto_its_own_head(gitrepo, tmp_path):
    db = tmp_path / "app.db"
    l0, l1, lm, lf = "e0e0e0e0e0e0", "e1e1e1e1e1e1", "e2e2e2e2e2e2", "e3e3e3e3e3e3"
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)
    add(gitrepo, l0, None, branch_labels="reporting")
    add(gitrepo, l1, l0)
    gitrepo.commit("two lines")
    gitrepo.branch("feature")
    add(gitrepo, MAIN, BASE)
    add(gitrepo, lm, l1)
    gitrepo.commit("main: one on each line")
    gitrepo.checkout("feature")
    add(gitrepo, FEATURE, BASE)
    add(gitrepo, lf, l1)
    gitrepo.commit("feature: one on each line")
    gitrepo.checkout("main")
    assert upgrade(gitrepo, db, "heads") == tables(BASE, MAIN, l0, l1, lm)
    merge_into_main(gitrepo)

    fix_ok(gitrepo)

    assert parents(gitrepo, FEATURE) == (MAIN,)
    assert parents(gitrepo, lf) == (lm,)
    assert parents(gitrepo, lm) == (l1,)
    assert alembic_heads(gitrepo) == {FEATURE, lf}
    assert upgrade(gitrepo, db, "heads") == tables(BASE, MAIN, l0, l1, lm, FEATURE, lf)


@pytest.mark.parametrize(
    ("style", "newline", "assignment"),
    [
        ("typed", "\n", "down_revision: Union[str, Sequence[str], None] = '{}'"),
        ("generic", "\n", "down_revision = '{}'"),
        ("custom", "\r\n", 'down_revision: str | tuple[str, ...] | None = "{}"'),
    ],
    ids=["typed", "untyped", "hand-written-crlf"],
)
def test_rebase_edits_only_the_parent_and_keeps_header_style_and_newlines(
    gitrepo, tmp_path, style, newline, assignment
):
    db = tmp_path / "app.db"
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)
    gitrepo.commit("base")
    gitrepo.branch("feature")
    add(gitrepo, MAIN, BASE)
    gitrepo.commit("main")
    gitrepo.checkout("feature")
    path = add(gitrepo, FEATURE, BASE, style=style, newline=newline)
    gitrepo.commit("feature")
    old = gitrepo.read(path)
    gitrepo.checkout("main")
    assert upgrade(gitrepo, db) == tables(BASE, MAIN)
    merge_into_main(gitrepo)

    fix_ok(gitrepo)

    new = gitrepo.read(path)
    assert only_parent_changed(old, new, BASE, MAIN)
    nl = newline.encode()
    changed = [a for a, b in zip(old.split(nl), new.split(nl), strict=True) if a != b]
    assert [line.split(b":")[0].split(b"=")[0].strip() for line in changed] == [b"Revises", b"down_revision"]
    assert assignment.format(MAIN).encode() + nl in new
    if newline == "\r\n":
        assert new.count(b"\n") == new.count(b"\r\n") == old.count(b"\r\n")
    assert parents(gitrepo, FEATURE) == (MAIN,)
    assert upgrade(gitrepo, db) == tables(BASE, MAIN, FEATURE)


# ---------------------------------------------------------- merge strategy
def test_merge_strategy_writes_what_alembic_merge_writes(gitrepo, tmp_path):
    db = tmp_path / "app.db"
    landed_and_feature(gitrepo, db)
    merge_into_main(gitrepo)
    twin = GitRepo(tmp_path / "twin", gitrepo.env)
    shutil.copytree(gitrepo.path, twin.path)
    before = versions(gitrepo)

    out = fix_ok(gitrepo, "--strategy", "merge", "-m", "merge heads", "--rev-id", MERGE_ID)
    twin.alembic("merge", "-m", "merge heads", "--rev-id", MERGE_ID, "heads")

    ours = {n: b for n, b in versions(gitrepo).items() if n not in before}
    theirs = {n: b for n, b in versions(twin).items() if n not in before}
    assert list(ours) == list(theirs) == [f"{MERGE_ID}_merge_heads.py"]
    name = next(iter(ours))
    # The Create Date is "now" in each: every other line must match byte for byte.
    assert _without_create_date(ours[name]) == _without_create_date(theirs[name])
    assert len(ours[name].split(b"\n")) == len(theirs[name].split(b"\n"))
    assert {n: b for n, b in versions(gitrepo).items() if n in before} == before
    assert f"{VERSIONS}/{name}" in gitrepo.git("diff", "--cached", "--name-only").stdout
    assert "git merge --continue" in out
    assert alembic_heads(gitrepo) == {MERGE_ID}
    assert set(parents(gitrepo, MERGE_ID)) == {MAIN, FEATURE}
    assert upgrade(gitrepo, db) == tables(BASE, MAIN, FEATURE)


def _without_create_date(data: bytes) -> list[bytes]:
    return [line for line in data.split(b"\n") if not line.startswith(b"Create Date:")]


def test_merge_strategy_is_refused_when_there_is_only_one_head(gitrepo):
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)
    add(gitrepo, MAIN, BASE)
    gitrepo.commit("one head")
    before = versions(gitrepo)

    proc = gitrepo.run("fix", "--strategy", "merge", "-m", "merge heads", check=1)

    assert "only one head" in proc.stderr and MAIN in proc.stderr
    assert "Traceback" not in proc.stderr
    assert versions(gitrepo) == before
    assert gitrepo.status() == ""


@pytest.mark.parametrize("message", ['a """ b', "a \\N b"])
def test_merge_message_that_breaks_the_docstring_is_blamed_not_the_template(gitrepo, message):
    # alembic's template puts -m in the new file's docstring: `"""` ends it
    # and `\N` is an escape Python refuses, so the rendered file cannot load.
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)
    gitrepo.commit("base")
    add(gitrepo, MAIN, BASE)
    add(gitrepo, FEATURE, BASE)
    before = versions(gitrepo)

    proc = gitrepo.run("fix", "--strategy", "merge", "-m", message, check=2)

    assert f"the message {message!r} holds" in proc.stderr
    assert "without it" in proc.stderr and "Traceback" not in proc.stderr
    assert versions(gitrepo) == before


@pytest.mark.parametrize("setting", ["timezone = Mars/Olympus", "file_template = %%(rev)s_%%(foo)s"])
def test_a_setting_alembic_merge_cannot_use_is_exit_2_not_an_internal_error(gitrepo, setting):
    # QA: exit 3, "internal error ... this is a bug in revgraph".
    gitrepo.init_env(commit=False)
    ini = gitrepo.read("alembic.ini")
    assert b"[alembic]\n" in ini
    gitrepo.write("alembic.ini", ini.replace(b"[alembic]\n", f"[alembic]\n{setting}\n".encode(), 1))
    add(gitrepo, BASE, None)
    gitrepo.commit("base")
    add(gitrepo, MAIN, BASE)
    add(gitrepo, FEATURE, BASE)
    before = versions(gitrepo)

    proc = gitrepo.run("fix", "--strategy", "merge", "-m", "join", check=2)

    assert "alembic merge fails the same way" in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert versions(gitrepo) == before


def test_merge_strategy_is_refused_like_alembic_merge_when_an_id_is_declared_twice(gitrepo, tmp_path):
    # prefect's two dialect folders read as one recursive location: landed ids
    # declared by two files. alembic keeps one copy per id but lists the other
    # among its heads, so `alembic merge heads` refuses ("... is not a head
    # revision" or, when no copy has a child, "Duplicate head revisions
    # specified"); a merge revision naming such an id joins one file at random.
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)
    gitrepo.commit("base")
    gitrepo.branch("feature")
    add(gitrepo, MAIN, BASE)
    add(gitrepo, MAIN, BASE, message="the same id in a second file")
    gitrepo.commit("main: one id, two files")
    gitrepo.checkout("feature")
    add(gitrepo, FEATURE, BASE)
    gitrepo.commit("feature")
    merge_into_main(gitrepo)
    twin = GitRepo(tmp_path / "twin", gitrepo.env)
    shutil.copytree(gitrepo.path, twin.path)
    before = versions(gitrepo)
    status = gitrepo.status()

    proc = gitrepo.run("fix", "--strategy", "merge", "-m", "merge heads", "--rev-id", MERGE_ID, check=1)
    refused = twin.alembic("merge", "-m", "merge heads", "--rev-id", MERGE_ID, "heads", check=None)

    said = refused.stdout + refused.stderr
    assert refused.returncode != 0 and ("not a head revision" in said or "Duplicate head revisions" in said)
    assert versions(twin) == before
    assert f"revision {MAIN} is declared by several files" in proc.stderr
    assert "RG103" in proc.stderr and "Traceback" not in proc.stderr
    assert versions(gitrepo) == before
    assert gitrepo.status() == status
    # The rebase refuses the same id in the same words.
    rebase = gitrepo.run("fix", check=1)
    assert f"revision {MAIN} is declared by several files" in rebase.stderr and "RG103" in rebase.stderr
    assert versions(gitrepo) == before


def test_merge_strategy_refuses_a_template_that_quotes_down_revision(gitrepo, tmp_path):
    # airflow's script.py.mako writes `down_revision = "${down_revision}"`: a
    # merge's tuple becomes one string, an id nobody has. alembic merge writes
    # that file and then cannot load the graph; fix wrote it too and exited 1
    # with three heads, pairing each with another file. Now it refuses first.
    db = tmp_path / "app.db"
    landed_and_feature(gitrepo, db)
    merge_into_main(gitrepo)
    template = gitrepo.path / "migrations" / "script.py.mako"
    quoted = template.read_text().replace("= ${repr(down_revision)}", '= "${down_revision}"')
    assert quoted != template.read_text()
    template.write_text(quoted)
    before, status = versions(gitrepo), gitrepo.status()

    for args in (("--dry-run",), ()):
        proc = gitrepo.run("fix", "--strategy", "merge", "--rev-id", MERGE_ID, *args, check=1)
        assert "renders the merge revision's down_revision as" in proc.stderr, proc.stderr
        assert MAIN in proc.stderr and FEATURE in proc.stderr and "${repr(down_revision)}" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert versions(gitrepo) == before and gitrepo.status() == status

    template.write_text(quoted.replace('= "${down_revision}"', "= ${repr(down_revision)}"))
    fix_ok(gitrepo, "--strategy", "merge", "--rev-id", MERGE_ID)
    assert alembic_heads(gitrepo) == {MERGE_ID}


# ------------------------------------------------------------- atomicity
def two_chain_plan(repo: GitRepo, db: Path):
    """Two new chains during a merge into main: a real plan that edits two files."""
    from revgraph import api

    repo.init_env(commit=False)
    add(repo, BASE, None, create_date=at(0))
    repo.commit("base")
    repo.branch("feature")
    add(repo, MAIN, BASE, create_date=at(1))
    repo.commit("main")
    repo.checkout("feature")
    add(repo, "c1c1c1c1c1c1", BASE, create_date=at(10))
    add(repo, "c2c2c2c2c2c2", BASE, create_date=at(20))
    repo.commit("feature: two chains")
    repo.checkout("main")
    upgrade(repo, db)
    merge_into_main(repo)
    with api.Workspace(api.Options(cwd=repo.path)) as ws:
        outcome = api.fix(ws, dry_run=True)
        allowed = [loc for env in ws.environments for loc in env.version_locations]
        root = ws.root
    assert len(outcome.plan.edits) == 2, outcome.plan
    return outcome.plan, root, allowed


@pytest.mark.parametrize("step", ["write", "rename"])
def test_failure_on_the_second_file_leaves_both_files_as_they_were(gitrepo, tmp_path, step):
    from revgraph.errors import WriteError
    from revgraph.fixes.apply import apply_plan

    db = tmp_path / "app.db"
    plan, root, allowed = two_chain_plan(gitrepo, db)
    before = versions(gitrepo)
    status = gitrepo.status()
    second = plan.edits[1].path
    calls = []

    def fault(at_step: str, path: str) -> None:
        calls.append((at_step, path))
        if (at_step, path) == (step, second):
            raise OSError(28, "No space left on device")

    with pytest.raises(WriteError, match="left as it was"):
        apply_plan(plan, root, allowed_dirs=allowed, _fault=fault)

    assert (step, second) in calls
    assert versions(gitrepo) == before  # no edit, no temp file, no backup left
    assert gitrepo.status() == status
    # alembic agrees nothing changed: still three heads. The same plan then applies cleanly.
    assert alembic_heads(gitrepo) == {MAIN, "c1c1c1c1c1c1", "c2c2c2c2c2c2"}
    assert apply_plan(plan, root, allowed_dirs=allowed) == [edit.path for edit in plan.edits]
    assert upgrade(gitrepo, db) == tables(BASE, MAIN, "c1c1c1c1c1c1", "c2c2c2c2c2c2")


def test_file_changed_between_plan_and_write_is_refused_and_nothing_written(gitrepo, tmp_path):
    from revgraph.errors import ConcurrentEditError
    from revgraph.fixes.apply import apply_plan

    plan, root, allowed = two_chain_plan(gitrepo, tmp_path / "app.db")
    first, second = (edit.path for edit in plan.edits)
    edited = gitrepo.read(second) + b"# edited by hand after planning\n"
    gitrepo.write(second, edited)
    before = versions(gitrepo)

    with pytest.raises(ConcurrentEditError, match="changed since revgraph read it"):
        apply_plan(plan, root, allowed_dirs=allowed)

    assert versions(gitrepo) == before
    assert gitrepo.read(second) == edited and gitrepo.read(first) == plan.edits[0].old


# ------------------------------------------------- idempotence and dry run
def test_second_fix_changes_nothing_and_check_is_clean(gitrepo, tmp_path):
    landed_and_feature(gitrepo, tmp_path / "app.db")
    merge_into_main(gitrepo)
    fix_ok(gitrepo)
    before, status = versions(gitrepo), gitrepo.status()

    out = fix_ok(gitrepo)

    assert "nothing to fix" in out
    assert versions(gitrepo) == before and gitrepo.status() == status
    check = gitrepo.run("check", "--base", "main")
    assert check.returncode == 0, check.stdout + check.stderr


def test_dry_run_prints_a_diff_git_can_apply_and_writes_nothing(gitrepo, tmp_path):
    db = tmp_path / "app.db"
    _, feature_path = landed_and_feature(gitrepo, db)
    merge_into_main(gitrepo)
    before, status = versions(gitrepo), gitrepo.status()

    out = fix_ok(gitrepo, "--dry-run")

    assert versions(gitrepo) == before and gitrepo.status() == status
    assert "nothing was written" in out
    diff = out[: out.index("\nmoved ") + 1]
    assert diff.startswith(f"--- a/{feature_path}\n+++ b/{feature_path}\n@@ ")
    assert f"-down_revision: Union[str, Sequence[str], None] = '{BASE}'\n" in diff
    assert f"+down_revision: Union[str, Sequence[str], None] = '{MAIN}'\n" in diff
    # The printed diff is exactly the fix: applied by git, it leaves nothing to fix.
    gitrepo.git("apply", input=diff)
    assert "nothing to fix" in fix_ok(gitrepo)
    assert upgrade(gitrepo, db) == tables(BASE, MAIN, FEATURE)


# ------------------------------------------------------------------ --onto
def test_onto_ref_outside_any_git_operation_rebases_onto_that_refs_head(gitrepo, tmp_path):
    staging_db = tmp_path / "staging.db"
    staged_rev = "5a5a5a5a5a5a"
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None, create_date=at(0))
    gitrepo.commit("base")
    gitrepo.branch("staging")
    gitrepo.branch("feature")
    gitrepo.checkout("staging")
    staging_path = add(gitrepo, staged_rev, BASE, create_date=at(40))
    gitrepo.commit("staging: deployed to the staging database")
    assert upgrade(gitrepo, staging_db) == tables(BASE, staged_rev)
    gitrepo.checkout("feature")
    add(gitrepo, FEATURE, BASE, create_date=at(10))  # older than staging's revision
    gitrepo.commit("feature")
    gitrepo.merge("staging")
    staging_bytes = gitrepo.read(staging_path)
    # Against main alone, staging's revision is new too and the older feature goes first.
    assert f"moved {staged_rev}" in fix_ok(gitrepo, "--dry-run")

    out = fix_ok(gitrepo, "--onto", "staging")

    assert parents(gitrepo, FEATURE) == (staged_rev,)
    assert gitrepo.read(staging_path) == staging_bytes
    assert "--continue" not in out
    assert gitrepo.git("diff", "--cached", "--name-only").stdout == ""
    assert upgrade(gitrepo, staging_db) == tables(BASE, staged_rev, FEATURE)


# ---------------------------------------------------------------- refusals
def test_fix_is_refused_when_base_itself_has_several_heads(gitrepo):
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None)
    add(gitrepo, MAIN, BASE)
    add(gitrepo, "b3b3b3b3b3b3", BASE)
    gitrepo.commit("main with two heads")
    gitrepo.branch("feature")
    gitrepo.checkout("feature")
    add(gitrepo, FEATURE, MAIN)
    gitrepo.commit("feature")
    before = versions(gitrepo)

    proc = gitrepo.run("fix", "--base", "main", check=1)

    assert "main itself has several heads" in proc.stderr, proc.stderr
    assert MAIN in proc.stderr and "b3b3b3b3b3b3" in proc.stderr
    assert "--strategy merge" in proc.stderr
    assert versions(gitrepo) == before and gitrepo.status() == ""


PROTECTED = '[tool.revgraph]\nprotected = ["release/*"]\n'


def released_and_feature(repo: GitRepo, release_db: Path) -> tuple[str, str]:
    """release/1.0 adds a hotfix (applied to production); feature adds an older revision."""
    repo.init_env(commit=False)
    add(repo, BASE, None, create_date=at(0))
    repo.commit("base")
    repo.branch("release/1.0")
    repo.branch("feature")
    repo.checkout("release/1.0")
    hotfix_path = add(repo, "4f4f4f4f4f4f", BASE, create_date=at(50))
    repo.commit("release: hotfix")
    assert upgrade(repo, release_db) == tables(BASE, "4f4f4f4f4f4f")
    repo.checkout("feature")
    feature_path = add(repo, FEATURE, BASE, create_date=at(10))
    repo.commit("feature")
    return hotfix_path, feature_path


def test_revision_landed_on_a_protected_ref_never_moves(gitrepo, tmp_path):
    release_db = tmp_path / "production.db"
    hotfix = "4f4f4f4f4f4f"
    hotfix_path, _ = released_and_feature(gitrepo, release_db)
    gitrepo.merge("release/1.0")
    hotfix_bytes = gitrepo.read(hotfix_path)
    # Unprotected, the hotfix is "new" on main and, being younger, would be stacked on top.
    assert f"moved {hotfix}" in fix_ok(gitrepo, "--dry-run")
    gitrepo.write("pyproject.toml", PROTECTED)

    out = fix_ok(gitrepo)

    assert f"moved {FEATURE}" in out and f"moved {hotfix}" not in out
    assert gitrepo.read(hotfix_path) == hotfix_bytes
    assert parents(gitrepo, FEATURE) == (hotfix,)
    assert upgrade(gitrepo, release_db) == tables(BASE, hotfix, FEATURE)


@pytest.mark.parametrize("protected", ["release/*", "release/1.0"])
def test_a_protected_branch_only_fetched_as_its_remote_copy_is_protected(gitrepo, tmp_path, protected):
    """QA: in a clone, release/1.0 exists only as origin/release/1.0; `release/*`
    matched nothing and fix moved the hotfix released from it."""
    hotfix = "4f4f4f4f4f4f"
    hotfix_path, _ = released_and_feature(gitrepo, tmp_path / "production.db")
    gitrepo.checkout("main")
    gitrepo.write("pyproject.toml", f'[tool.revgraph]\nprotected = ["{protected}"]\n')
    gitrepo.commit("protect releases")
    clone = gitrepo.clone(tmp_path / "clone")
    clone.git("checkout", "-q", "-b", "work", "origin/feature")
    clone.git("merge", "-q", "--no-edit", "origin/main")
    clone.git("merge", "-q", "--no-edit", "origin/release/1.0")
    assert "release/1.0" not in clone.git("branch", "--list").stdout  # only the remote copy
    hotfix_bytes = clone.read(hotfix_path)

    out = fix_ok(clone)

    assert f"moved {FEATURE}" in out and f"moved {hotfix}" not in out, out
    assert "origin/release/1.0" in out
    assert clone.read(hotfix_path) == hotfix_bytes


def test_fix_refuses_when_only_moving_a_protected_revision_would_give_one_head(gitrepo, tmp_path):
    hotfix = "4f4f4f4f4f4f"
    hotfix_path, _ = released_and_feature(gitrepo, tmp_path / "production.db")
    gitrepo.checkout("main")
    add(gitrepo, MAIN, BASE, create_date=at(5))
    gitrepo.write("pyproject.toml", PROTECTED)
    gitrepo.commit("main: protect releases, add a revision")
    gitrepo.git("merge", "--no-commit", "--no-ff", "release/1.0")
    before = versions(gitrepo)

    proc = gitrepo.run("fix", check=1)

    assert hotfix in proc.stderr and MAIN in proc.stderr, proc.stderr
    assert "--strategy merge" in proc.stderr
    assert versions(gitrepo) == before
    assert gitrepo.read(hotfix_path) == gitrepo.show("release/1.0", hotfix_path)


def test_refusal_names_the_protected_ref_not_a_base_with_several_heads(gitrepo, tmp_path):
    released_and_feature(gitrepo, tmp_path / "production.db")
    gitrepo.checkout("main")
    add(gitrepo, MAIN, BASE, create_date=at(5))
    gitrepo.write("pyproject.toml", PROTECTED)
    gitrepo.commit("main: protect releases, add a revision")
    gitrepo.git("merge", "--no-commit", "--no-ff", "release/1.0")
    assert gitrepo.run("heads", "--ref", "main").stdout.split()[:1] == [MAIN]

    proc = gitrepo.run("fix", check=1)

    assert "base itself" not in proc.stderr and "on base first" not in proc.stderr, proc.stderr
