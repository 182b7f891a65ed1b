"""`[tool.revgraph] lock_file` naming a place a lock file must not go, in real repositories, through the real CLI.

The lock is written over whatever the setting names, so a slip
(``lock_file = "alembic.ini"``) used to cost the user that file, and a ``.py``
lock in the versions folder broke alembic and then revgraph itself. Such a
setting is refused (exit 2, one line naming the file and the setting) by every
command, the user's files are left byte for byte, and a lock whose folder does
not exist yet gets it.
"""

from __future__ import annotations

import json

import pytest

from revgraph.lockfile import parse_lock

# The install tests' repository: an alembic environment with one revision on main.
from tests.integration.test_install import BASE_ID, repo  # noqa: E402,F401 - a shared fixture


def _set_lock_file(repo, relpath: str) -> None:
    repo.write("pyproject.toml", f"[tool.revgraph]\nlock_file = {json.dumps(relpath)}\n")


def _error_line(proc) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.startswith("revgraph: error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _files(repo) -> dict[str, bytes]:
    return {p.relative_to(repo.path).as_posix(): p.read_bytes()
            for p in repo.path.rglob("*") if p.is_file() and ".git" not in p.relative_to(repo.path).parts}  # fmt: skip


@pytest.mark.parametrize("target", ["alembic.ini", "migrations/env.py"])
def test_a_lock_file_setting_naming_the_users_file_is_refused_and_the_file_kept(repo, target):
    _set_lock_file(repo, target)
    before = repo.read(target)

    proc = repo.run("lock", check=2)

    line = _error_line(proc)
    assert target in line and "[tool.revgraph] lock_file" in line and "not a revgraph lock file" in line
    assert "hint:" in proc.stderr
    assert repo.read(target) == before
    repo.alembic("heads")  # alembic still reads its config and environment


def test_every_command_gives_the_same_refusal_and_changes_nothing(repo):
    _set_lock_file(repo, "alembic.ini")
    before = _files(repo)
    config = repo.git("config", "--local", "--list").stdout

    lines = {_error_line(repo.run(*command, check=2)).split("; revgraph ")[0]
             for command in (["lock"], ["lock", "--check"], ["check"], ["doctor"], ["install"],
                             ["install", "--merge-driver"], ["uninstall", "--remove-lock"], ["fix"])}  # fmt: skip

    assert len(lines) == 1, lines
    assert _files(repo) == before
    assert repo.git("config", "--local", "--list").stdout == config


def test_an_empty_file_is_taken_over(repo):
    repo.write("heads.lock", "")
    _set_lock_file(repo, "heads.lock")

    repo.run("lock", check=True)

    assert parse_lock(repo.read("heads.lock").decode()).heads == (BASE_ID,)


def test_a_lock_file_with_git_conflict_markers_is_still_rewritten(repo):
    repo.run("lock", check=True)
    lock = "migrations/revgraph.lock"
    text = repo.read(lock).decode()
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    repo.write(lock, header + f"<<<<<<< HEAD\nhead: {BASE_ID}\n=======\nhead: 0000\n>>>>>>> feature\n")

    repo.run("lock", check=True)

    assert repo.read(lock).decode() == text


def test_a_py_lock_file_in_the_versions_folder_is_refused(repo):
    _set_lock_file(repo, "migrations/versions/heads.py")

    proc = repo.run("lock", check=2)

    line = _error_line(proc)
    assert "lock_file = 'migrations/versions/heads.py'" in line and "as a revision" in line
    assert not (repo.path / "migrations" / "versions" / "heads.py").exists()
    assert _error_line(repo.run("check", check=2)) == line
    repo.alembic("heads")


def test_a_lock_file_inside_dot_git_is_refused(repo):
    _set_lock_file(repo, ".git/x.lock")

    proc = repo.run("lock", check=2)

    assert "lock_file = '.git/x.lock'" in _error_line(proc) and "inside .git" in proc.stderr
    assert not (repo.path / ".git" / "x.lock").exists()
    assert _error_line(repo.run("install", check=2)) == _error_line(proc)


def test_lock_creates_the_missing_folder_of_the_lock_file(repo):
    _set_lock_file(repo, "db/sub/revgraph.lock")

    proc = repo.run("lock", check=True)

    assert "db/sub/revgraph.lock" in proc.stdout
    assert parse_lock(repo.read("db/sub/revgraph.lock").decode()).heads == (BASE_ID,)
    repo.run("lock", "--check", check=True)
    repo.run("check", check=True)


def test_install_creates_the_missing_folder_of_the_lock_file(repo):
    _set_lock_file(repo, "db/sub/revgraph.lock")

    repo.run("install", check=True)

    assert parse_lock(repo.read("db/sub/revgraph.lock").decode()).heads == (BASE_ID,)
    assert b"db/sub/revgraph.lock merge=revgraph" in repo.read(".gitattributes")


def test_a_dry_run_install_creates_no_folder(repo):
    _set_lock_file(repo, "db/sub/revgraph.lock")

    repo.run("install", "--dry-run", check=True)

    assert not (repo.path / "db").exists()


def test_the_checks_of_a_ref_where_the_lock_path_held_another_file_read_no_lock_there(repo):
    # Review: the working tree's lock is checked for being a lock; the one a
    # ref holds (`graph --ref`) was parsed whatever it was, and RG401 marked
    # the heads as conflicting with it.
    repo.write("migrations/revgraph.lock", "notes kept here before revgraph\n")
    repo.commit("notes")
    repo.git("tag", "old")
    repo.git("rm", "-q", "migrations/revgraph.lock")
    repo.commit("notes go")

    proc = repo.run("graph", "--ref", "old", "--base", "main", "--format", "json", check=True)

    nodes = json.loads(proc.stdout)["nodes"]
    assert BASE_ID in {node["id"] for node in nodes}
    assert [node["id"] for node in nodes if "conflict" in node["marks"]] == []


def test_a_foreign_file_at_the_default_lock_path_names_it_as_the_default_and_hints_another_path(repo):
    # No setting to re-point: the hint must not suggest the very path it refuses.
    repo.write("migrations/revgraph.lock", "my notes\n")

    proc = repo.run("lock", check=2)

    line = _error_line(proc)
    assert "migrations/revgraph.lock (the default lock file of environment" in line
    assert "'s default" not in line
    assert "set lock_file" in proc.stderr and "(the default)" not in proc.stderr
    assert repo.read("migrations/revgraph.lock") == b"my notes\n"


@pytest.mark.parametrize("target, said", [("migrations", "is a folder"), ("../outside.lock", "outside the repository")])
def test_a_lock_file_setting_no_lock_can_live_at_is_a_config_error_for_check_too(repo, target, said):
    # `check` and `lock --check` used to say "missing: run `revgraph lock`", which then refused.
    _set_lock_file(repo, target)
    before = _files(repo)

    for command in (["check"], ["lock", "--check"], ["lock"]):
        line = _error_line(repo.run(*command, check=2))
        assert said in line and "[tool.revgraph] lock_file" in line, (command, line)

    assert _files(repo) == before
    assert not (repo.path.parent / "outside.lock").exists()


def test_lock_and_install_refuse_a_missing_versions_folder_and_write_nothing(repo):
    # The lock file set inside the versions folder: writing it used to make the folder.
    _set_lock_file(repo, "migrations/versions/revgraph.lock")
    versions = repo.path / "migrations" / "versions"
    for child in versions.iterdir():
        child.unlink()
    versions.rmdir()
    before = _files(repo)
    for command in (["lock"], ["install"], ["lock", "--check"]):  # --check: not "run `revgraph lock`"
        line = _error_line(repo.run(*command, check=2))
        assert "versions folder migrations/versions (environment default) is missing" in line, line
    assert not versions.exists() and _files(repo) == before


def test_a_missing_lock_file_named_by_the_setting_is_said_so(repo):
    # QA: RG401 read "... but this project keeps one (/ names it)": the first character
    # of the setting's description, an absolute path.
    _set_lock_file(repo, "heads.lock")
    repo.run("lock", check=True)
    repo.commit("a lock file named by the setting")
    (repo.path / "heads.lock").unlink()

    done = repo.run("check", "--format", "json")

    assert done.returncode == 1, done.stdout + done.stderr
    [finding] = [f for f in json.loads(done.stdout)["findings"] if f["code"] == "RG401"]
    assert "(pyproject.toml: [tool.revgraph] lock_file names it)" in finding["message"], finding["message"]


@pytest.mark.parametrize("where", ["a folder", "below a file", "a link out of the repository"])
def test_lock_check_says_why_lock_would_refuse_instead_of_advising_it(repo, tmp_path, where):
    # A tester: `lock --check` said "missing (RG401); run `revgraph lock`" where
    # `revgraph lock` can only refuse (exit 2): CI reported advice that cannot work.
    # (Still exit 1, a problem found, as check's RG401 says of the same state.)
    lock = "migrations/revgraph.lock"
    if where == "a folder":
        (repo.path / lock).mkdir()
    elif where == "below a file":
        _set_lock_file(repo, "alembic.ini/x.lock")
        lock = "alembic.ini/x.lock"
    else:
        outside = tmp_path / "outside.lock"
        outside.write_text("head: nothing\n")
        (repo.path / lock).symlink_to(outside)
    before = _files(repo)

    checked = repo.run("lock", "--check", check=1)
    written = repo.run("lock", check=2)

    assert "run `revgraph lock`" not in checked.stdout
    assert f"(RG401); `revgraph lock` cannot write it: {_error_line(written).split(': ', 2)[2]}" in checked.stdout
    assert _files(repo) == before
