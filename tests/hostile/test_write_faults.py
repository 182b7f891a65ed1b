"""Writes under failure (issue 9 §3, PRODUCT §4 and §9).

`fix` and `lock` run through the real CLI (in-process) on real repositories
while the one writer, ``fixes.apply.apply_plan``, is made to fail: an error
on the second file's rename, a full disk (injected, and a real file-size
limit), a read-only file, a file someone else changed after revgraph read
it. After each: every file is fully old or fully new, the message says what
happened, and a second run finishes the job. And whatever the layout
(symlinks leading out, versions folders outside the repository), nothing is
written but the versions folders, the lock file, `.gitattributes` and git
config.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
from pathlib import Path

import pytest

from tests.hostile.corpus import (
    LOCK,
    VERSIONS,
    changed_files,
    file_states,
    revision_text,
)
from tests.support.gitrepo import GitRepo

BASE = "a1a1a1a1a1a1"
MAIN = "c3c3c3c3c3c3"
FIRST = "d4d4d4d4d4d4"  # new revisions written against an old head
SECOND = "e5e5e5e5e5e5"


# ------------------------------------------------------------------ helpers
def add(repo: GitRepo, rid: str, down: str | None, minute: int, folder: str = VERSIONS) -> str:
    rel = f"{folder}/{rid}_rev.py"
    text = revision_text(rid, down, message=f"revision {rid}")
    repo.write(rel, text.replace("10:00:00", f"10:{minute:02d}:00"))  # Create Date orders the stack
    return rel


@pytest.fixture
def stale(gitrepo, cli) -> GitRepo:
    """main: BASE <- MAIN with its lock; feature adds FIRST and SECOND on BASE (an old head).

    `fix` on feature then edits three files: FIRST, SECOND and the lock.
    """
    gitrepo.init_env(commit=False)
    add(gitrepo, BASE, None, 0)
    add(gitrepo, MAIN, BASE, 1)
    assert cli(gitrepo.path, "lock").code == 0
    gitrepo.write("README.md", "the app\n")
    gitrepo.write("app/models.py", "class User: ...\n")
    gitrepo.commit("main")
    gitrepo.git("checkout", "-q", "-b", "feature")
    add(gitrepo, FIRST, BASE, 2)
    add(gitrepo, SECOND, BASE, 3)
    gitrepo.commit("feature written against an old head")
    return gitrepo


def worktree_states(repo: GitRepo) -> dict:
    """Every file outside .git (plus the index and config) with bytes and mtime."""
    states = file_states(repo.path, content=True)
    return {k: v for k, v in states.items() if "/.git/" not in k or k.endswith(("/.git/index", "/.git/config"))}


def heads(cli, repo: GitRepo) -> list[str]:
    [env] = json.loads(cli(repo.path, "heads", "--json").out)["environments"]
    return env["heads"]


def assert_fixed(cli, repo: GitRepo) -> None:
    """Fully new: one head, SECOND stacked on FIRST on MAIN, the lock matching."""
    assert heads(cli, repo) == [SECOND]
    assert f"down_revision = {MAIN!r}" in repo.read(f"{VERSIONS}/{FIRST}_rev.py").decode()
    assert f"down_revision = {FIRST!r}" in repo.read(f"{VERSIONS}/{SECOND}_rev.py").decode()
    assert cli(repo.path, "lock", "--check").code == 0


@pytest.fixture
def inject(monkeypatch):
    """``inject(fault)``: every apply_plan call gets ``_fault=fault`` (called before each write/rename)."""
    from revgraph.fixes import apply

    real = apply.apply_plan

    def install(fault) -> list[tuple[str, str]]:
        calls: list[tuple[str, str]] = []

        def recording(step: str, path: str) -> None:
            calls.append((step, path))
            fault(step, path, calls)

        def patched(*args, **kwargs):
            kwargs["_fault"] = recording
            return real(*args, **kwargs)

        monkeypatch.setattr(apply, "apply_plan", patched)
        return calls

    return install


def fail_at(step: str, nth: int, error: BaseException):
    def fault(at: str, path: str, calls: list) -> None:
        if at == step and sum(1 for s, _ in calls if s == step) == nth:
            raise error

    return fault


# ---------------------------------------------------------- failing writes
@pytest.mark.parametrize(
    "step, nth, error",
    [
        ("rename", 2, OSError(errno.EIO, "Input/output error")),
        ("rename", 3, OSError(errno.EIO, "Input/output error")),
        ("write", 2, OSError(errno.ENOSPC, "No space left on device")),
        ("rename", 1, PermissionError(errno.EACCES, "Permission denied")),
        ("rename", 2, OSError(errno.EROFS, "Read-only file system")),
    ],
    ids=["second-rename", "last-rename", "disk-full", "read-only-folder", "read-only-fs"],
)
def test_fix_failing_mid_write_leaves_every_file_old_then_succeeds(stale, cli, inject, step, nth, error):
    planned = cli(stale.path, "fix", "--dry-run").out
    assert planned.count("+++ b/") == 3  # the plan spans both revisions and the lock
    before = worktree_states(stale)
    calls = inject(fail_at(step, nth, error))

    result = cli(stale.path, "fix")

    assert result.code == 2, result.text
    assert error.strerror in result.err and "every file was left as it was" in result.err
    assert sum(1 for s, _ in calls if s == step) == nth  # failed where it was meant to
    assert changed_files(before, worktree_states(stale)) == []  # also: no temp file left
    inject(lambda *a: None)
    assert cli(stale.path, "fix").code == 0
    assert_fixed(cli, stale)


def test_fix_on_a_really_full_disk_leaves_every_file_old(stale, cli):
    """A real failure: the file-size limit makes the first temp file's write fail (EFBIG)."""
    before = worktree_states(stale)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64, hard))
    try:
        result = cli(stale.path, "fix")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)

    assert result.code == 2, result.text
    assert os.strerror(errno.EFBIG) in result.err and "every file was left as it was" in result.err
    assert changed_files(before, worktree_states(stale)) == []
    assert cli(stale.path, "fix").code == 0
    assert_fixed(cli, stale)


def test_a_read_only_revision_file_is_replaced_whole_and_stays_read_only(stale, cli):
    second = stale.path / VERSIONS / f"{SECOND}_rev.py"
    second.chmod(0o444)

    result = cli(stale.path, "fix")

    assert result.code == 0, result.text
    assert_fixed(cli, stale)
    assert second.stat().st_mode & 0o777 == 0o444


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_versions_folder_stops_fix_before_any_change(stale, cli):
    folder = stale.path / VERSIONS
    before = worktree_states(stale)
    folder.chmod(0o555)
    try:
        result = cli(stale.path, "fix")
    finally:
        folder.chmod(0o755)

    assert result.code == 2, result.text
    assert changed_files(before, worktree_states(stale)) == []


# ------------------------------------------------------ someone else writes
def test_a_file_changed_between_plan_and_write_is_refused_and_kept(stale, cli, monkeypatch):
    from revgraph.fixes import apply

    real = apply.apply_plan
    second = stale.path / VERSIONS / f"{SECOND}_rev.py"

    def colleague_saves_first(*args, **kwargs):
        second.write_bytes(second.read_bytes() + b"# edited by a colleague\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(apply, "apply_plan", colleague_saves_first)
    expected = {k: v for k, v in worktree_states(stale).items() if not k.endswith(f"{SECOND}_rev.py")}

    result = cli(stale.path, "fix")

    assert result.code == 2, result.text
    assert f"{VERSIONS}/{SECOND}_rev.py changed since revgraph read it" in result.err
    after = worktree_states(stale)
    assert changed_files(expected, {k: v for k, v in after.items() if k in expected}) == []
    assert second.read_bytes().endswith(b"# edited by a colleague\n")  # their edit survives


def test_a_file_changed_while_others_are_renamed_is_refused_and_kept(stale, cli, inject):
    second = stale.path / VERSIONS / f"{SECOND}_rev.py"

    def colleague_saves_during_renames(step: str, path: str, calls: list) -> None:
        if step == "rename" and path.endswith(f"{FIRST}_rev.py"):
            with open(second, "ab") as handle:
                handle.write(b"# edited by a colleague\n")

    inject(colleague_saves_during_renames)

    result = cli(stale.path, "fix")

    assert second.read_bytes().endswith(b"# edited by a colleague\n"), result.text
    assert result.code == 2


# ------------------------------------------------------------------- lock
@pytest.fixture
def two_environments(gitrepo, cli) -> GitRepo:
    """Two environments, each with a lock file that one new revision has made stale."""
    gitrepo.write(
        "pyproject.toml",
        '[tool.revgraph.environments]\napp = { versions = "app/versions" }\naudit = { versions = "audit/versions" }\n',
    )
    for folder in ("app/versions", "audit/versions"):
        add(gitrepo, BASE if folder.startswith("app") else MAIN, None, 0, folder)
    assert cli(gitrepo.path, "lock").code == 0
    gitrepo.commit("two environments")
    add(gitrepo, FIRST, BASE, 1, "app/versions")
    add(gitrepo, SECOND, MAIN, 1, "audit/versions")
    assert cli(gitrepo.path, "lock", "--check").code == 1
    return gitrepo


def test_lock_failing_on_the_second_lock_file_leaves_both_old(two_environments, cli, inject):
    repo = two_environments
    before = worktree_states(repo)
    calls = inject(fail_at("rename", 2, OSError(errno.ENOSPC, "No space left on device")))

    result = cli(repo.path, "lock")

    assert result.code == 2, result.text
    assert "No space left on device" in result.err and "every file was left as it was" in result.err
    assert sorted({path for _, path in calls}) == ["app/versions/revgraph.lock", "audit/versions/revgraph.lock"]
    assert changed_files(before, worktree_states(repo)) == []
    inject(lambda *a: None)
    assert cli(repo.path, "lock").code == 0
    assert cli(repo.path, "lock", "--check").code == 0


# ---------------------------------------------------------- where writes go
def test_fix_lock_and_install_touch_only_versions_lock_gitattributes_and_git_config(stale, cli):
    before = worktree_states(stale)

    assert cli(stale.path, "fix").code == 0
    assert cli(stale.path, "lock").code == 0
    assert cli(stale.path, "install").code == 0

    allowed = (f"repo/{VERSIONS}/", f"repo/{LOCK}", "repo/.gitattributes", "repo/.git/config")
    changed = changed_files(before, worktree_states(stale))
    assert changed and all(path.startswith(allowed) for path in changed), changed


def _outside(repo: GitRepo, name: str, data: bytes) -> Path:
    target = repo.path.parent / "outside" / name
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(data)
    return target


def test_a_lock_file_symlinked_out_of_the_repository_is_never_written(stale, cli):
    lock = stale.path / LOCK
    target = _outside(stale, "revgraph.lock", lock.read_bytes())
    lock.unlink()
    lock.symlink_to(target)
    before = worktree_states(stale)
    outside = file_states(target.parent, content=True)

    for args in (("lock",), ("fix",)):
        result = cli(stale.path, *args)
        assert result.code == 2, (args, result.text)
        assert "outside the repository" in result.err

    assert changed_files(outside, file_states(target.parent, content=True)) == []
    assert changed_files(before, worktree_states(stale)) == []  # fix wrote no revision either


def test_a_revision_symlinked_out_of_the_repository_is_never_written(stale, cli):
    second = stale.path / VERSIONS / f"{SECOND}_rev.py"
    target = _outside(stale, f"{SECOND}_rev.py", second.read_bytes())
    second.unlink()
    second.symlink_to(target)
    before = worktree_states(stale)
    outside = file_states(target.parent, content=True)

    result = cli(stale.path, "fix")

    assert result.code == 1, result.text  # refused: the file is not readable as a revision here
    assert f"{VERSIONS}/{SECOND}_rev.py:1" in result.err
    assert changed_files(outside, file_states(target.parent, content=True)) == []
    assert changed_files(before, worktree_states(stale)) == []


def test_a_versions_folder_outside_the_repository_is_read_but_never_written(stale, cli):
    folder = stale.path / VERSIONS
    outside = stale.path.parent / "outside" / "versions"
    outside.parent.mkdir(exist_ok=True)
    folder.rename(outside)
    folder.symlink_to(outside, target_is_directory=True)
    before = worktree_states(stale)
    outside_before = file_states(outside, content=True)

    assert heads(cli, stale) == sorted([MAIN, FIRST, SECOND])  # read through the link
    result = cli(stale.path, "fix")

    assert result.code == 2, result.text
    assert "refusing to write" in result.err
    assert changed_files(outside_before, file_states(outside, content=True)) == []
    assert changed_files(before, worktree_states(stale)) == []
