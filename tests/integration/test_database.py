"""`--db`: revgraph against databases that real alembic migrated (RG501, RG502, fix).

Every database here was written by `python -m alembic ... upgrade`, never by
hand, except the ones that stand for what alembic cannot produce (an empty
file, a file that is not a database).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import importlib.util
import json
import os
import pwd
import shutil
import socket
import sqlite3
import shlex
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from revgraph.errors import RevgraphError
from revgraph.sources.database import Stamp, read_stamp, read_stamped
from tests.support.gitrepo import sqlite_tables

A = "a1a1a1a1a1a1"
B = "b2b2b2b2b2b2"
C = "c3c3c3c3c3c3"
C2 = "c4c4c4c4c4c4"
D = "d5d5d5d5d5d5"
E = "e6e6e6e6e6e6"


def create_table(name: str) -> tuple[str, str]:
    """A revision body that really changes the schema, so a migrated database shows it."""
    return (
        f"op.create_table('{name}', sa.Column('id', sa.Integer(), primary_key=True))",
        f"op.drop_table('{name}')",
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def upgrade(repo, db: Path, target: str = "head"):
    return repo.alembic("-x", f"db={sqlite_url(db)}", "upgrade", target)


def add(repo, rev_id: str, down, table: str, **kw) -> str:
    return repo.add_revision(rev_id, down, message=f"create {table}", body=create_table(table), **kw)


def check_json(repo, *args: str, expect: int) -> list[dict]:
    done = repo.run("check", "--format", "json", *args, check=expect)
    return json.loads(done.stdout)["findings"]


def by_code(findings: list[dict], code: str) -> list[dict]:
    return [f for f in findings if f["code"] == code]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _landed(repo) -> None:
    repo.init_env()
    add(repo, A, None, "users")
    add(repo, B, A, "tasks")
    repo.commit("users and tasks")


@pytest.fixture
def landed_repo(gitrepo):
    """main with A <- B committed (tables users, tasks)."""
    _landed(gitrepo)
    return gitrepo


# ------------------------------------------------------------------ RG502
def test_check_db_lists_what_upgrade_head_would_apply_until_it_is_applied(landed_repo, tmp_path):
    repo = landed_repo
    db = tmp_path / "app.db"
    upgrade(repo, db)
    assert sqlite_tables(db) == {"alembic_version", "users", "tasks"}
    add(repo, C, B, "projects")
    repo.commit("projects")

    findings = check_json(repo, "--db", sqlite_url(db), expect=0)
    (behind,) = by_code(findings, "RG502")
    assert behind["severity"] == "info"
    assert behind["revisions"] == [C]
    assert behind["fix"] == "alembic upgrade head"
    assert not by_code(findings, "RG501")

    upgrade(repo, db)
    assert "projects" in sqlite_tables(db)
    findings = check_json(repo, "--db", sqlite_url(db), expect=0)
    assert not by_code(findings, "RG501") and not by_code(findings, "RG502")


def test_never_stamped_database_is_behind_by_every_revision_and_stays_untouched(landed_repo, tmp_path):
    repo = landed_repo
    db = tmp_path / "fresh.db"
    sqlite3.connect(db).close()  # what a new, never migrated database looks like
    before = digest(db)

    findings = check_json(repo, "--db", sqlite_url(db), expect=0)
    (behind,) = by_code(findings, "RG502")
    assert behind["revisions"] == [A, B]
    # Read-only: no alembic_version table was created, not a byte changed.
    assert sqlite_tables(db) == set()
    assert digest(db) == before


# ------------------------------------------------------------------ RG501
def _lost_stamp(repo) -> None:
    _landed(repo)
    db = repo.path.parent / "dev.db"
    c_path = add(repo, C, B, "projects")
    repo.commit("projects")
    upgrade(repo, db)
    repo.remove(c_path)
    add(repo, C2, B, "projects")
    repo.commit("regenerate the projects revision")


@pytest.fixture
def lost_stamp(gitrepo):
    """A database upgraded to C, then C was regenerated as C2 (same parent, new id).

    ``landed_repo`` and the rest, built once (``build_once``) with the database beside it.
    """
    gitrepo.build_once("database lost stamp", _lost_stamp, beside=["dev.db"])
    return gitrepo, gitrepo.path.parent / "dev.db"


def test_check_db_fails_when_the_database_is_stamped_at_a_revision_the_graph_lost(lost_stamp):
    repo, db = lost_stamp
    # Real alembic cannot work with this database either.
    stuck = repo.alembic("-x", f"db={sqlite_url(db)}", "upgrade", "head", check=None)
    assert stuck.returncode != 0 and C in stuck.stderr

    findings = check_json(repo, "--db", sqlite_url(db), expect=1)
    (unknown,) = by_code(findings, "RG501")
    assert unknown["severity"] == "error"
    assert unknown["revisions"] == [C]
    assert sqlite_url(db) in unknown["message"]
    # No upgrade plan for a database alembic cannot place: "would apply A, B, C2"
    # would be false (A and B ran) and alembic fails instead, as above.
    assert not by_code(findings, "RG502")


def test_doctor_db_names_the_lost_revision(lost_stamp):
    repo, db = lost_stamp
    done = repo.run("doctor", "--db", sqlite_url(db), check=1)
    assert "RG501" in done.stdout
    assert C in done.stdout


# -------------------------------------------------------------------- fix
def _teams_and_projects_with_projects_applied(repo) -> dict[str, str]:
    """``landed_repo``; on feature E then C on B; dev.db beside the repository at C."""
    _landed(repo)
    repo.git("checkout", "-q", "-b", "feature")
    e_path = add(repo, E, B, "teams")  # created first
    c_path = add(repo, C, B, "projects")  # created later: stacked last without --db
    repo.commit("teams and projects")
    upgrade(repo, repo.path.parent / "dev.db", C)  # the developer applied only C
    return {"e": e_path, "c": c_path}


def _projects_applied(gitrepo):
    """``_teams_and_projects_with_projects_applied``, built once: (e_path, c_path, db)."""
    paths = gitrepo.build_once("database projects applied", _teams_and_projects_with_projects_applied, beside=["dev.db"])
    return paths["e"], paths["c"], gitrepo.path.parent / "dev.db"


def test_fix_db_moves_the_unapplied_revision_and_keeps_the_applied_one(gitrepo, tmp_path):
    """Two new revisions on B: by Create Date C would be stacked onto E, but C is applied."""
    repo = gitrepo
    e_path, c_path, db = _projects_applied(repo)  # E then C on B; the developer applied only C

    dry = repo.run("fix", "--dry-run", check=0)
    assert f"moved {C}" in dry.stdout and f"moved {E}" not in dry.stdout

    c_before = repo.read(c_path)
    e_before = repo.read(e_path)
    done = repo.run("fix", "--db", sqlite_url(db), check=0)
    assert f"moved {E}" in done.stdout
    assert repo.read(c_path) == c_before
    e_after = repo.read(e_path)
    assert e_after == e_before.replace(f"'{B}'".encode(), f"'{C}'".encode()).replace(
        f"Revises: {B}".encode(), f"Revises: {C}".encode()
    )

    repo.commit("stack teams on projects")
    upgrade(repo, db)  # real alembic now applies E on top of C
    assert {"projects", "teams"} <= sqlite_tables(db)
    findings = check_json(repo, "--db", sqlite_url(db), "--base", "main", expect=0)
    assert not [f for f in findings if f["code"] in ("RG101", "RG501", "RG502")]


def test_the_fix_check_prints_with_db_carries_the_db_and_keeps_the_applied_revision(gitrepo, tmp_path):
    """QA: `check --db` printed `revgraph fix --base main`, which re-points the applied C."""
    repo = gitrepo
    _, c_path, db = _projects_applied(repo)  # E then C on B; C applied
    c_before = repo.read(c_path)

    (rg101,) = by_code(check_json(repo, "--db", sqlite_url(db), "--base", "main", expect=1), "RG101")

    assert rg101["fix"] == f"revgraph fix --base main --db {sqlite_url(db)}"
    done = repo.run(*shlex.split(rg101["fix"])[1:], check=0)  # the printed command, as typed
    assert f"moved {E}" in done.stdout and repo.read(c_path) == c_before


def test_fix_db_refuses_when_the_only_movable_revision_is_applied(landed_repo, tmp_path):
    """C (applied here) and D (landed on main) both hang off B: neither may move."""
    repo = landed_repo
    repo.git("checkout", "-q", "-b", "feature")
    c_path = add(repo, C, B, "projects")
    repo.commit("projects")
    db = tmp_path / "dev.db"
    upgrade(repo, db)
    repo.checkout("main")
    d_path = add(repo, D, B, "comments")
    repo.commit("comments")
    repo.checkout("feature")
    repo.merge("main")
    files = {p: repo.read(p) for p in (c_path, d_path)}

    dry = repo.run("fix", "--dry-run", check=0)
    assert f"moved {C}" in dry.stdout  # without --db, C is simply new

    refused = repo.run("fix", "--db", sqlite_url(db), check=1)
    assert C in refused.stderr and D in refused.stderr
    assert "--strategy merge" in refused.stderr  # the way forward that moves nothing
    assert {p: repo.read(p) for p in files} == files
    assert repo.status() == ""

    versions = repo.path / "migrations" / "versions"
    before = set(versions.glob("*.py"))
    repo.run("fix", "--db", sqlite_url(db), "--strategy", "merge", "-m", "join", check=0)
    assert {p: repo.read(p) for p in files} == files
    (merge_file,) = set(versions.glob("*.py")) - before
    assert f"Revises: {C}, {D}" in merge_file.read_text()
    repo.commit("merge projects and comments")
    upgrade(repo, db)  # real alembic applies D and the merge revision on top of C
    assert "comments" in sqlite_tables(db)


def _env_with_version_table(repo, name: str, *, literal: bool = True) -> None:
    """Make the repository's env.py configure alembic's ``version_table`` as ``name``:
    a literal, or (``literal=False``) a value it reads from alembic.ini."""
    env_py = repo.path / "migrations" / "env.py"
    text = env_py.read_text()
    assert text.count("render_as_batch=True,") == 2
    value = repr(name) if literal else 'config.get_main_option("version_table")'
    env_py.write_text(text.replace("render_as_batch=True,", f"render_as_batch=True, version_table={value},"))
    if not literal:
        ini = repo.path / "alembic.ini"
        ini.write_text(ini.read_text().replace("[alembic]\n", f"[alembic]\nversion_table = {name}\n", 1))


@pytest.mark.parametrize("literal", [True, False], ids=["literal in env.py", "read from alembic.ini"])
def test_a_custom_version_table_keeps_the_revisions_it_applied_in_place(gitrepo, tmp_path, literal):
    """A tester: env.py's version_table read as "never stamped": RG502 said C would be
    applied again, and fix --db re-pointed C, which the database had applied."""
    repo = gitrepo
    repo.init_env()
    _env_with_version_table(repo, "my_version", literal=literal)
    add(repo, A, None, "users")
    add(repo, B, A, "tasks")
    repo.commit("users and tasks, versions in my_version")
    repo.git("checkout", "-q", "-b", "feature")
    e_path = add(repo, E, B, "teams")
    c_path = add(repo, C, B, "projects")
    repo.commit("teams and projects")
    db = tmp_path / "dev.db"
    upgrade(repo, db, C)  # real alembic, into my_version
    assert "alembic_version" not in sqlite_tables(db) and "my_version" in sqlite_tables(db)
    c_before = repo.read(c_path)

    checked = repo.run("check", "--format", "json", "--base", "main", "--db", sqlite_url(db), check=1)
    done = repo.run("fix", "--db", sqlite_url(db), check=0)

    (behind,) = by_code(json.loads(checked.stdout)["findings"], "RG502")
    assert behind["revisions"] == [E]  # not A, B and C again
    # Named by a literal, env.py says it; read from elsewhere, the one table like it is guessed, and said.
    assert ("read the revisions stamped in my_version" in checked.stderr) is not literal
    assert f"moved {E}" in done.stdout and repo.read(c_path) == c_before
    assert ("my_version" in done.stdout + done.stderr) is not literal
    repo.commit("stack teams on projects")
    upgrade(repo, db)  # real alembic applies E on top of C
    assert "teams" in sqlite_tables(db)
    assert e_path


def test_two_tables_shaped_like_the_version_table_are_not_guessed_between(landed_repo, tmp_path):
    repo = landed_repo
    _env_with_version_table(repo, "my_version", literal=False)
    db = tmp_path / "dev.db"
    upgrade(repo, db)
    with contextlib.closing(sqlite3.connect(db)) as conn:  # another environment's, say
        conn.execute("CREATE TABLE other_version AS SELECT * FROM my_version")
        conn.commit()

    done = repo.run("check", "--db", sqlite_url(db), check=2)

    assert "several tables shaped like alembic's version table" in done.stderr
    assert "my_version, other_version" in done.stderr and "Traceback" not in done.stderr


def test_the_version_table_env_py_names_is_read_even_beside_alembic_version(landed_repo, tmp_path):
    """Two environments in one database: the other one's rows in alembic_version are
    not this one's (they read as RG501, "stamped at a revision the graph lacks")."""
    repo = landed_repo
    db = tmp_path / "shared.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:  # the other environment's, as alembic makes it
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('f00dfeed0001')")
        conn.commit()
    _env_with_version_table(repo, "app_version")
    upgrade(repo, db, A)

    findings = check_json(repo, "--db", sqlite_url(db), expect=0)

    assert [(f["code"], f["revisions"]) for f in findings] == [("RG502", [B])]


def test_a_version_table_env_py_names_that_is_missing_means_never_stamped(landed_repo, tmp_path):
    """A reviewer: env.py names my_version, this environment never migrated, and the
    database holds another environment's alembic_version: revgraph guessed that table
    and reported its row as RG501. A table env.py names is this environment's."""
    repo = landed_repo
    _env_with_version_table(repo, "my_version")
    db = tmp_path / "shared.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('f00dfeed0001')")
        conn.commit()
    assert repo.alembic("-x", f"db={sqlite_url(db)}", "current").stdout.strip() == ""  # never stamped

    findings = check_json(repo, "--db", sqlite_url(db), expect=0)

    assert [(f["code"], f["revisions"]) for f in findings] == [("RG502", [A, B])]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        # An "@" in the query value ended the userinfo mask there, and showed "cret".
        ("postgresql://host:5432/db?password=se@cret", "postgresql://host:5432/db?password=***"),
        # A connection string that holds the password under another parameter's name.
        ("mssql+pyodbc:///?odbc_connect=DRIVER%3Dx%3BUID%3Du%3BPWD%3Dse%40cret", "mssql+pyodbc:///?odbc_connect=***"),
    ],
)
def test_a_password_inside_the_query_is_masked_whole(url, shown):
    from revgraph.sources.database import mask_url

    assert mask_url(url) == shown


def test_a_password_in_the_query_string_is_masked_everywhere(landed_repo, tmp_path):
    """A tester: ``?password=`` (libpq takes it) was printed whole, in PR annotations too."""
    secret = "S3cretPW"
    repo = landed_repo
    db = tmp_path / "dev.db"
    upgrade(repo, db, A)

    for fmt in ("text", "json", "github", "markdown"):
        done = repo.run("check", "--format", fmt, "--db", f"{sqlite_url(db)}?password={secret}", check=0)
        assert secret not in done.stdout + done.stderr, fmt
        assert "?password=***" in done.stdout, fmt
    failed = repo.run("check", "--db", f"postgresql://app@127.0.0.1:9/app?sslmode=disable&password={secret}", check=2)
    assert secret not in failed.stdout + failed.stderr
    assert "postgresql://app@127.0.0.1:9/app?sslmode=disable&password=***" in failed.stderr


# ----------------------------------------------------------------- errors
def test_missing_sqlite_file_is_an_error_and_is_not_created(landed_repo, tmp_path):
    db = tmp_path / "typo.db"
    done = landed_repo.run("check", "--db", sqlite_url(db), check=2)
    assert "no such database file" in done.stderr
    assert "Traceback" not in done.stderr
    assert not db.exists()


def test_a_file_that_is_not_a_database_is_an_error(landed_repo, tmp_path):
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"these are notes, not a database\n" * 64)
    done = landed_repo.run("check", "--db", sqlite_url(junk), check=2)
    assert "cannot read" in done.stderr and "Traceback" not in done.stderr


def test_password_never_appears_in_errors(landed_repo):
    secret = "s3cret-Pa55"
    done = landed_repo.run("check", "--db", f"postgresql://app:{secret}@127.0.0.1:9/app", check=2)
    assert secret not in done.stdout + done.stderr
    assert "postgresql://app:***@127.0.0.1:9/app" in done.stderr
    if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is None:
        assert "pip install 'revgraph[postgres]'" in done.stderr


def test_bad_url_is_a_one_line_error(landed_repo):
    done = landed_repo.run("check", "--db", "not a url", check=2)
    assert "invalid database URL" in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2  # the message and its hint


# ------------------------------------------------------ read_stamped directly
def test_read_stamped_honours_a_custom_version_table_and_schema_free_sqlite(tmp_path):
    db = tmp_path / "custom.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE app_versions (version_num VARCHAR(32) NOT NULL)")
        conn.executemany("INSERT INTO app_versions VALUES (?)", [(D,), (C,)])
        conn.commit()
    # The one table shaped like alembic's: env.py's version_table, which revgraph does not run.
    assert read_stamp(sqlite_url(db)) == Stamp((C, D), "app_versions", guessed=True)
    assert read_stamp(sqlite_url(db), version_table="app_versions") == Stamp((C, D), "app_versions", False)
    assert read_stamped(sqlite_url(db), version_table="app_versions") == (C, D)


def test_read_stamped_finds_a_relative_sqlite_path_from_cwd(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    with contextlib.closing(sqlite3.connect(folder / "rel.db")) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES (?)", (A,))
        conn.commit()
    assert read_stamped("sqlite:///rel.db", cwd=folder) == (A,)
    with pytest.raises(RevgraphError, match="no such database file"):
        read_stamped("sqlite:///rel.db", cwd=tmp_path)
    assert not (tmp_path / "rel.db").exists()


def test_in_memory_sqlite_is_refused(tmp_path):
    with pytest.raises(RevgraphError, match="in-memory"):
        read_stamped("sqlite://")


# ------------------------------------------------------------- PostgreSQL
def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _as_server_user() -> list[str] | None:
    """The prefix that runs a command as a user postgres accepts (it refuses root)."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        return None
    return [runuser, "-u", "nobody", "--"] if runuser else None


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server on a Unix socket in a temp folder: (socket_dir, port)."""
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    if importlib.util.find_spec("psycopg") is None:
        pytest.skip("psycopg is not installed (pip install 'revgraph[postgres]')")
    prefix = _as_server_user()
    if prefix is None:
        pytest.skip("running as root without runuser/nobody: postgres refuses to run as root")
    # Under /tmp, not pytest's tmp_path: the server's user must be able to reach it.
    folder = Path(tempfile.mkdtemp(prefix="revgraph-pg-"))
    if prefix:
        shutil.chown(folder, user="nobody")
    port = _free_port()
    data = folder / "data"

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=120)

    made = run(initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
    if made.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"initdb failed: {(made.stderr or made.stdout).strip().splitlines()[-1:]}")
    options = f"-k {folder} -p {port} -h '' -F"
    started = run(pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "60", "-o", options, "start")
    if started.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"the PostgreSQL server did not start: {started.stderr.strip()[-200:]}")
    try:
        yield folder, port
    finally:
        run(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _pg_url(postgres, driver: str = "", database: str = "postgres") -> str:
    folder, port = postgres
    scheme = f"postgresql+{driver}" if driver else "postgresql"
    return f"{scheme}://postgres@/{database}?host={folder}&port={port}"


def _create_database(postgres, name: str) -> None:
    import psycopg

    folder, port = postgres
    with psycopg.connect(host=str(folder), port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def test_postgres_database_behind_head_is_reported(landed_repo, postgres):
    name = f"rg_{uuid.uuid4().hex[:12]}"
    _create_database(postgres, name)
    repo = landed_repo
    repo.alembic("-x", f"db={_pg_url(postgres, 'psycopg', name)}", "upgrade", "head")
    add(repo, C, B, "projects")
    repo.commit("projects")

    # A plain postgresql:// URL works with the extra's driver (psycopg 3).
    findings = check_json(repo, "--db", _pg_url(postgres, database=name), expect=0)
    assert by_code(findings, "RG502")[0]["revisions"] == [C]

    assert read_stamped(_pg_url(postgres, database="postgres")) == ()  # never stamped
    assert read_stamped(_pg_url(postgres, database=name)) == (B,)


def test_rg502_names_the_config_alembic_needs_from_where_revgraph_ran(landed_repo, tmp_path):
    # QA: in a monorepo (run from the root, the config in a service's folder), the fix
    # `alembic upgrade head` failed: "No 'script_location' key found".
    repo = landed_repo
    db = tmp_path / "app.db"
    upgrade(repo, db, A)
    findings = check_json(repo, "-C", "migrations", "--db", sqlite_url(db), expect=0)
    (behind,) = by_code(findings, "RG502")
    assert behind["fix"] == "alembic -c ../alembic.ini upgrade head", behind

    # Pasted where revgraph ran (this test's env.py takes its database from -x db=...).
    words = shlex.split(behind["fix"])
    command = [sys.executable, "-m", "alembic", "-x", f"db={sqlite_url(db)}", *words[1:]]
    done = subprocess.run(command, cwd=repo.path / "migrations", capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert not by_code(check_json(repo, "--db", sqlite_url(db), expect=0), "RG502")
