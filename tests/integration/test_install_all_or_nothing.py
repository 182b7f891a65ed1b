"""`revgraph install` / `uninstall` change everything they planned or nothing, and say what they leave.

Real repositories, the real CLI. What is guarded:
- a refused file (the lock file a symlink leading out of the repository)
  stops install before its first write: git config, .gitattributes, the
  pre-commit config and alembic.ini keep every byte;
- a step that fails after the files were written (git config locked by
  another git) puts the files back;
- an attribute line the user edited is left in place by uninstall, with a
  warning that says what git will now do with it (checked against git).
"""

from __future__ import annotations

import pytest

LOCK = "migrations/revgraph.lock"
BASE_ID = "a1a1a1a1a1a1"
USER_ATTRIBUTES = b"# assets\n*.png binary\n"
EVERYTHING = ("--merge-driver", "--lock", "--pre-commit", "--post-write-hook")


@pytest.fixture
def repo(gitrepo):
    """An alembic environment with one revision and the user's own .gitattributes, committed."""
    gitrepo.init_env(commit=False)
    gitrepo.add_revision(BASE_ID, None, message="create users")
    gitrepo.write(".gitattributes", USER_ATTRIBUTES)
    gitrepo.commit("first revision")
    return gitrepo


def _snapshot(repo) -> dict[str, bytes | None]:
    """The bytes of everything install may write (None: absent)."""
    names = (".git/config", ".gitattributes", ".pre-commit-config.yaml", "alembic.ini")
    return {name: (repo.path / name).read_bytes() if (repo.path / name).exists() else None for name in names}


def _untouched(repo, before, proc) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert _snapshot(repo) == before
    assert "revgraph" not in repo.git("config", "--local", "--list").stdout
    assert "Traceback" not in proc.stderr
    assert "revgraph install changed nothing" in proc.stderr


# ------------------------------------------------------------ refusals
@pytest.mark.parametrize("options", [(), EVERYTHING, ("--dry-run",)], ids=["default", "everything", "dry-run"])
def test_install_refusing_a_lock_symlinked_out_of_the_repository_writes_nothing(repo, tmp_path, options):
    outside = tmp_path / "outside.lock"
    outside.write_bytes(b"keep\n")
    (repo.path / LOCK).symlink_to(outside)
    before = _snapshot(repo)

    proc = repo.run("install", *options)

    _untouched(repo, before, proc)
    assert "symlink leads it outside the repository" in proc.stderr
    assert outside.read_bytes() == b"keep\n"
    assert repo.status() == f"?? {LOCK}\n"  # the user's symlink, nothing of ours

    # Once the symlink is gone, the same install writes everything.
    (repo.path / LOCK).unlink()
    repo.run("install", *options, check=True)
    if "--dry-run" not in options:
        assert repo.git("config", "--local", "merge.revgraph.driver").stdout.strip().endswith("%L")
        assert repo.read(".gitattributes") == USER_ATTRIBUTES + (
            b"# revgraph: heads lock merge driver (added by `revgraph install`)\n"
            b"migrations/revgraph.lock merge=revgraph\n"
        )
        assert BASE_ID in repo.read(LOCK).decode()


def test_install_puts_its_files_back_when_git_config_is_locked(repo):
    """git config is the last step; when another git holds .git/config.lock, the files are undone."""
    before = _snapshot(repo)
    (repo.path / ".git" / "config.lock").write_bytes(b"")

    proc = repo.run("install", *EVERYTHING)

    _untouched(repo, before, proc)
    assert "could not lock config file" in proc.stderr
    assert repo.status() == ""  # no lock file created, no .pre-commit-config.yaml left
    (repo.path / ".git" / "config.lock").unlink()
    repo.run("install", check=True)
    assert repo.git("check-attr", "merge", "--", LOCK).stdout.strip().endswith("merge: revgraph")


def test_uninstall_puts_its_files_back_when_git_config_is_locked(repo):
    repo.run("install", check=True)
    repo.commit("revgraph install")
    config = repo.read(".git/config")
    (repo.path / ".git" / "config.lock").write_bytes(b"")

    proc = repo.run("uninstall")

    assert repo.status() == ""
    assert repo.read(".git/config") == config
    assert proc.returncode == 2 and "revgraph uninstall changed nothing" in proc.stderr
    # Unlocked, the same uninstall restores the user's bytes and has nothing to warn about.
    (repo.path / ".git" / "config.lock").unlink()
    proc = repo.run("uninstall", check=True)
    assert "warning" not in proc.stderr
    assert repo.read(".gitattributes") == USER_ATTRIBUTES


# ------------------------------------------------ uninstall: lines left
def _lock_conflict_on_merge(repo) -> tuple[int, str]:
    """Two branches change the lock's line; merge them and return (exit code, merged lock)."""
    repo.write(LOCK, "head: 000000000000\n")
    repo.commit("lock")
    repo.branch("feature")
    repo.write(LOCK, "head: 111111111111\n")
    repo.commit("main's lock")
    repo.checkout("feature")
    repo.write(LOCK, "head: 222222222222\n")
    repo.commit("feature's lock")
    repo.checkout("main")
    merge = repo.git("merge", "--no-edit", "feature", check=None)
    return merge.returncode, merge.stdout + merge.stderr


def test_uninstall_warns_about_an_edited_driver_line_it_leaves_and_git_merges_as_text(repo):
    repo.run("install", check=True)
    edited = repo.read(".gitattributes").replace(b"merge=revgraph", b"merge=revgraph -diff")
    repo.write(".gitattributes", edited)
    repo.commit("install, line edited by hand")

    proc = repo.run("uninstall", check=True)

    # The user's line stays (theirs), the marker and the config go ...
    assert b"migrations/revgraph.lock merge=revgraph -diff\n" in repo.read(".gitattributes")
    assert b"# revgraph:" not in repo.read(".gitattributes")
    assert "revgraph" not in repo.git("config", "--local", "--list").stdout
    # ... and the warning names file, line and what git now does.
    warning = proc.stderr
    assert "warning: .gitattributes:3: `migrations/revgraph.lock merge=revgraph -diff`" in warning
    assert "built-in 3-way text merge" in warning
    assert "revgraph install" in warning
    # What the warning claims, git does: a plain text conflict, no driver, no error.
    repo.commit("uninstalled")
    code, out = _lock_conflict_on_merge(repo)
    assert code == 1 and "CONFLICT (content)" in out and "fatal" not in out
    assert "<<<<<<<" in repo.read(LOCK).decode()


def test_uninstall_warning_says_git_stops_when_a_driver_key_of_the_users_is_left(repo):
    repo.run("install", check=True)
    repo.write(".gitattributes", repo.read(".gitattributes").replace(b"merge=revgraph", b"merge=revgraph -diff"))
    repo.commit("install, line edited by hand")
    repo.git("config", "--local", "merge.revgraph.recursive", "binary")

    proc = repo.run("uninstall", check=True)

    assert "lacks command line" in proc.stderr
    code, out = _lock_conflict_on_merge(repo)
    assert code == 128 and "custom merge driver revgraph lacks command line" in out



def test_install_undoing_a_lock_file_in_a_new_folder_removes_the_folder_too(repo):
    # Review: the lock file went, the folder install made for it stayed.
    repo.write("pyproject.toml", '[tool.revgraph]\nlock_file = "db/locks/revgraph.lock"\n')
    repo.commit("lock file in a folder of its own")
    (repo.path / ".git" / "config.lock").write_bytes(b"")

    proc = repo.run("install", *EVERYTHING)

    assert proc.returncode == 2 and "could not lock config file" in proc.stderr, proc.stderr
    assert not (repo.path / "db").exists()
    assert repo.status() == ""
