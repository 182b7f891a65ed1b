"""``worktree_commit`` answers HEAD without a temporary index when nothing would change.

The shortcut (``merged._clean``: the index equals HEAD and ``git status``
lists nothing in the versions folders) must agree with the slow path, which
writes the working tree's folders through a copy of the index: HEAD exactly
when that tree is HEAD's tree. Each case below is a working-tree state a
developer meets; the expected answer comes from the slow path, run on the
same real repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from revgraph.config import Environment
from revgraph.sources import merged
from revgraph.sources.gitref import GitRepo
from tests.support.revfiles import render_revision

V = "migrations/versions"


def env_for(folder: Path) -> Environment:
    return Environment(name="default", script_location=None, version_locations=(folder,))


def text(rev_id: str, down=None, message: str = "step") -> str:
    return render_revision(rev_id, down, message=message, style="generic")


@pytest.fixture
def repo(gitrepo):
    gitrepo.write(f"{V}/a.py", text("aaaa0001"))
    gitrepo.write(f"{V}/b.py", text("bbbb0002", "aaaa0001"))
    gitrepo.write("app/models.py", "x = 1\n")
    gitrepo.write(".gitignore", "*.log\n")
    gitrepo.commit("start")
    return gitrepo


def _edit_tracked(r):
    r.write(f"{V}/b.py", text("bbbb0002", "aaaa0001", message="edited"))


def _untracked(r):
    r.write(f"{V}/c.py", text("cccc0003", "bbbb0002"))


def _ignored(r):
    r.write(f"{V}/debug.log", "not a revision")


def _deleted(r):
    (r.path / V / "b.py").unlink()


def _staged_elsewhere(r):
    r.write("app/models.py", "x = 2\n")
    r.git("add", "app/models.py")


def _unstaged_elsewhere(r):
    r.write("app/models.py", "x = 3\n")
    r.write("notes.txt", "untracked outside the folders")


def _staged_then_undone(r):
    _edit_tracked(r)
    r.git("add", f"{V}/b.py")
    r.write(f"{V}/b.py", text("bbbb0002", "aaaa0001"))  # disk is HEAD again, the index is not


def _touched(r):
    import os

    target = r.path / V / "a.py"
    os.utime(target, (1, 1))  # new stat data, same content


def _mode_change(r):
    import os

    os.chmod(r.path / V / "a.py", 0o755)


def _folder_gone(r):
    import shutil

    shutil.rmtree(r.path / V)


def _untracked_in_subfolder(r):
    r.write(f"{V}/sub/deep/d.py", text("dddd0004", "bbbb0002"))


def _symlink_added(r):
    (r.path / V / "link.py").symlink_to("a.py")


def _file_became_folder(r):
    (r.path / V / "b.py").unlink()
    r.write(f"{V}/b.py/inner.py", text("eeee0005"))


def _nested_repository(r):
    import subprocess

    nested = r.path / V / "nested"
    nested.mkdir()
    subprocess.run(["git", "init", "-q", str(nested)], check=True)
    (nested / "x.py").write_text(text("ffff0006"))
    for args in (["add", "x.py"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(nested), *args], check=True)


def _odd_names(r):
    r.write(f"{V}/with space ü.py", text("abab0007", "bbbb0002"))
    r.write(f"{V}/tab\there.py", text("acac0008", "bbbb0002"))


def _crlf_normalised(r):
    r.git("config", "core.autocrlf", "true")
    r.write(f"{V}/c.py", text("cccc0003", "bbbb0002").replace("\n", "\r\n"))


def _many_at_once(r):
    _edit_tracked(r)
    _untracked(r)
    (r.path / V / "a.py").unlink()
    _mode_change(r) if (r.path / V / "a.py").exists() else None
    _ignored(r)


STATES = {
    "clean": lambda r: None,
    "edited tracked file": _edit_tracked,
    "untracked revision": _untracked,
    "ignored file": _ignored,
    "deleted revision": _deleted,
    "staged change outside the folders": _staged_elsewhere,
    "unstaged change outside the folders": _unstaged_elsewhere,
    "staged edit undone on disk": _staged_then_undone,
    "touched file": _touched,
    "executable bit": _mode_change,
    "versions folder removed": _folder_gone,
    "untracked file in a sub-folder": _untracked_in_subfolder,
    "symlink added": _symlink_added,
    "file replaced by a folder": _file_became_folder,
    "nested repository": _nested_repository,
    "odd file names": _odd_names,
    "CRLF file with autocrlf": _crlf_normalised,
    "edit, delete, add and ignore at once": _many_at_once,
}

# States in which the index equals HEAD and git status lists single files:
# the temporary index gets only the listed paths (``_tree_with_paths``).
PATH_WISE = {
    "edited tracked file", "untracked revision", "deleted revision", "executable bit", "versions folder removed", "untracked file in a sub-folder", "symlink added",
    "file replaced by a folder", "odd file names", "CRLF file with autocrlf",
    "edit, delete, add and ignore at once",
}  # fmt: skip


@pytest.mark.parametrize("state", list(STATES))
def test_the_shortcut_gives_what_the_temporary_index_gives(repo, state, monkeypatch):
    STATES[state](repo)
    env = env_for(repo.path / V)
    path_wise = []
    real = merged._tree_with_paths

    def spy(*args):
        tree = real(*args)
        path_wise.append(tree)
        return tree

    monkeypatch.setattr(merged, "_tree_with_paths", spy)
    with GitRepo(repo.path) as git:
        head = git.head_sha()
        slow_tree = merged.worktree_tree(git, env)  # stages the whole folders
        assert path_wise == []
        expected_head = slow_tree == git.resolve_tree(head)
        clean = merged._clean(git, git.folders(env))
        answer = merged.worktree_commit(git, env)
    if state in PATH_WISE and state != "file replaced by a folder":
        assert path_wise and path_wise[0] is not None, "the listed paths were not staged alone"
    if clean:
        assert expected_head, "the shortcut said HEAD, the temporary index disagrees"
    assert (answer == head) == expected_head
    if not expected_head:
        assert repo.git("rev-parse", f"{answer}^{{tree}}").stdout.strip() == slow_tree


def test_the_shortcut_is_taken_on_a_clean_tree(repo):
    env = env_for(repo.path / V)
    with GitRepo(repo.path) as git:
        assert merged._clean(git, git.folders(env))
        _ignored(repo)
        _unstaged_elsewhere(repo)
        assert merged._clean(git, git.folders(env))
        _untracked(repo)
        assert not merged._clean(git, git.folders(env))


def test_an_edit_keeping_size_and_mtime_is_written_even_when_its_entry_is_racy(repo):
    """git trusts a file whose times match its index entry unless the entry is as new as the
    index file; the temporary index must keep the real one's mtime for that check to work."""
    import os

    repo.git("config", "core.trustctime", "false")  # times to the second, mtime only
    target = repo.path / V / "b.py"
    past = (int(os.path.getmtime(target)) - 100) * 10**9
    os.utime(target, ns=(past, past))
    repo.git("update-index", "--refresh")  # the entry now records that mtime
    index = repo.path / ".git" / "index"
    os.utime(index, ns=(past, past))  # written in the same second: the entry is racy
    old = target.read_bytes()
    new = old.replace(b"aaaa0001", b"bbbb0002", 1)  # same size: now a self-loop
    assert len(new) == len(old) and new != old
    target.write_bytes(new)
    os.utime(target, ns=(past, past))
    env = env_for(repo.path / V)
    with GitRepo(repo.path) as git:
        commit = merged.worktree_commit(git, env)
        assert commit != git.head_sha()
    written = repo.git("rev-parse", f"{commit}:{V}/b.py").stdout.strip()
    assert written == repo.git("hash-object", f"{V}/b.py").stdout.strip()


@pytest.mark.parametrize("mark", ["--assume-unchanged", "--skip-worktree"])
def test_a_file_git_is_told_not_to_look_at_is_written_as_on_disk(repo, mark):
    """``git status`` and ``git add`` skip such a file; the predicted merge must not."""
    _edit_tracked(repo)
    repo.git("update-index", mark, f"{V}/b.py")
    assert repo.git("status", "--porcelain").stdout == ""  # git does not see the edit
    env = env_for(repo.path / V)
    with GitRepo(repo.path) as git:
        assert not merged._clean(git, git.folders(env))
        commit = merged.worktree_commit(git, env)
    written = repo.git("rev-parse", f"{commit}:{V}/b.py").stdout.strip()
    assert written == repo.git("hash-object", f"{V}/b.py").stdout.strip()
    tags = repo.git("ls-files", "-v", f"{V}/b.py").stdout
    assert tags[0] in ("h", "S"), "the real index lost its mark"


def test_a_skip_worktree_file_absent_from_disk_stays_as_staged(repo):
    """Off disk by sparse design, not deleted: the merge keeps it (git add -A does too)."""
    _untracked(repo)
    repo.git("update-index", "--skip-worktree", f"{V}/b.py")
    (repo.path / V / "b.py").unlink()
    env = env_for(repo.path / V)
    with GitRepo(repo.path) as git:
        commit = merged.worktree_commit(git, env)
    assert repo.git("rev-parse", f"{commit}:{V}/b.py").stdout.strip() == repo.git(
        "rev-parse", f"HEAD:{V}/b.py").stdout.strip()  # fmt: skip
    assert repo.git("rev-parse", f"{commit}:{V}/c.py").returncode == 0
