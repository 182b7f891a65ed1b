"""The merge driver's fast both-sides-changed decision equals the reference's.

``gitops.union`` decides from ours' listing, what theirs changed and a facts
index; ``driver.union_of`` (the reference) reads both sides whole and builds
RevisionGraphs. These tests hold the first against the second:

* on random pairs of histories as plain data (many examples, no git): every
  decision the fast path takes is the reference's, and it takes one whenever
  theirs does not declare one branch label twice (a side declaring an id
  twice is RG103: decided, a conflict);
* on random pairs of branches in real git repositories, and on a
  400-revision history written like the benchmark's, through
  ``driver.fast_decision`` and ``driver.full_union_entries``;
* on reading git's tree objects: the listing rules (which files are
  revisions, in which order) against ``revgraph.listing``, and the
  difference of two trees (taken on the bytes between their shared prefix
  and suffix) against a whole comparison;
* on the facts index (a warm run parses nothing; a damaged index or one of
  another parser is not used) and on imports (no networkx, alembic, rich,
  typer, nor the parser on a warm run).

``git merge`` with the driver installed: tests/integration/test_merge_driver_e2e.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from revgraph.errors import UnknownRefError
from revgraph.gitops import driver, union
from revgraph.model import ParseProblem, Revision, Snapshot
from revgraph import listing
from tests.support.revfiles import render_revision

LOCK = "migrations/revgraph.lock"
VERSIONS = "migrations/versions"

# Ids that share 4-char prefixes (so depends_on prefixes can be ambiguous), names
# that are prefixes, labels, or nothing at all, and a label equal to an id.
IDS = (
    "aaaa00000001", "aaaa00000002", "aaab00000003", "bbbb00000004", "bbbb00000005",
    "cccc00000006", "dddd00000007", "eeee00000008", "ffff00000009", "abcd0000000a",
    *(f"{n:04x}{n:08x}" for n in range(0x1101, 0x110f)),
)  # fmt: skip
LABELS = ("reporting", "billing", "aaaa00000001")
DEPEND_NAMES = IDS + ("aaaa", "aaab", "bbbb0", "cccc", "zzzz", "reporting", "billing")
DANGLING = "999999999999"


# --------------------------------------------------------------- plain data
# A file's content: ("rev", id, downs, labels, depends, message) or ("problem",).
# Mostly what teams write (new revisions on a head, now and then a merge, a
# label, a depends_on), with every oddity the reference handles now and then.
def _heads(files: dict[str, tuple]) -> list[str]:
    revs = [c for c in files.values() if c[0] == "rev"]
    named = {p for c in revs for p in c[2]}
    return sorted({c[1] for c in revs} - named)


def _ids(files: dict[str, tuple]) -> list[str]:
    return [c[1] for c in files.values() if c[0] == "rev"]


def _one_in(draw, n: int) -> bool:
    """True about once in ``n`` draws (a middle value: hypothesis favours the bounds)."""
    return draw(st.integers(0, n - 1)) == n // 2


@st.composite
def _content(draw, files: dict[str, tuple], rid: str | None = None):
    if _one_in(draw, 150):
        return ("problem",)
    known = sorted(set(_ids(files)))
    if rid is None:
        fresh = [i for i in IDS if i not in known]
        rid = draw(st.sampled_from(fresh)) if fresh and not _one_in(draw, 30) else draw(st.sampled_from(IDS))
    heads = _heads(files) or known
    shape = draw(st.sampled_from(("line",) * 12 + ("fork", "fork", "merge", "merge", "merge", "base", "odd")))
    if not known or shape == "base":
        downs: tuple[str, ...] = ()
    elif shape == "odd":
        downs = (draw(st.sampled_from(IDS + (DANGLING,) * len(IDS))),)  # dangling, or a cycle
    elif shape == "merge" and len(known) > 1:
        pool = heads if len(heads) > 1 else known
        downs = tuple(draw(st.lists(st.sampled_from(pool), min_size=2, max_size=3, unique=True)))
    elif shape == "fork":
        downs = (draw(st.sampled_from(known)),)  # a fork from anywhere
    else:
        downs = (draw(st.sampled_from(heads)),)
    labels = (draw(st.sampled_from(LABELS)),) if _one_in(draw, 12) else ()
    depends: tuple[str, ...] = ()
    if known and _one_in(draw, 8):
        names = st.sampled_from(DEPEND_NAMES) if _one_in(draw, 6) else st.sampled_from(known)
        depends = tuple(draw(st.lists(names, min_size=1, max_size=2)))
    message = draw(st.sampled_from(("add users", "add orders", None, "")))
    return ("rev", rid, downs, labels, depends, message)


@st.composite
def _side(draw, base: dict[str, tuple], counter: list[int], shared_adds: list[tuple[str, tuple]]):
    files = dict(base)
    for path, content in shared_adds:
        files[path] = content
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(("add",) * 6 + ("delete", "edit", "edit", "copy", "add")))
        paths = sorted(files)
        if op == "add" or not paths:
            counter[0] += 1
            files[f"{VERSIONS}/r{counter[0]:03d}.py"] = draw(_content(files))
        elif op == "delete":
            del files[draw(st.sampled_from(paths))]
        elif op == "edit":  # re-point, relabel or reword a revision, keeping its id
            path = draw(st.sampled_from(paths))
            old = files.pop(path)
            files[path] = draw(_content(files, old[1] if old[0] == "rev" else None))
        else:  # the same content at a second path: a duplicate id
            counter[0] += 1
            files[f"{VERSIONS}/r{counter[0]:03d}.py"] = files[draw(st.sampled_from(paths))]
    return files


@st.composite
def histories(draw):
    """(ours, theirs): path -> content, both grown from one random base."""
    base: dict[str, tuple] = {}
    counter = [0]
    for _ in range(draw(st.integers(0, 8))):
        counter[0] += 1
        base[f"{VERSIONS}/r{counter[0]:03d}.py"] = draw(_content(base))
    shared = []
    for _ in range(draw(st.integers(0, 2))):  # the same commit on both sides (a cherry-pick)
        counter[0] += 1
        shared.append((f"{VERSIONS}/r{counter[0]:03d}.py", draw(_content(base))))
    ours = draw(_side(base, counter, shared))
    theirs = draw(_side(base, counter, shared))
    return ours, theirs


def _parsed(path: str, content: tuple):
    if content[0] == "problem":
        return ParseProblem(path, 1, "syntax error")
    _, rid, downs, labels, depends, message = content
    return Revision(rid, downs, labels, depends, path=path, message=message)


def _snapshot(files: dict[str, tuple], source: str) -> Snapshot:
    results = [_parsed(path, files[path]) for path in sorted(files)]
    return Snapshot(
        "default", source,
        tuple(r for r in results if isinstance(r, Revision)),
        tuple(r for r in results if isinstance(r, ParseProblem)),
    )  # fmt: skip


def _fast(ours: dict[str, tuple], theirs: dict[str, tuple]) -> union.Decision:
    removed = {p for p in ours if theirs.get(p) != ours[p]}
    added = [p for p in sorted(theirs) if ours.get(p) != theirs[p]]
    return union.decide(
        [(p, union.fact_of(_parsed(p, ours[p]))) for p in sorted(ours)],
        removed,
        [(p, union.fact_of(_parsed(p, theirs[p]))) for p in added],
    )


def _declares_a_label_twice(files: dict[str, tuple]) -> bool:
    """Two revisions declare one branch label: which one owns it depends on listing order."""
    owners: dict[str, set[str]] = {}
    for content in files.values():
        if content[0] == "rev":
            for label in content[3]:
                owners.setdefault(label, set()).add(content[1])
    return any(len(ids) > 1 for ids in owners.values())


def _left_to_the_reference(ours: dict[str, tuple], theirs: dict[str, tuple]) -> bool:
    """What the fast path may leave undecided: theirs declaring one label twice (a duplicate id is decided)."""
    return _declares_a_label_twice(theirs)


def _assert_same(decision: union.Decision, reference) -> None:
    assert decision.outcome != union.UNDECIDED
    if decision.outcome == union.CLEAN:
        assert reference is not None, decision
        assert list(decision.entries) == list(reference), decision.reason
    else:
        assert reference is None, (decision.reason, reference)


@settings(max_examples=settings.default.max_examples * 3, deadline=None)
@given(histories())
def test_fast_decision_is_the_reference_decision_on_random_histories(sides):
    ours, theirs = sides
    decision = _fast(ours, theirs)
    reference, dangling = driver.union_verdict(_snapshot(ours, "HEAD"), _snapshot(theirs, "theirs"))
    event(f"{decision.outcome}: {decision.reason.split(',')[0]}")
    if decision.outcome == union.UNDECIDED:
        # Only theirs declaring a label twice is left to the reference.
        assert _left_to_the_reference(ours, theirs), decision.reason
        return
    _assert_same(decision, reference)
    assert decision.dangling == dangling, decision.reason  # what the conflict text names


def _rev(rid, downs=(), labels=(), depends=(), message="m"):
    return ("rev", rid, tuple(downs), tuple(labels), tuple(depends), message)


def _files(*contents: tuple) -> dict[str, tuple]:
    return {f"{VERSIONS}/{c[1] if c[0] == 'rev' else 'broken'}_{i}.py": c for i, c in enumerate(contents)}


A, B, C, D, E = IDS[0], IDS[3], IDS[5], IDS[6], IDS[7]

SCENARIOS = {
    # name: (ours, theirs, expected heads or None for a conflict)
    "both add on the same head": (
        _files(_rev(A), _rev(B, [A])), _files(_rev(A), _rev(C, [A])), None),
    "theirs went further on the same revision": (
        _files(_rev(A), _rev(B, [A])), _files(_rev(A), _rev(B, [A]), _rev(C, [B])), [C]),
    "the same revision with another message on each side: ours' wins": (
        _files(_rev(A), _rev(B, [A], message="ours")),
        _files(_rev(A), _rev(B, [A], message="theirs"), _rev(C, [B])), [C]),
    # ours' parents win, so the union keeps ours' two unlabelled heads: RG101.
    "theirs re-points a revision ours keeps: ours' parents win": (
        _files(_rev(A), _rev(B, [A]), _rev(C, [A])),
        _files(_rev(A), _rev(B, [A]), _rev(C, [B])), None),
    # No more heads than theirs had, but two unlabelled ones: RG101 with ours as base.
    "ours merges two heads, theirs builds on one (theirs had two heads already)": (
        _files(_rev(A), _rev(B, [A]), _rev(C, [A]), _rev(D, [B, C])),
        _files(_rev(A), _rev(B, [A]), _rev(C, [A]), _rev(E, [C])), None),
    "ours merges two labelled lines, theirs builds on one of them": (
        _files(_rev(A, labels=["billing"]), _rev(B, labels=["reporting"]), _rev(D, [A, B])),
        _files(_rev(A, labels=["billing"]), _rev(B, labels=["reporting"]), _rev(E, [B])), None),
    "theirs builds on its own labelled line, ours on the other": (
        _files(_rev(A, labels=["billing"]), _rev(B, labels=["reporting"]), _rev(D, [A])),
        _files(_rev(A, labels=["billing"]), _rev(B, labels=["reporting"]), _rev(E, [B])), [D, E]),
    "a merge revision closes both sides' heads": (
        _files(_rev(A), _rev(B, [A]), _rev(C, [A]), _rev(D, [B, C])),
        _files(_rev(A), _rev(B, [A]), _rev(C, [A]), _rev(D, [B, C]), _rev(E, [D])), [E]),
    "theirs deletes what ours builds on": (
        _files(_rev(A), _rev(B, [A]), _rev(C, [B])), _files(_rev(A), _rev(D, [A])), None),
    "theirs' new revision names a revision nowhere": (
        _files(_rev(A), _rev(B, [A])), _files(_rev(A), _rev(B, [A]), _rev(C, [DANGLING])), None),
    "ours names a revision only theirs has": (
        _files(_rev(A), _rev(C, [B])), _files(_rev(A), _rev(B, [A])), [C]),
    "a revision ours cannot read": (
        _files(_rev(A), ("problem",)), _files(_rev(A), _rev(B, [A])), None),
    "depends_on by branch label": (
        _files(_rev(A, labels=["reporting"]), _rev(B, [A])),
        _files(_rev(A, labels=["reporting"]), _rev(B, [A]), _rev(C, [B], depends=["reporting"])), [C]),
    "depends_on by a prefix theirs makes ambiguous": (
        _files(_rev(IDS[0]), _rev(B, [IDS[0]], depends=["aaaa"])),
        _files(_rev(IDS[0]), _rev(B, [IDS[0]], depends=["aaaa"]), _rev(IDS[1], [IDS[0]])), None),
    "a cycle through theirs' revision": (
        _files(_rev(A, [C]), _rev(B, [A])), _files(_rev(A, [C]), _rev(B, [A]), _rev(C, [B])), None),
    "branch label heads keep their labels": (
        _files(_rev(A), _rev(B, [A], labels=["reporting"]), _rev(C, [B]), _rev(D, [A])),
        _files(_rev(A), _rev(B, [A], labels=["reporting"]), _rev(C, [B]), _rev(D, [A]), _rev(E, [D])), [C, E]),
    # reporting stays B's, so E is unlabelled beside ours' only head C on reporting: RG101.
    "a label declared on both sides belongs to ours' revision": (
        _files(_rev(A), _rev(B, [A], labels=["reporting"]), _rev(C, [B])),
        _files(_rev(A), _rev(B, [A], labels=["reporting"]), _rev(C, [B]), _rev(D, [A], labels=["reporting"]),
               _rev(E, [D])), None),
    "a head under two labels takes the first by name": (
        _files(_rev(A, labels=["billing"]), _rev(B, [A], labels=["reporting"]), _rev(C, [B])),
        _files(_rev(A, labels=["billing"]), _rev(B, [A], labels=["reporting"]), _rev(C, [B]), _rev(D, [C])), [D]),
}  # fmt: skip


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_fast_decision_on_hand_made_scenarios(name):
    ours, theirs, heads = SCENARIOS[name]
    decision = _fast(ours, theirs)
    reference = driver.union_of(_snapshot(ours, "HEAD"), _snapshot(theirs, "theirs"))
    _assert_same(decision, reference)
    if heads is None:
        assert decision.outcome == union.CONFLICT
    else:
        assert [e.revision for e in decision.entries] == sorted(heads)


@pytest.mark.parametrize(
    "name, labels",
    [
        ("branch label heads keep their labels", {C: "reporting", E: "head"}),
        ("theirs builds on its own labelled line, ours on the other", {D: "billing", E: "reporting"}),
        ("a head under two labels takes the first by name", {D: "billing"}),
    ],
)
def test_labels_of_union_heads_follow_their_line(name, labels):
    ours, theirs, _ = SCENARIOS[name]
    assert {e.revision: e.label for e in _fast(ours, theirs).entries} == labels


# ------------------------------------------------------------ listing rules
_NAME_CHARS = st.sampled_from(list("ab_.#-") + ["py", ".py", "__init__", "\n", " ", "é", "\udcff", "z"])
_NAMES = st.lists(_NAME_CHARS, min_size=1, max_size=5).map("".join).filter(lambda n: "/" not in n)


@st.composite
def _trees(draw):
    folders = draw(st.sampled_from([("v",), ("a/v",), ("v", "w"), ("w", "v/x"), ("v", "v/sub")]))
    places = list(folders) + ["v", "a/v", "v/sub", "other", "v/__pycache__", "w/deeper/x"]
    paths = draw(st.lists(st.tuples(st.sampled_from(places), _NAMES).map("/".join), unique=True, max_size=12))
    return folders, paths


def _ls_tree(paths) -> bytes:
    return b"".join(
        b"100644 blob %040x\t%s\0" % (i, p.encode("utf-8", "surrogateescape")) for i, p in enumerate(sorted(
            paths, key=lambda p: p.encode("utf-8", "surrogateescape")))
    )


@settings(max_examples=settings.default.max_examples * 3, deadline=None)
@given(_trees())
def test_listing_rules_are_alembics(tree):
    folders, paths = tree
    wanted = [f.path for f in listing.list_revision_files(folders, paths)]
    encoded = {f.encode(): i for i, f in enumerate(folders)}
    found, _ = union._listing(_ls_tree(paths), encoded)
    assert [p.decode("utf-8", "surrogateescape") for p in found] == wanted


def _tree_object(folder: str, paths) -> bytes:
    """The raw tree object git would store for ``folder`` (files and sub-folders, git's order)."""
    entries = {}
    for path in paths:
        if not path.startswith(folder + "/"):
            continue
        rest = path[len(folder) + 1 :]
        name, slash, _ = rest.partition("/")
        raw = name.encode("utf-8", "surrogateescape")
        entries[raw + b"/" if slash else raw] = (b"40000" if slash else b"100644", raw)
    ordered = sorted(entries)  # git compares a folder's name as if it ended with "/"
    return b"".join(b"%s %s\0%s" % (entries[k][0], entries[k][1], bytes(range(i % 200, i % 200 + 20))) for i, k in enumerate(ordered))


@settings(max_examples=settings.default.max_examples * 3, deadline=None)
@given(_trees())
def test_tree_object_listing_rules_are_alembics(tree):
    folders, paths = tree
    folder = folders[0]
    wanted = [f.path for f in listing.list_revision_files([folder], paths)]
    found, oids = union._tree_listing(_tree_object(folder, paths), 20)
    assert [f"{folder}/" + p.decode("utf-8", "surrogateescape") for p in found] == wanted
    assert len(oids) == len(found)


# Names and ids made of each other's bytes, so that the bytes both sides share can
# stop in the middle of an entry, or a name can end with a whole other entry.
_TREE_NAMES = st.sampled_from([
    b"a.py", b"b.py", b"ab.py", b"ba.py", b"b", b"c.py", b"__init__.py", b"x\ny.py", b"\xc3\xa9.py", b"\xff.py",
    b"zz100644 b.py", b"a.py\xff", b"zz.py",
])  # fmt: skip
_TREE_OIDS = st.sampled_from([
    bytes(20), bytes(19) + b"1", b"1" + bytes(19), b"100644 a.py\0" + bytes(8), b"b.py\0" * 4, bytes(range(20)),
])  # fmt: skip
_TREE_MODES = st.sampled_from([b"100644"] * 6 + [b"100755", b"40000"])


def _tree_bytes(entries: dict) -> bytes:
    """A raw tree object: entries sorted as git sorts them (a folder's name as if it ended with /)."""
    key = lambda name: name + b"/" if entries[name][0] == b"40000" else name  # noqa: E731
    return b"".join(b"%s %s\0%s" % (entries[n][0], n, entries[n][1]) for n in sorted(entries, key=key))


def _assert_tree_changes_are_whole_comparison(ours: dict, theirs: dict) -> None:
    ours_raw, theirs_raw = _tree_bytes(ours), _tree_bytes(theirs)
    entries = union._tree_entries(ours_raw, 20)
    listed = union._listed(*entries)

    removed, added = union._tree_changes(ours_raw, entries, listed, theirs_raw, 20)

    ours_listed = dict(zip(*listed))
    theirs_listed = dict(zip(*union._tree_listing(theirs_raw, 20)))
    assert removed == {n for n, oid in ours_listed.items() if theirs_listed.get(n) != oid}
    assert added == sorted(
        ((n, oid) for n, oid in theirs_listed.items() if ours_listed.get(n) != oid),
        key=lambda item: item[0].decode("utf-8", "surrogateescape"),
    )


@settings(max_examples=settings.default.max_examples * 5, deadline=None)
@given(
    st.dictionaries(_TREE_NAMES, st.tuples(_TREE_MODES, _TREE_OIDS), max_size=9),
    st.dictionaries(_TREE_NAMES, st.one_of(st.none(), st.tuples(_TREE_MODES, _TREE_OIDS)), min_size=1, max_size=4),
)
def test_tree_changes_equal_a_whole_comparison(ours, edits):
    theirs = {n: e for n, e in {**ours, **edits}.items() if e is not None}
    _assert_tree_changes_are_whole_comparison(ours, theirs)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        # theirs ends with an entry whose name ends with ours' whole last entry
        ({b"b.py": (b"100644", bytes(20))}, {b"b.py": (b"100644", bytes(20)), b"zz100644 b.py": (b"100644", bytes(20))}),
        ({b"b.py": (b"100644", bytes(20))}, {b"zz100644 b.py": (b"100644", bytes(20))}),
        ({b"a.py": (b"100644", bytes(20)), b"b.py": (b"100644", bytes(20))},
         {b"a.py": (b"100644", b"1" + bytes(19)), b"zz100644 b.py": (b"100644", bytes(20))}),
        # only the last byte of an id differs
        ({b"a.py": (b"100644", bytes(20)), b"b.py": (b"100644", bytes(20))},
         {b"a.py": (b"100644", bytes(19) + b"1"), b"b.py": (b"100644", bytes(20))}),
        # theirs is ours' tail
        ({b"a.py": (b"100644", bytes(20)), b"b.py": (b"100644", bytes(20))}, {b"b.py": (b"100644", bytes(20))}),
        ({}, {b"a.py": (b"100644", bytes(20))}),
        ({b"a.py": (b"100644", bytes(20))}, {}),
    ],
)
def test_tree_changes_where_shared_bytes_stop_mid_entry(ours, theirs):
    _assert_tree_changes_are_whole_comparison(ours, theirs)


def test_tree_ids_holding_nul_and_newline_bytes_are_read_whole():
    oid = b"\0\n100644 x.py\0" + b"\0" * 6
    assert len(oid) == 20
    raw = b"100644 a.py\0" + oid + b"100644 b.py\0" + bytes(20)
    assert union._tree_listing(raw, 20) == ([b"a.py", b"b.py"], [oid, bytes(20)])
    with pytest.raises(union._Unsupported):
        union._tree_listing(raw[:-1], 20)


def test_symlinks_submodules_and_odd_modes_are_left_to_the_reference():
    folders = {b"v": 0}
    for mode in (b"120000 blob", b"160000 commit", b"100664 blob"):
        out = b"100644 blob %040x\tv/a.py\0%s %040x\tv/b.py\0" % (1, mode, 2)
        with pytest.raises(union._Unsupported):
            union._listing(out, folders)
    for mode in (b"120000", b"160000", b"100664"):
        with pytest.raises(union._Unsupported):
            union._tree_listing(b"100644 a.py\0" + bytes(20) + mode + b" README\0" + bytes(20), 20)
    change = b":100644 120000 %040x %040x T\0v/a.py\0" % (1, 2)
    with pytest.raises(union._Unsupported):
        union._changes(change, folders)
    # deeper down, alembic never looks
    assert union._changes(b":000000 120000 %040x %040x A\0v/sub/a.py\0" % (0, 2), folders) == (set(), [])


# ---------------------------------------------------------- real git repos
def _write_side(repo, files: dict[str, tuple]) -> None:
    folder = repo.path / VERSIONS
    for old in folder.rglob("*"):
        if old.is_file() or old.is_symlink():
            old.unlink()
    for path, content in files.items():
        if content[0] == "problem":
            repo.write(path, "revision = 'oops\n")
        elif content[0] == "text":
            repo.write(path, content[1])
        else:
            _, rid, downs, labels, depends, message = content
            repo.write(path, render_revision(
                rid, list(downs) or None, message=message, branch_labels=list(labels) or None,
                depends_on=list(depends) or None, style="generic",
            ))  # fmt: skip


def _two_branches(repo, base: dict, ours: dict, theirs: dict, name: str = "theirs") -> str:
    """main = ours, branch ``name`` = theirs, both from a commit holding ``base``; returns theirs' sha."""
    if repo.git("rev-parse", "--verify", "-q", "HEAD", check=None).returncode != 0:
        repo.init_env()
    _write_side(repo, base)
    repo.write(LOCK, "head: x\n")
    base_sha = repo.commit("base")
    repo.branch(name, base_sha)
    _write_side(repo, ours)
    repo.write(LOCK, "head: ours\n")
    repo.commit("ours")
    repo.checkout(name)
    _write_side(repo, theirs)
    repo.write(LOCK, "head: theirs\n")
    sha = repo.commit("theirs")
    repo.checkout("main")
    return sha


def _both_ways(repo_or_path, theirs_sha: str):
    """(fast decision, reference entries) for merging ``theirs_sha`` into HEAD."""
    path = getattr(repo_or_path, "path", repo_or_path)
    fast = driver.fast_decision(LOCK, theirs_sha, cwd=path)
    full = driver.full_union_entries(LOCK, theirs_sha, cwd=path)
    return fast, full


@st.composite
def _git_histories(draw):
    ours, theirs = draw(histories())
    base = {p: c for p, c in ours.items() if theirs.get(p) == c}
    # Files alembic does not list, on either side.
    for side in (ours, theirs):
        for name in draw(st.lists(st.sampled_from(["__init__.py", "README", ".#r001.py", "sub/x.py", "notes.txt"]), max_size=2)):
            side[f"{VERSIONS}/{name}"] = ("text", f"revision = 'ffff00000009'\n# {name}\n")
    # A sha (read with one cat-file) or a branch name (ls-tree and diff-tree).
    return base, ours, theirs, draw(st.booleans())


@settings(max_examples=max(20, settings.default.max_examples // 10), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(_git_histories())
def test_fast_decision_in_git_equals_the_reference_read_from_git(make_gitrepo, sides):
    base, ours, theirs, by_name = sides
    repo = make_gitrepo(f"repo-{os.urandom(6).hex()}")
    theirs_sha = _two_branches(repo, base, ours, theirs)

    fast, full = _both_ways(repo, "theirs" if by_name else theirs_sha)

    event(fast.outcome)
    if fast.outcome == union.UNDECIDED:
        revisions = {p: c for p, c in ours.items() if c[0] != "text"}, {p: c for p, c in theirs.items() if c[0] != "text"}
        assert _left_to_the_reference(*revisions), fast.reason
        return
    _assert_same(fast, full)
    # What the conflict text names as dangling (a conflict is asked as the merged
    # tree holds the sides too, while that is cheap: always, at this size).
    dangling = driver.full_union_outcome(LOCK, "theirs" if by_name else theirs_sha, cwd=repo.path)[2]
    assert {(rid, parent) for rid, _, parent, _ in dangling} == {(rid, parent) for rid, parent, _ in fast.dangling}


def test_a_symlink_in_the_versions_folder_is_left_to_the_reference(gitrepo):
    theirs_sha = _two_branches(gitrepo, _files(_rev(A)), _files(_rev(A), _rev(B, [A])), _files(_rev(A), _rev(C, [A])))
    (gitrepo.path / VERSIONS / "alias.py").symlink_to(f"{A}_0.py")
    gitrepo.commit("ours: a symlink")

    fast, full = _both_ways(gitrepo, theirs_sha)

    assert fast.outcome == union.UNDECIDED
    assert full is None  # two new heads: still a conflict, decided by the reference


@pytest.mark.parametrize("replacement", ["nothing", "a file", "a symlink"])
def test_a_side_without_a_versions_folder_holds_no_revision(gitrepo, replacement):
    ours = _files(_rev(A), _rev(B, [A]))
    theirs_sha = _two_branches(gitrepo, ours, ours, ours)
    gitrepo.checkout("theirs")
    gitrepo.git("rm", "-q", "-r", VERSIONS)
    if replacement == "a file":
        gitrepo.write(VERSIONS, "not a folder\n")
    elif replacement == "a symlink":
        (gitrepo.path / VERSIONS).symlink_to("../elsewhere")
    theirs_sha = gitrepo.commit("theirs: no versions folder")
    gitrepo.checkout("main")

    for ours_sha, incoming in ((gitrepo.head(), theirs_sha), (theirs_sha, gitrepo.head())):
        gitrepo.git("checkout", "-q", "--detach", ours_sha)
        fast, full = _both_ways(gitrepo, incoming)
        _assert_same(fast, full)
    # Theirs deleted the folder since the merge base and ours kept it as it was: git's
    # merge deletes it, so the merged tree holds no revision (nor a head) at all.
    assert fast.outcome == union.CLEAN and [e.revision for e in fast.entries] == []


def test_several_version_locations_are_read_with_ls_tree_and_diff_tree(gitrepo, monkeypatch):
    def one_folder_only(*args):
        raise AssertionError("two folders read as one")

    monkeypatch.setattr(union, "_read_one_folder", one_folder_only)
    ini = gitrepo.path / "alembic.ini"
    gitrepo.init_env()
    ini.write_text(ini.read_text().replace(
        "script_location = %(here)s/migrations\n",
        "script_location = %(here)s/migrations\nversion_locations = %(here)s/migrations/versions:%(here)s/more\n",
    ))  # fmt: skip
    gitrepo.commit("two version locations")
    base = _files(_rev(A), _rev(B, [A]))
    more = {"more/" + path.rsplit("/", 1)[1]: c for path, c in _files(_rev(D, [B])).items()}
    theirs_sha = _two_branches(gitrepo, base, dict(base, **more), dict(base, **{f"{VERSIONS}/e.py": _rev(E, [B])}))
    assert (gitrepo.path / next(iter(more))).is_file()

    fast, full = _both_ways(gitrepo, theirs_sha)

    _assert_same(fast, full)
    assert fast.outcome == union.CONFLICT  # D and E both on B


def test_unknown_incoming_commit_is_a_conflict(gitrepo):
    _two_branches(gitrepo, _files(_rev(A)), _files(_rev(A), _rev(B, [A])), _files(_rev(A), _rev(C, [A])))
    for incoming in ("0" * 40, "--output=x"):
        # as before: merge_locks turns the reference's error into a conflict
        with pytest.raises(UnknownRefError):
            driver._union_entries(LOCK, incoming, cwd=gitrepo.path)
    assert not (gitrepo.path / "x").exists()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A 400-revision history as the benchmark writes it (merges, a branch label, depends_on)."""
    scripts = Path(__file__).resolve().parents[2] / "scripts"
    sys.path.insert(0, str(scripts))
    try:
        import genrepo
    finally:
        sys.path.remove(str(scripts))
    return genrepo.generate(tmp_path_factory.mktemp("generated") / "repo", 400, seed=7, commits=12)


def test_fast_decision_on_a_generated_history_equals_the_reference(generated, git_env):
    path = generated.path

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=path, capture_output=True, text=True, check=True).stdout.strip()

    main = git("rev-list", "--first-parent", "main").split()
    feature = git("rev-parse", "feature")
    pairs = [(feature, main[0]), (main[0], feature), (main[3], main[0]), (main[0], main[5]), (feature, main[2]), (main[1], main[1])]
    outcomes = []
    try:
        for ours, theirs in pairs:
            git("checkout", "-q", "--detach", ours)
            fast, full = _both_ways(path, theirs)
            _assert_same(fast, full)
            outcomes.append(fast.outcome)
    finally:
        git("checkout", "-q", "-f", "feature")
    assert union.CLEAN in outcomes and union.CONFLICT in outcomes


# ------------------------------------------------------------ the facts index
def test_ids_from_file_names_are_never_shared_between_copies_of_one_content(gitrepo):
    """alembic's legacy rule: no `revision =`, the id is the file's <hex> name; one blob, two ids."""
    child = 'down_revision = "aaaaaaaaaaaa"\n'
    base = {f"{VERSIONS}/aaaaaaaaaaaa.py": ("text", "down_revision = None\n")}
    ours = dict(base, **{f"{VERSIONS}/bbbbbbbbbbbb.py": ("text", child)})
    theirs = dict(base, **{f"{VERSIONS}/cccccccccccc.py": ("text", child)})
    theirs_sha = _two_branches(gitrepo, base, ours, theirs)

    for _ in range(2):  # cold, then from the index
        fast, full = _both_ways(gitrepo, theirs_sha)
        assert fast.outcome == union.CONFLICT and full is None, fast

    both = dict(ours, **{f"{VERSIONS}/cccccccccccc.py": ("text", child)})
    merge = {f"{VERSIONS}/dddddddddddd.py": ("text", 'down_revision = ("bbbbbbbbbbbb", "cccccccccccc")\n')}
    theirs_sha = _two_branches(gitrepo, base, both, dict(both, **merge), name="theirs-2")
    fast, full = _both_ways(gitrepo, theirs_sha)
    assert fast.outcome == union.CLEAN and [e.revision for e in fast.entries] == ["dddddddddddd"]
    assert list(fast.entries) == full


def test_a_cold_read_in_chunks_decides_as_the_reference(gitrepo, monkeypatch):
    monkeypatch.setattr(union, "FILL_CHUNK", 2)
    ours, theirs, _ = SCENARIOS["branch label heads keep their labels"]
    theirs_sha = _two_branches(gitrepo, ours, ours, dict(theirs, **{f"{VERSIONS}/broken.py": ("problem",)}))
    fast, full = _both_ways(gitrepo, theirs_sha)
    assert fast.outcome == union.CONFLICT and full is None  # theirs cannot be read
    theirs_sha = _two_branches(gitrepo, ours, ours, theirs, name="theirs-2")
    fast, full = _both_ways(gitrepo, theirs_sha)
    assert fast.outcome == union.CLEAN and list(fast.entries) == full


def test_a_warm_run_reads_no_revision_file(gitrepo, monkeypatch):
    ours, theirs, _ = SCENARIOS["theirs went further on the same revision"]
    theirs_sha = _two_branches(gitrepo, ours, ours, theirs)
    first = driver.fast_decision(LOCK, theirs_sha, cwd=gitrepo.path)
    assert (gitrepo.path / ".git" / "revgraph" / "facts-v1.index").is_file()
    assert list((gitrepo.path / ".git" / "revgraph").glob("cache-v*.parse"))  # parsed once, kept

    def no_reading(*args, **kwargs):
        raise AssertionError("a warm run read a revision file")

    monkeypatch.setattr(union, "_fill", no_reading)
    again = driver.fast_decision(LOCK, theirs_sha, cwd=gitrepo.path)
    assert again == first
    assert first.outcome == union.CLEAN and [e.revision for e in first.entries] == [C]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_a_damaged_index_is_ignored_and_rewritten(gitrepo, damage):
    ours, theirs, _ = SCENARIOS["theirs went further on the same revision"]
    theirs_sha = _two_branches(gitrepo, ours, ours, theirs)
    first = driver.fast_decision(LOCK, theirs_sha, cwd=gitrepo.path)
    index = gitrepo.path / ".git" / "revgraph" / "facts-v1.index"
    data = index.read_bytes()
    if damage == "truncate":
        index.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        index.write_bytes(b"not an index at all")
    else:
        index.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))

    assert driver.fast_decision(LOCK, theirs_sha, cwd=gitrepo.path) == first
    assert union.FactIndex(index.parent).facts  # rebuilt


def test_a_wrong_fact_in_an_index_of_another_parser_is_not_used(gitrepo, monkeypatch):
    ours, theirs, _ = SCENARIOS["both add on the same head"]
    theirs_sha = _two_branches(gitrepo, _files(_rev(A)), ours, theirs)
    driver.fast_decision(LOCK, theirs_sha, cwd=gitrepo.path)
    cache_dir = gitrepo.path / ".git" / "revgraph"
    index = union.FactIndex(cache_dir)
    # Pretend every revision is a base: with these facts the union would look healthy.
    for key, fact in list(index.facts.items()):
        index.put(key, (fact[0], (), (), (), fact[4]))
    index.save()
    monkeypatch.setattr(union, "_parser_stamp", lambda: b"another parser".ljust(20, b"\0"))

    assert driver.fast_decision(LOCK, theirs_sha, cwd=gitrepo.path).outcome == union.CONFLICT


# -------------------------------------------------------------- end to end
@pytest.fixture
def installed(gitrepo):
    gitrepo.init_env(commit=False)
    gitrepo.add_revision(A, None, message="create users")
    gitrepo.run("install", check=True)
    gitrepo.commit("base with revgraph")
    return gitrepo


def _lock(repo, heads_message: str) -> None:
    repo.run("lock", check=True)
    repo.commit(heads_message)


def test_the_fast_path_imports_nothing_heavy(installed):
    repo = installed
    repo.branch("theirs")
    repo.add_revision(B, A, message="add orders")
    _lock(repo, "main: orders")
    repo.checkout("theirs")
    repo.add_revision(C, A, message="add invoices")
    _lock(repo, "theirs: invoices")
    repo.checkout("main")
    sha = repo.rev_parse("theirs")
    scratch = repo.path.parent / "locks"
    scratch.mkdir()
    for name, ref in (("ancestor", "main~1"), ("ours", "main"), ("theirs", "theirs")):
        (scratch / name).write_bytes(repo.show(ref, LOCK))
    probe = textwrap.dedent(
        """
        import sys
        from revgraph.gitops.driver import main
        code = main(sys.argv[1:])
        heavy = ("networkx", "alembic", "rich", "typer", "click", "revgraph.parse")
        print(code, [m for m in heavy if m in sys.modules])
        """
    )
    argv = [sys.executable, "-c", probe, str(scratch / "ancestor"), str(scratch / "ours"), str(scratch / "theirs"), LOCK]
    env = dict(os.environ, **{f"GITHEAD_{sha}": "theirs"})
    ours_lock = repo.show("main", LOCK)
    runs = []
    for _ in range(2):
        (scratch / "ours").write_bytes(ours_lock)  # the driver leaves its result there
        runs.append(subprocess.run(argv, cwd=repo.path, env=env, capture_output=True, text=True, timeout=60))

    # The first run parses (and fills the index); the second reads facts only.
    assert runs[0].stdout.split()[0] == "1", runs[0].stdout + runs[0].stderr
    code, modules = runs[1].stdout.split(" ", 1)
    assert code == "1", runs[1].stdout + runs[1].stderr
    assert modules.strip() == "[]", runs[1].stdout
