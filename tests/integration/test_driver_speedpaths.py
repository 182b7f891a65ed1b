"""The merge driver's speed paths decide as the paths they shortcut.

* ``union._plain_changes`` (both folder trees hold only plain revision files:
  split whole and compared as sets) against ``_tree_entries`` /
  ``_listed`` / ``_tree_changes`` on random tree objects, adversarial ids
  included, and it is taken whenever both trees are plain;
* the early read (``union.start_early``: git starts reading the trees the
  last run read, from a memo, before the environment is known) is used only
  when it is the read the decision makes; a stale, foreign or damaged memo
  changes nothing but the time; nothing is left running;
* on random histories in real git repositories, the driver's decision with
  and without a memo equals the reference (both sides read whole); and
  ``git merge`` run twice (the second time from the memo) ends the same.
"""

from __future__ import annotations

import gc
import marshal
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from revgraph.gitops import driver, union
from revgraph.lockfile import parse_lock
from tests.integration.test_merge_driver_e2e import (  # noqa: F401 - repo is a fixture
    FEATURE_ID,
    _assert_stopped_at_lock_only,
    _both_add,
    _feature_went_further,
    _traced,
    repo,
)
from tests.integration.test_merge_driver_fast import (
    LOCK,
    SCENARIOS,
    VERSIONS,
    _git_histories,
    _two_branches,
)

# ----------------------------------------------------------- plain trees
_PIECES = ["a", "b", "0f", ".py", ".py", ".py", ".#", "__init__", "\n", "é", " ", "\t", "\x7f", "100644 ", "z"]
_NAMES = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=4).map("".join).map(
    lambda n: n.encode("utf-8", "surrogateescape")
)
_PLAIN_NAMES = st.sampled_from([b"a.py", b"b.py", b"0f_a.py", b"ab.py", b".py", b"a .py", b"z\t.py", b"_init_.py"])
_ODD_IDS = [
    bytes(20), b"100644 .#" + bytes(11), b"100755 __init__" + bytes(5), b".py\0" * 5, b"\x00100644 a.py\x00" + bytes(7),
]  # fmt: skip
_IDS = st.one_of(st.binary(min_size=20, max_size=20), st.sampled_from(_ODD_IDS))
_MODES = st.sampled_from([b"100644"] * 8 + [b"100755", b"100755", b"40000", b"120000", b"160000"])


def _tree(entries: dict[bytes, tuple[bytes, bytes]]) -> bytes:
    """A raw tree object, entries in git's order (a folder sorts as if its name ended with /)."""

    def key(name: bytes) -> bytes:
        return name + b"/" if entries[name][0] == b"40000" else name

    return b"".join(b"%s %s\0%s" % (entries[n][0], n, entries[n][1]) for n in sorted(entries, key=key))


def _is_plain(entries: dict[bytes, tuple[bytes, bytes]]) -> bool:
    return all(
        mode in (b"100644", b"100755")
        and name.endswith(b".py")
        and not name.startswith((b".#", b"__init__"))
        and all(0 < c < 0x80 and c != 0x0A for c in name)
        for name, (mode, _) in entries.items()
    )


def _general(ours_raw: bytes, theirs_raw: bytes):
    entries = union._tree_entries(ours_raw, 20)
    listed = union._listed(*entries)
    removed, added = union._tree_changes(ours_raw, entries, listed, theirs_raw, 20)
    return listed[0], listed[1], removed, added


@st.composite
def _tree_pairs(draw):
    if draw(st.booleans()):  # what real projects hold, now and then with one odd entry
        names, modes = _PLAIN_NAMES, st.sampled_from([b"100644"] * 6 + [b"100755"])
    else:
        names, modes = st.one_of(_PLAIN_NAMES, _NAMES), _MODES
    ids = _IDS if draw(st.integers(0, 3)) == 0 else st.binary(min_size=20, max_size=20)
    ours = draw(st.dictionaries(names, st.tuples(modes, ids), max_size=10))
    edits = draw(st.dictionaries(st.one_of(names, _NAMES) if draw(st.booleans()) else names,
                                 st.one_of(st.none(), st.tuples(modes, ids)), max_size=5))  # fmt: skip
    if ours and draw(st.booleans()):  # a mode change alone
        name = draw(st.sampled_from(sorted(ours)))
        mode, oid = ours[name]
        edits[name] = (b"100755" if mode == b"100644" else b"100644", oid)
    theirs = {n: e for n, e in {**ours, **edits}.items() if e is not None}
    return ours, theirs


@settings(max_examples=settings.default.max_examples * 5, deadline=None)
@given(_tree_pairs())
def test_plain_changes_equal_the_general_reading(pair):
    ours, theirs = pair
    ours_raw, theirs_raw = _tree(ours), _tree(theirs)
    plain = union._plain_changes(ours_raw, theirs_raw, 20)
    both_plain = _is_plain(ours) and _is_plain(theirs)
    event(f"plain: {plain is not None}, both plain: {both_plain}")
    if plain is None:
        odd_bytes = any(p in raw for p in union._NOT_PLAIN for raw in (ours_raw, theirs_raw))
        assert not both_plain or odd_bytes  # taken whenever it can be
        return
    assert both_plain
    assert plain == _general(ours_raw, theirs_raw)


@pytest.mark.parametrize(
    "entries",
    [
        {b"a.py": (b"100644", bytes(20)), b"README": (b"100644", bytes(20))},
        {b"a.py": (b"100644", bytes(20)), b"__init__.py": (b"100644", bytes(20))},
        {b".#a.py": (b"100644", bytes(20))},
        {b"a.py": (b"120000", bytes(20))},
        {b"sub": (b"40000", bytes(20)), b"a.py": (b"100644", bytes(20))},
        {"é.py".encode(): (b"100644", bytes(20))},
        {b"a\nb.py": (b"100644", bytes(20))},
    ],
)
def test_a_tree_with_one_odd_entry_is_not_plain(entries):
    assert union._plain_entries(_tree(entries), 20) is None


def test_ids_holding_entry_like_bytes_are_read_whole():
    entries = {b"a.py": (b"100644", b".py\0" * 5), b"b.py": (b"100755", b"\x00100644 a.py\x00" + bytes(7))}
    raw = _tree(entries)
    assert union._plain_entries(raw, 20) == [b"100644 a.py\0" + b".py\0" * 5, b"100755 b.py\x00\x00100644 a.py\x00" + bytes(7)]
    assert union._plain_entries(raw[:-1], 20) is None


# ------------------------------------------------------------ early reads
def _repo_with_scenario(gitrepo, name="theirs went further on the same revision"):
    ours, theirs, _ = SCENARIOS[name]
    return _two_branches(gitrepo, ours, ours, theirs)


def _memo(gitrepo) -> Path:
    return gitrepo.path / ".git" / "revgraph" / "driver-v1.memo"


@pytest.fixture
def reads(monkeypatch):
    """Every EarlyRead made, and for each whether its output was used."""
    made: list[union.EarlyRead] = []
    used: list[union.EarlyRead] = []
    real_init, real_output = union.EarlyRead.__init__, union.EarlyRead.output

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        made.append(self)

    def output(self):
        used.append(self)
        return real_output(self)

    monkeypatch.setattr(union.EarlyRead, "__init__", init)
    monkeypatch.setattr(union.EarlyRead, "output", output)
    return made, used


def _union(gitrepo, sha):
    return driver._union_entries(LOCK, sha, cwd=gitrepo.path, git_dir=gitrepo.path / ".git")


def test_the_second_run_reads_the_trees_early_and_decides_the_same(gitrepo, reads):
    made, used = reads
    sha = _repo_with_scenario(gitrepo)
    reference = driver.full_union_entries(LOCK, sha, cwd=gitrepo.path)

    first = _union(gitrepo, sha)
    assert [r.memo for r in used] == [None]  # no memo yet: started when the folder was known
    assert _memo(gitrepo).is_file()
    stamp = _memo(gitrepo).stat().st_mtime_ns

    second = _union(gitrepo, sha)
    assert len(used) == 2 and used[1].memo is not None  # started from the memo, and used
    assert first == second == reference and first is not None
    assert _memo(gitrepo).stat().st_mtime_ns == stamp  # unchanged: not rewritten
    assert all(r._proc is None and r._out is None for r in made)  # nothing left running or open


@pytest.mark.parametrize("wrong", ["folder", "lock", "cwd", "git dir", "garbage", "format"])
def test_a_memo_that_does_not_fit_changes_nothing_but_the_time(gitrepo, reads, wrong, tmp_path):
    made, used = reads
    sha = _repo_with_scenario(gitrepo, "both add on the same head")
    reference = driver.full_union_entries(LOCK, sha, cwd=gitrepo.path)
    _union(gitrepo, sha)
    memo = marshal.loads(_memo(gitrepo).read_bytes())
    fmt, cwd, lock, git_dir, root, folder = memo
    other = tmp_path / "elsewhere"
    other.mkdir()
    changed = {
        "folder": (fmt, cwd, lock, git_dir, root, "migrations/other"),
        "lock": (fmt, cwd, "elsewhere.lock", git_dir, root, folder),
        "cwd": (fmt, str(other), lock, git_dir, root, folder),
        "git dir": (fmt, cwd, lock, str(other), root, folder),
        "format": (fmt + 1, cwd, lock, git_dir, root, folder),
    }
    data = b"\x00garbage" if wrong == "garbage" else marshal.dumps(changed[wrong])
    _memo(gitrepo).write_bytes(data)
    made.clear()
    used.clear()

    assert _union(gitrepo, sha) == reference
    if wrong == "folder":  # started from the memo, stopped unused, and the memo corrected
        assert len(made) == 2 and made[0].memo is not None and used == [made[1]]
    else:
        assert len(made) == 1 and made[0].memo is None
    assert all(r._proc is None and r._out is None for r in made)
    assert marshal.loads(_memo(gitrepo).read_bytes()) == memo


def test_a_configuration_that_moved_the_versions_folder_is_read_anew(gitrepo, reads):
    """Each side is read with its own committed settings (``sources.refsettings``): an
    uncommitted alembic.ini edit moves nothing; a committed one on one side leaves the
    memo's read unused, and both sides are read whole."""
    made, used = reads
    sha = _repo_with_scenario(gitrepo)
    reference = driver.full_union_entries(LOCK, sha, cwd=gitrepo.path)
    _union(gitrepo, sha)
    ini = gitrepo.path / "alembic.ini"
    committed = ini.read_text()
    ini.write_text(committed.replace(
        "script_location = %(here)s/migrations\n",
        "script_location = %(here)s/migrations\nversion_locations = %(here)s/migrations/elsewhere\n",
    ))  # fmt: skip
    made.clear()
    used.clear()

    assert _union(gitrepo, sha) == reference == driver.full_union_entries(LOCK, sha, cwd=gitrepo.path)
    assert made[0].memo is not None and made[0] in used  # the sides' folder, as last time
    assert marshal.loads(_memo(gitrepo).read_bytes())[-1] == VERSIONS

    gitrepo.commit("ours: revisions looked for elsewhere", "alembic.ini")
    made.clear()
    used.clear()
    assert _union(gitrepo, sha) == driver.full_union_entries(LOCK, sha, cwd=gitrepo.path)
    assert made[0].memo is not None and made[0] not in used


def test_an_early_read_git_refuses_is_made_again_for_its_message(gitrepo, tmp_path):
    broken = union.EarlyRead(["git", f"--git-dir={tmp_path / 'nothing'}", "cat-file", "--batch"], str(tmp_path), dict(os.environ), b"HEAD\n")
    assert broken.output() is None
    missing = union.EarlyRead(["git"], str(tmp_path / "no such folder"), dict(os.environ), b"")
    assert missing.output() is None and missing._proc is None
    missing.stop()  # idempotent


@pytest.mark.parametrize("failure", ["git fails", "git does not start"])
def test_a_failed_early_read_is_read_again_plainly(gitrepo, monkeypatch, failure):
    sha = _repo_with_scenario(gitrepo)
    reference = driver.full_union_entries(LOCK, sha, cwd=gitrepo.path)
    _union(gitrepo, sha)  # the memo
    real_init = union.EarlyRead.__init__

    def failing(self):
        self.stop()
        return None

    def not_starting(self, argv, cwd, environ, request, memo=None):
        real_init(self, argv, str(gitrepo.path / "no such folder"), environ, request, memo)
        self.cwd = cwd  # what it was asked to run, as far as `same` can tell

    if failure == "git fails":
        monkeypatch.setattr(union.EarlyRead, "output", failing)
    else:
        monkeypatch.setattr(union.EarlyRead, "__init__", not_starting)
    assert _union(gitrepo, sha) == reference


def test_an_unused_early_read_is_ended(gitrepo):
    read = union.EarlyRead(["git", "cat-file", "--batch"], str(gitrepo.path), dict(os.environ), b"")
    read.stop()
    read.stop()
    assert read._proc is None and read._out is None


def test_merge_locks_with_a_memo_merges_as_without(gitrepo, monkeypatch):
    ours, theirs, heads = SCENARIOS["theirs went further on the same revision"]
    sha = _two_branches(gitrepo, ours, ours, theirs)
    locks = {side: b"head: %s\n" % side.encode() for side in ("ancestor", "ours", "theirs")}
    monkeypatch.setenv(f"GITHEAD_{sha}", "theirs")
    monkeypatch.chdir(gitrepo.path)
    runs = [
        driver.merge_locks(locks["ancestor"], locks["ours"], locks["theirs"], lock_path=LOCK, git_dir=gitrepo.path / ".git")
        for _ in range(2)
    ]
    assert _memo(gitrepo).is_file()
    assert runs[0] == runs[1] and runs[0][1] is True
    assert [line.split()[1] for line in runs[0][0].decode().splitlines() if not line.startswith("#")] == heads


# ------------------------------------------------------- random histories
@settings(max_examples=max(15, settings.default.max_examples // 10), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(_git_histories())
def test_the_driver_with_and_without_a_memo_decides_as_the_reference(make_gitrepo, sides):
    base, ours, theirs, _ = sides
    git_repo = make_gitrepo(f"repo-{os.urandom(6).hex()}")
    sha = _two_branches(git_repo, base, ours, theirs)
    reference = driver.full_union_entries(LOCK, sha, cwd=git_repo.path)

    cold = _union(git_repo, sha)  # no memo, no facts
    warm = _union(git_repo, sha)  # memo and facts index

    event("clean" if reference is not None else "conflict")
    assert cold == reference
    assert warm == reference


def test_plain_trees_in_git_take_the_plain_reading(gitrepo, monkeypatch):
    sha = _repo_with_scenario(gitrepo, "branch label heads keep their labels")

    def whole(*args, **kwargs):
        raise AssertionError("plain trees read entry by entry")

    monkeypatch.setattr(union, "_tree_changes", whole)
    decision = driver.fast_decision(LOCK, sha, cwd=gitrepo.path)
    assert decision.outcome == union.CLEAN
    assert list(decision.entries) == driver.full_union_entries(LOCK, sha, cwd=gitrepo.path)
    assert (gitrepo.path / VERSIONS).is_dir()


# -------------------------------------------------------------- end to end
def test_git_merge_again_with_a_memo_merges_as_the_first_time(repo):  # noqa: F811 - the fixture
    """`git merge` runs the driver (both sides changed the lock); again after --abort, from the memo."""
    _feature_went_further(repo)
    memo = repo.path / ".git" / "revgraph" / "driver-v1.memo"

    results = []
    for _ in range(2):
        proc, runs = _traced(repo, "merge", "--no-commit", "--no-ff", "feature")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert [code for code, _ in runs] == [0], runs  # the driver ran, and merged cleanly
        assert memo.is_file()
        results.append((repo.read(LOCK), memo.stat().st_mtime_ns))
        repo.git("merge", "--abort")

    assert results[0] == results[1]  # the same lock, and the memo kept as it was
    assert parse_lock(results[0][0].decode()).heads == (FEATURE_ID,)


def test_git_merge_conflict_again_with_a_memo_stops_as_the_first_time(repo, repo_templates):  # noqa: F811 - the fixture
    _both_add(repo, repo_templates)
    texts = []
    for _ in range(2):
        proc, runs = _traced(repo, "merge", "--no-edit", "feature")
        _assert_stopped_at_lock_only(proc, runs, repo)
        texts.append(repo.read(LOCK))
        repo.git("merge", "--abort")
    assert texts[0] == texts[1]
    assert (repo.path / ".git" / "revgraph" / "driver-v1.memo").is_file()


def test_without_an_in_memory_file_git_writes_to_a_temporary_file(gitrepo, monkeypatch):
    sha = _repo_with_scenario(gitrepo)
    monkeypatch.delattr(os, "memfd_create", raising=False)
    assert _union(gitrepo, sha) == driver.full_union_entries(LOCK, sha, cwd=gitrepo.path)
    assert _union(gitrepo, sha) == driver.full_union_entries(LOCK, sha, cwd=gitrepo.path)  # and from the memo


def test_the_entry_restores_the_collector_after_the_driver(capsys):
    from revgraph import entry

    assert gc.isenabled()
    assert entry.fast_path(["merge-driver", "only-one-file"]) == 2  # usage
    assert gc.isenabled()
    assert "usage: revgraph merge-driver" in capsys.readouterr().err
