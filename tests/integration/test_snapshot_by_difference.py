"""A tree read as the difference from one read in full equals the tree read in full.

A check reads base in full, then the merge base and the predicted merge as
base plus ``git diff-tree``'s changes (``GitRepo.tree_snapshot``). Each case
below builds a real repository where a second commit changes the versions
folder in one way a history meets, then compares, field by field and in
order, the snapshot read by difference with the one a fresh ``GitRepo``
reads in full. Random sequences of such changes run too (hypothesis).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revgraph.config import Environment
from revgraph.sources import merged
from revgraph.sources.gitref import GitRepo
from tests.support.gitrepo import GitRepo as SupportRepo
from tests.support.gitrepo import isolated_environ
from tests.support.revfiles import render_revision

V = "migrations/versions"


def env_for(root, *, recursive: bool = False) -> Environment:
    return Environment(name="default", script_location=None, version_locations=(root / V,), recursive=recursive)


def text(rev_id: str, down=None, message: str = "step") -> str:
    return render_revision(rev_id, down, message=message, style="generic")


def _same(a, b) -> None:
    assert (a.environment, a.source, a.commit) == (b.environment, b.source, b.commit)
    assert [r.path for r in a.revisions] == [r.path for r in b.revisions]
    assert a.revisions == b.revisions
    assert a.problems == b.problems


def _both_ways(repo: SupportRepo, reference: str, target: str, *, recursive: bool = False, derived: bool = True):
    env = env_for(repo.path, recursive=recursive)
    with GitRepo(repo.path) as full_reader:
        full = full_reader.read_ref(env, target)
    with GitRepo(repo.path) as git:
        git.read_ref(env, reference)
        calls = []
        real = git.git
        git.git = lambda *a, **k: calls.append(a) or real(*a, **k)  # type: ignore[method-assign]
        by_difference = git.read_ref(env, target)
    _same(by_difference, full)
    # The plain cases are read by difference; anything else falls back to a full
    # (recursive) listing. A non-recursive ls-tree is the submodule question
    # asked when every file is gone (gitref._derive), not a read.
    commands = [call[0] for call in calls]
    full_listing = any(call[0] == "ls-tree" and "-r" in call for call in calls)
    assert ("diff-tree" in commands) or not derived
    assert (not full_listing) == derived
    return full


@pytest.fixture
def history(gitrepo):
    gitrepo.write(f"{V}/a.py", text("aaaa0001"))
    gitrepo.write(f"{V}/b.py", text("bbbb0002", "aaaa0001"))
    gitrepo.write(f"{V}/c.py", text("cccc0003", "bbbb0002"))
    gitrepo.write(f"{V}/broken.py", "revision = \n")
    gitrepo.write(f"{V}/README", "not a revision\n")
    gitrepo.write("app/models.py", "x = 1\n")
    gitrepo.commit("start")
    return gitrepo


def _add(r):
    r.write(f"{V}/d.py", text("dddd0004", "cccc0003"))
    r.write(f"{V}/0_first.py", text("0000aaaa", "aaaa0001"))


def _delete(r):
    r.remove(f"{V}/b.py")


def _modify(r):
    r.write(f"{V}/c.py", text("cccc0003", "aaaa0001", message="re-pointed"))


def _executable(r):
    os.chmod(r.path / V / "a.py", 0o755)


def _not_revisions(r):
    r.write(f"{V}/__init__.py", "")
    r.write(f"{V}/.#d.py", text("eeee0005"))
    r.write(f"{V}/notes.txt", "x\n")
    r.write(f"{V}/sub/e.py", text("eeee0005", "cccc0003"))  # not listed: the folder is flat


def _fix_the_broken_one(r):
    r.write(f"{V}/broken.py", text("ffff0006", "cccc0003"))


def _break_one(r):
    r.write(f"{V}/a.py", "revision = 'aaaa0001'\ndown_revision = (\n")


def _duplicate(r):
    r.write(f"{V}/z.py", text("aaaa0001", message="same id again"))


def _file_becomes_folder(r):
    r.remove(f"{V}/c.py")
    r.write(f"{V}/c.py/inner.py", text("cccc0003", "bbbb0002"))


def _everything_goes(r):
    r.git("rm", "-r", "-q", V)


def _outside_only(r):
    r.write("app/models.py", "x = 2\n")


@pytest.mark.parametrize(
    "change",
    [_add, _delete, _modify, _executable, _not_revisions, _fix_the_broken_one, _break_one, _duplicate,
     _file_becomes_folder, _everything_goes, _outside_only],
)  # fmt: skip
def test_a_plain_change_read_by_difference_equals_a_full_read(history, change):
    first = history.head()
    change(history)
    second = history.commit("change")
    _both_ways(history, first, second)
    _both_ways(history, second, first)  # and back: additions become deletions


def test_a_symlink_in_the_change_is_read_in_full(history):
    first = history.head()
    os.symlink("a.py", history.path / V / "link.py")
    second = history.commit("link")
    _both_ways(history, first, second, derived=False)  # alembic loads a.py once, by its real path


def test_a_reference_with_a_symlink_is_not_kept(history):
    os.symlink("a.py", history.path / V / "link.py")
    first = history.commit("link")
    _add(history)
    second = history.commit("more")
    _both_ways(history, first, second, derived=False)


def test_a_recursive_environment_is_read_in_full(history):
    first = history.head()
    _not_revisions(history)
    second = history.commit("sub folder")
    full = _both_ways(history, first, second, recursive=True, derived=False)
    assert "eeee0005" in {r.id for r in full.revisions}


def test_a_predicted_merge_with_a_conflict_equals_the_full_read(history):
    history.branch("feature")
    history.write(f"{V}/c.py", text("cccc0003", "bbbb0002", message="main's edit"))
    history.write(f"{V}/m.py", text("mmmm0007", "cccc0003"))
    history.commit("main")
    history.checkout("feature")
    history.write(f"{V}/c.py", text("cccc0003", "aaaa0001", message="feature's edit"))
    history.write(f"{V}/f.py", text("ffff0008", "cccc0003"))
    history.commit("feature")
    env = env_for(history.path)
    with GitRepo(history.path) as full_reader:
        full = merged.predict_merge(full_reader, env, "HEAD", "main")
    with GitRepo(history.path) as git:
        git.read_ref(env, "main")  # the reference, as a check reads base first
        by_difference = merged.predict_merge(git, env, "HEAD", "main")
    _same(by_difference, full)
    ids = [r.id for r in full.revisions]
    assert ids.count("cccc0003") == 2  # both sides of the conflict
    assert {"mmmm0007", "ffff0008"} <= set(ids)


# ------------------------------------------------------- random histories
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["add", "delete", "modify", "chmod", "other"]),
        st.integers(min_value=0, max_value=7),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=12, deadline=None)
@given(st.lists(STEPS, min_size=2, max_size=3))
def test_random_commits_read_by_difference_equal_full_reads(tmp_path_factory, commits):
    home = tmp_path_factory.mktemp("home")
    repo = SupportRepo.init(tmp_path_factory.mktemp("repo"), env=_environ(home))
    repo.write(f"{V}/r0.py", text("r0000000"))
    shas = [repo.commit("start")]
    for steps in commits:
        for kind, n in steps:
            path = repo.path / V / f"r{n}.py"
            if kind == "add" or (kind == "modify" and not path.exists()):
                repo.write(f"{V}/r{n}.py", text(f"r{n}000000"[:8], "r0000000" if n else None))
            elif kind == "modify":
                repo.write(f"{V}/r{n}.py", text(f"r{n}000000"[:8], None, message=f"edit {len(shas)}"))
            elif kind == "delete" and path.exists():
                path.unlink()
            elif kind == "chmod" and path.exists():
                os.chmod(path, 0o755 if not os.access(path, os.X_OK) else 0o644)
            elif kind == "other":
                repo.write(f"{V}/note{n}.txt", f"{len(shas)}\n")
        repo.git("add", "-A")
        repo.git("commit", "-q", "--allow-empty", "-m", "step")
        shas.append(repo.head())
    env = env_for(repo.path)
    with GitRepo(repo.path) as git:
        git.read_ref(env, shas[0])
        for sha in shas[1:]:
            with GitRepo(repo.path) as fresh:
                _same(git.read_ref(env, sha), fresh.read_ref(env, sha))


def _environ(home):
    base = dict(os.environ)
    for name, value in isolated_environ(home).items():
        if value is None:
            base.pop(name, None)
        else:
            base[name] = value
    return base


# ------------------------------------------- the working tree as HEAD's read
@pytest.fixture
def plain(gitrepo):
    """Only revision files in the folder: the layout a clean working tree can stand in for."""
    gitrepo.write(f"{V}/a.py", text("aaaa0001"))
    gitrepo.write(f"{V}/b.py", text("bbbb0002", "aaaa0001"))
    gitrepo.write("app/models.py", "x = 1\n")
    gitrepo.commit("start")
    gitrepo.branch("other")
    gitrepo.checkout("other")
    gitrepo.write(f"{V}/c.py", text("cccc0003", "bbbb0002"))
    gitrepo.remove(f"{V}/a.py")
    gitrepo.write(f"{V}/b.py", text("bbbb0002", None, message="edited"))
    gitrepo.commit("other's changes")
    gitrepo.git("checkout", "-q", "-")
    assert (gitrepo.path / V / "a.py").exists()
    return gitrepo


def _adopted(repo: SupportRepo, treeish: str = "HEAD") -> bool:
    """Adopt the working tree as ``treeish``'s read; True when taken, and then every read of
    the other branch and of HEAD by difference equals a full read."""
    from revgraph.sources.cache import ParseCache
    from revgraph.sources.worktree import read_worktree

    env = env_for(repo.path)
    cache = ParseCache(None)
    with GitRepo(repo.path) as git:
        snapshot = read_worktree(env, repo.path, cache=cache)
        taken = git.adopt_reference(env, git.folders(env), git.resolve(treeish), snapshot, cache)
        calls = []
        real = git.git
        git.git = lambda *a, **k: calls.append(a[0]) or real(*a, **k)  # type: ignore[method-assign]
        reads = {ref: git.read_ref(env, ref, cache=cache) for ref in ("other", "HEAD")}
    for ref, read in reads.items():
        with GitRepo(repo.path) as fresh:
            _same(read, fresh.read_ref(env, ref))
    assert ("ls-tree" not in calls) == taken
    return taken


def test_a_clean_working_tree_stands_in_for_heads_read(plain):
    assert _adopted(plain)


@pytest.mark.parametrize(
    "state",
    ["edited", "untracked revision", "ignored revision", "init file", "executable", "sub-folder",
     "crlf on checkout", "other commit"],
)  # fmt: skip
def test_a_working_tree_that_is_not_heads_tree_is_never_adopted(plain, state):
    if state == "edited":
        plain.write(f"{V}/b.py", text("bbbb0002", None, message="uncommitted"))
    elif state == "untracked revision":
        plain.write(f"{V}/d.py", text("dddd0004", "bbbb0002"))
    elif state == "ignored revision":
        plain.write(".gitignore", "scratch_*.py\n")
        plain.write(f"{V}/scratch_e.py", text("eeee0005", "bbbb0002"))
    elif state == "init file":  # tracked, not a revision: HEAD's folder tree holds it
        plain.write(f"{V}/__init__.py", "")
        plain.commit("package")
    elif state == "executable":
        os.chmod(plain.path / V / "a.py", 0o755)
        plain.commit("mode")
    elif state == "sub-folder":
        plain.write(f"{V}/old/z.py", text("ffff0006"))
        plain.commit("archive")
    elif state == "crlf on checkout":
        plain.write(".gitattributes", "*.py text eol=crlf\n")
        plain.commit("attributes")
        (plain.path / V / "a.py").unlink()
        plain.git("checkout", "--", f"{V}/a.py")  # written with CRLF, stored with LF
    if state == "other commit":
        assert not _adopted(plain, "other")  # a clean tree is HEAD's, not another commit's
    else:
        assert not _adopted(plain)
