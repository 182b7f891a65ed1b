"""The result cache's content key, from the index and ``git status`` (``_State._git_content``).

It must tell two states apart exactly when the files on disk differ: the
reference here hashes every file under the versions folder, as alembic
would load it. Real repositories, in-process probes.
"""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from revgraph import api, express, resultcache

V = "migrations/versions"


@pytest.fixture
def repo(gitrepo, monkeypatch):
    gitrepo.init_env()
    gitrepo.add_revision("aaaa00000001", None, message="first")
    gitrepo.add_revision("bbbb00000002", "aaaa00000001", message="second")
    gitrepo.commit("two revisions")
    # Files written a moment ago may still change within their mtime tick, and
    # the git stat key waits 2 s for them; these states are written by one
    # process that does not race itself.
    monkeypatch.setattr(express, "RACY_NS", -(10**12))
    return gitrepo


def on_disk(repo) -> dict[str, str]:
    """Every file under the versions folder and its content's hash: the reference."""
    found = {}
    for folder, _, names in os.walk(repo.path / V):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, repo.path)] = hashlib.sha1(handle.read()).hexdigest()
    return found


def git_content(repo, monkeypatch) -> str:
    """The content digest ``probe`` computes, asserted to come from git (no file scan)."""

    def no_scan(*args, **kwargs):
        raise AssertionError("the files were scanned")

    with monkeypatch.context() as patched:
        patched.setattr(resultcache, "WorktreeScan", no_scan)
        with api.Workspace(api.Options(cwd=repo.path)) as ws:
            state = resultcache._State.compute(ws, None, (), ())
            assert state.stat_key() is not None and state.by_git
            content = state.content()
    assert content is not None and content[0] == "git content"
    return content[3]


def _first(repo):
    return next((repo.path / V).glob("aaaa*.py"))


def _second(repo):
    return next((repo.path / V).glob("bbbb*.py"))


def _edit(r):
    _first(r).write_text(_first(r).read_text() + "# edited\n")


def _untracked(r):
    (r.path / V / "cccc_third.py").write_text(_second(r).read_text().replace("bbbb00000002", "cccc00000003"))


def _staged_then_undone_on_disk(r):
    first = _first(r)
    original = first.read_bytes()
    first.write_text("x = 1\n")
    r.git("add", V)  # the index holds the edit ...
    first.write_bytes(original)  # ... the disk does not


def _unstage(r):
    r.git("reset", "-q")


def _delete(r):
    r.deleted = _second(r).relative_to(r.path).as_posix()
    _second(r).unlink()


def _restore(r):
    r.git("checkout", "HEAD", "--", r.deleted)


def _exec_bit(r):
    _first(r).chmod(_first(r).stat().st_mode | stat.S_IXUSR)


def _touch_all(r):
    for path in (r.path / V).iterdir():
        if path.is_file():
            os.utime(path)


STEPS = [
    ("clean", lambda r: None),
    ("edit", _edit),
    ("undo the edit", lambda r: r.git("checkout", "--", V)),
    ("untracked revision", _untracked),
    ("commit it", lambda r: r.commit("third")),
    ("stage an edit, undo it on disk", _staged_then_undone_on_disk),
    ("unstage it", _unstage),
    ("delete a revision", _delete),
    ("put it back", _restore),
    ("executable bit", _exec_bit),
    ("touch every file", _touch_all),
    ("a note beside the revisions", lambda r: (r.path / V / "NOTES.txt").write_text("x\n")),
    ("edit again", _edit),
]


def test_the_git_content_key_changes_exactly_when_the_files_do(repo, monkeypatch):
    seen: list[tuple[str, str, dict]] = []
    for name, step in STEPS:
        step(repo)
        seen.append((name, git_content(repo, monkeypatch), on_disk(repo)))
    for i, (name_a, key_a, files_a) in enumerate(seen):
        for name_b, key_b, files_b in seen[i + 1 :]:
            assert (key_a == key_b) == (files_a == files_b), f"{name_a!r} vs {name_b!r}"
    assert len({key for _, key, _ in seen}) >= 5  # the steps did change something


def test_a_commit_of_the_checked_files_finds_the_answer_by_content(repo, monkeypatch):
    repo.git("checkout", "-q", "-b", "feature")  # base (main) stays where it is
    (repo.path / V / "cccc_third.py").write_text(_second(repo).read_text().replace("bbbb00000002", "cccc00000003"))
    with api.Workspace(api.Options(cwd=repo.path)) as ws:
        before = api.check(ws)
        before_keys = {resultcache._State.compute(ws, None, (), ()).stat_key()}
    repo.commit("third")
    with monkeypatch.context() as patched:
        patched.setattr(resultcache, "WorktreeScan", None)  # found without scanning the files
        with api.Workspace(api.Options(cwd=repo.path)) as ws:
            assert resultcache._State.compute(ws, None, (), ()).stat_key() not in before_keys
            found = resultcache.probe(ws, base=None, select=(), ignore=())
    assert found is not None and found.report is not None
    assert found.report.findings == before.findings


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_git_does_not_list_is_left_to_the_scan(repo):
    os.mkfifo(repo.path / V / "pipe.py")
    assert repo.git("status", "--porcelain", "--ignored", "-uall").stdout == ""  # git does not see it
    with api.Workspace(api.Options(cwd=repo.path)) as ws:
        state = resultcache._State.compute(ws, None, (), ())
        assert state.stat_key() is not None and state.by_git
        content = state.content()
    assert content is not None and content[0] == "content"  # the scans' key, which has it


@pytest.mark.parametrize("odd", ["symlink", "submodule-like gitlink"])
def test_what_git_records_but_alembic_follows_is_left_to_the_scan(repo, odd):
    if odd == "symlink":
        (repo.path / V / "link.py").symlink_to(_first(repo).name)
    else:
        repo.git("update-index", "--add", "--cacheinfo", f"160000,{repo.head()},{V}/sub")
    repo.commit("odd entry") if odd == "symlink" else repo.git("commit", "-qm", "gitlink")
    with api.Workspace(api.Options(cwd=repo.path)) as ws:
        state = resultcache._State.compute(ws, None, (), ())
        assert state.stat_key() is not None
        content = state.content()
    assert content is not None and content[0] == "content"  # the scans' key


def test_no_express_ticket_while_a_versions_folder_is_fresh(repo, monkeypatch):
    """A folder row that says "fresh" matches only for two seconds: no ticket rests on it."""

    def facts():
        with api.Workspace(api.Options(cwd=repo.path)) as ws:
            state = resultcache._State.compute(ws, None, (), ())
            assert state.stat_key() is not None and state.by_git
            rows = [entry for entry in state.entries if entry[0] == "//"]
            return rows, state.express_facts()

    rows, old = facts()
    assert rows and all(row[2] != "fresh" for row in rows) and old is not None
    monkeypatch.setattr(express, "RACY_NS", 10**18)  # every folder changed "just now"
    rows, young = facts()
    assert rows and all(row[2] == "fresh" for row in rows) and young is None


def _feature_with_a_third_revision(repo):
    """A feature branch whose third revision follows the second: one head."""
    repo.git("checkout", "-q", "-b", "feature")  # base (main) stays where it is
    text = _second(repo).read_text().replace("bbbb00000002", "@").replace("aaaa00000001", "bbbb00000002")
    (repo.path / V / "cccc_third.py").write_text(text.replace("@", "cccc00000003"))
    repo.commit("third")
    return repo.path / V / "cccc_third.py"


def _probe(repo):
    with api.Workspace(api.Options(cwd=repo.path)) as ws:
        return resultcache.probe(ws, base=None, select=(), ignore=())


def _edit_in_place(path) -> bytes:
    """Re-point the third revision onto the first (a fork); the old bytes.

    The size changes: these tests turn off the wait for fresh files, and git
    cannot see a same-size edit within the second of its index entry.
    """
    data = path.read_bytes()
    with open(path, "r+b") as handle:  # the folder's own identity stays as it was
        handle.write(data.replace(b"'bbbb00000002'", b"'aaaa00000001'  # re-pointed"))
        handle.truncate()
    return data


def test_a_file_edited_while_the_check_reads_keeps_its_result_out_of_the_cache(repo, monkeypatch):
    from revgraph.sources import worktree

    third = _feature_with_a_third_revision(repo)
    read, kept = worktree.read_worktree, []

    def read_then_edit(*args, **kwargs):
        snapshot = read(*args, **kwargs)
        kept.append(_edit_in_place(third))
        return snapshot

    with monkeypatch.context() as patched:
        patched.setattr(worktree, "read_worktree", read_then_edit)
        with api.Workspace(api.Options(cwd=repo.path)) as ws:
            api.check(ws)
    assert kept and third.read_bytes() != kept[0], "the edit was not made"
    # The answer was the unedited files' (no fork): stored for neither state.
    assert _probe(repo).report is None
    third.write_bytes(kept[0])
    assert _probe(repo).report is None


def test_a_file_edited_after_every_read_does_not_cost_the_checked_state_its_result(repo, monkeypatch):
    # ``store`` verifies that nothing changed between the lookup and the reads;
    # git answers that beside the rules (``Probe.everything_read``), so an edit
    # saved while the rules run leaves the checked state's result stored.
    third = _feature_with_a_third_revision(repo)
    started, kept = resultcache.Probe.everything_read, []

    def then_edit(probe, *args):
        started(probe, *args)
        for proc, _, _ in probe.ws.maybe_repo()._prefetched.values():
            proc.wait()  # git has answered: what it saw was before the edit
        kept.append(_edit_in_place(third))

    with monkeypatch.context() as patched:
        patched.setattr(resultcache.Probe, "everything_read", then_edit)
        with api.Workspace(api.Options(cwd=repo.path)) as ws:
            checked = api.check(ws)
    assert kept and third.read_bytes() != kept[0], "the edit was not made"
    assert "RG101" not in {f.code for f in checked.findings}  # the unedited files: one head
    assert _probe(repo).report is None  # the edited state was never checked
    third.write_bytes(kept[0])
    found = _probe(repo).report  # the checked state again, found by content
    assert found is not None and found.findings == checked.findings


def test_a_result_left_unstored_leaves_no_stale_git_status_behind(repo, monkeypatch):
    # The store's ``git status`` starts before the rules run (``everything_read``).
    # When the report is not stored after all (here: base's settings cannot be
    # used), that answer must not be taken by the next lookup in the process,
    # which would then describe the files as they were before an edit.
    from revgraph.api import checking

    third = _feature_with_a_third_revision(repo)
    with monkeypatch.context() as patched:
        patched.setattr(checking, "ref_settings_problem", lambda *args, **kwargs: "not usable")
        with api.Workspace(api.Options(cwd=repo.path)) as ws:
            report = api.check(ws)
            assert report.extras.get("uncacheable")
            _edit_in_place(third)
            again = resultcache.probe(ws, base=None, select=(), ignore=())
    fresh = _probe(repo)
    assert again is not None and fresh is not None and fresh.stat_key is not None
    assert again.stat_key == fresh.stat_key, "the lookup took a git status from before the edit"
