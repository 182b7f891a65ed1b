"""Versions folders inside a git submodule, read from a ref of the superproject.

The superproject's alembic.ini points into the submodule
(``script_location = %(here)s/db/migrations``). A ref's tree holds only a
gitlink at ``db``: the folder is read from the commit that gitlink records, in
the submodule's own repository. A ref must never read as "no revisions"
(which made ``check`` report RG101 on a healthy tree), and a submodule commit
this clone lacks is a clear error (exit 2), not an empty snapshot.
"""

from __future__ import annotations

import json

import pytest

from tests.support.gitrepo import GitRepo

SUPER_INI = "[alembic]\nscript_location = %(here)s/db/migrations\npath_separator = os\n"
DB_VERSIONS = "db/migrations/versions"


def _no_traceback(done) -> None:
    assert "Traceback" not in done.stderr, done.stderr


def _heads(done) -> list[str]:
    _no_traceback(done)
    assert done.returncode == 0, done.stderr
    [env] = json.loads(done.stdout)["environments"]
    return env["heads"]


def _submodule(parent: GitRepo, source: GitRepo, path: str = "db") -> None:
    parent.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(source.path), path)


@pytest.fixture
def db(make_gitrepo) -> GitRepo:
    """The migrations' own repository: main a <- b; branch x adds c on b, branch y adds d on b."""
    db = make_gitrepo("db")
    db.init_env()
    db.add_revision("aaaa00000001", None, message="a")
    db.add_revision("bbbb00000002", "aaaa00000001", message="b")
    db.commit("a, b")
    for branch, rev in (("x", "cccc00000003"), ("y", "dddd00000004")):
        db.branch(branch, "main")
        db.checkout(branch)
        db.add_revision(rev, "bbbb00000002", message=branch)
        db.commit(branch)
    db.checkout("main")
    return db


@pytest.fixture
def app(make_gitrepo, db) -> GitRepo:
    """The superproject: alembic.ini at its root, pointing into submodule db (at db's main)."""
    app = make_gitrepo("app")
    _submodule(app, db)
    app.write("alembic.ini", SUPER_INI)
    app.commit("app with db as a submodule")
    return app


def _move_db(app: GitRepo, commit: str, message: str) -> None:
    app.git("-C", "db", "checkout", "-q", commit)
    app.git("add", "db")
    app.git("commit", "-q", "-m", message)


def test_a_ref_reads_the_versions_folder_through_the_submodule(app):
    assert _heads(app.run("heads", "--json")) == ["bbbb00000002"]

    assert _heads(app.run("heads", "--json", "--ref", "HEAD")) == ["bbbb00000002"]
    check = app.run("check", "--base", "main")
    _no_traceback(check)
    assert check.returncode == 0, check.stdout + check.stderr
    diff = app.run("diff", "main")
    assert diff.returncode == 0, diff.stderr
    assert "added" not in diff.stdout, diff.stdout


def test_each_ref_reads_the_submodule_commit_its_own_gitlink_records(app, db):
    _move_db(app, "origin/x", "db at x")
    app.git("branch", "at-x")

    assert _heads(app.run("heads", "--json", "--ref", "at-x")) == ["cccc00000003"]
    assert _heads(app.run("heads", "--json", "--ref", "at-x~1")) == ["bbbb00000002"]
    diff = app.run("diff", "at-x~1", "at-x")
    assert diff.returncode == 0, diff.stderr
    assert "cccc00000003" in diff.stdout


def test_the_predicted_merge_keeps_both_sides_when_both_branches_move_the_submodule(app):
    app.git("checkout", "-q", "-b", "feature")
    _move_db(app, "origin/y", "db at y")
    app.git("checkout", "-q", "main")
    app.git("submodule", "update", "-q")
    _move_db(app, "origin/x", "db at x")
    app.git("checkout", "-q", "feature")
    app.git("submodule", "update", "-q")

    check = app.run("--no-cache", "check", "--base", "main", "--format", "json")

    _no_traceback(check)
    assert check.returncode == 1, check.stdout + check.stderr
    codes = {f["code"]: f for f in json.loads(check.stdout)["findings"]}
    assert {"cccc00000003", "dddd00000004"} <= set(codes["RG102"]["revisions"])


def test_a_submodule_commit_this_clone_lacks_is_a_clear_error(app, db, tmp_path):
    clone = app.clone(tmp_path / "clone")
    clone.git("-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init")
    # Upstream moves db to a commit the clone's submodule has never fetched.
    db.checkout("x")
    db.add_revision("eeee00000005", "cccc00000003", message="e")
    new = db.commit("e")
    app.git("-C", "db", "fetch", "-q")
    _move_db(app, new, "db at e")
    clone.git("-c", "fetch.recurseSubmodules=no", "fetch", "-q")

    done = clone.run("heads", "--ref", "origin/main")

    _no_traceback(done)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "submodule db" in done.stderr and new in done.stderr, done.stderr
    assert "git -C db fetch" in done.stderr and "git submodule update --init db" in done.stderr
    assert "no revisions" not in done.stdout


def test_an_uninitialized_submodule_is_a_clear_error_not_an_empty_snapshot(app, tmp_path, git_env):
    from revgraph.errors import GitError
    from revgraph.sources.gitref import GitRepo as Repo

    clone = app.clone(tmp_path / "clone")  # the submodule is not initialized: db/ is empty

    with Repo(clone.path) as repo, pytest.raises(GitError) as raised:
        repo.ls_tree("HEAD", [DB_VERSIONS])

    assert "submodule db" in raised.value.message and "not initialized" in raised.value.message
    assert raised.value.hint == "run: git submodule update --init db"


def test_a_folder_that_became_a_submodule_is_read_through_it_not_as_all_deleted(make_gitrepo, db):
    # Read one ref, then another by difference: diff-tree shows no gitlink
    # under the folder's path, only every old file deleted.
    app = make_gitrepo("app")
    app.write("alembic.ini", SUPER_INI)
    app.add_revision("aaaa00000001", None, message="a", versions=DB_VERSIONS)
    app.add_revision("bbbb00000002", "aaaa00000001", message="b", versions=DB_VERSIONS)
    before = app.commit("migrations in the app")
    app.git("rm", "-r", "-q", "db")
    _submodule(app, db)
    _move_db(app, "origin/x", "migrations in submodule db")

    diff = app.run("diff", before, "HEAD")

    _no_traceback(diff)
    assert diff.returncode == 0, diff.stderr
    assert "cccc00000003" in diff.stdout
    assert "aaaa00000001" not in diff.stdout and "removed" not in diff.stdout, diff.stdout


# ---------------------------------------------------------- the result cache
# The superproject's git status does not look inside a submodule, and its folder
# trees at a ref are gitlinks: no cached result may stand for such a folder.


def test_an_edit_inside_the_submodule_is_never_answered_from_the_cache(app):
    first = app.run("check", "--base", "main")
    assert first.returncode == 0, first.stdout + first.stderr
    assert app.run("check", "--base", "main").returncode == 0  # a second run: a cache would answer it

    # b now names a revision nobody has (RG104), edited in the submodule's checkout.
    path = app.path / DB_VERSIONS
    [b] = [p for p in path.iterdir() if "bbbb00000002" in p.read_text()]
    b.write_text(b.read_text().replace("'aaaa00000001'", "'ffff00000009'"))

    for _ in range(2):  # the lane's run and the one after it
        again = app.run("check", "--base", "main", "--format", "json")
        _no_traceback(again)
        assert again.returncode == 1, again.stdout + again.stderr
        assert "RG104" in {f["code"] for f in json.loads(again.stdout)["findings"]}


def test_moving_base_s_submodule_pointer_is_never_answered_from_the_cache(app):
    app.git("checkout", "-q", "-b", "feature")
    assert app.run("check", "--base", "main").returncode == 0
    assert app.run("check", "--base", "main").returncode == 0

    # main moves db to x (c on b), the feature to y (d on b): merging forks (RG102).
    app.git("checkout", "-q", "main")
    _move_db(app, "origin/x", "db at x")
    app.git("checkout", "-q", "feature")
    app.git("submodule", "update", "-q")
    _move_db(app, "origin/y", "db at y")
    assert app.run("check", "--base", "main").returncode == 1  # the change itself is seen...

    app.git("checkout", "-q", "main")
    app.git("submodule", "update", "-q")
    _move_db(app, "origin/y", "db at y too")  # ...and so is base's pointer moving alone
    app.git("checkout", "-q", "feature")
    app.git("submodule", "update", "-q")
    cached = app.run("check", "--base", "main", "--format", "json")
    fresh = app.run("--no-cache", "check", "--base", "main", "--format", "json")
    assert (cached.returncode, json.loads(cached.stdout)["findings"]) == (
        fresh.returncode, json.loads(fresh.stdout)["findings"]
    )
