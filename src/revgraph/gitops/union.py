"""The merge driver's both-sides-changed decision, reached from what differs between the sides.

The reference (``driver.full_union_entries``) reads every revision of ours
and of theirs, takes their union by id (ours wins) and builds three
``RevisionGraph``\\ s: about 10 s at 20k revisions. This module reaches the
same decision, for the same inputs, from much less:

* both sides' tree objects of the versions folder, from one
  ``git cat-file --batch`` (git reads the second mostly from its delta-base
  cache), compared as sets of whole entries (or name by name when a tree
  holds anything but plain revision files); with several folders,
  ``git ls-tree`` of ours and ``git diff-tree ours theirs`` at once. Theirs
  is ours minus the files it deleted or changed, plus its versions of them.
  The driver starts that ``cat-file`` before it knows its environment, on
  what the last run read (``start_early``, a small memo beside the index),
  and uses it only if it is exactly this run's read;
* a *facts index* (``FactIndex``): blob id -> the five things a decision
  needs from a revision file (id, down_revisions, branch_labels, depends_on,
  message), one small ``marshal`` file beside the parse cache. A warm run
  neither parses a file nor loads the (much larger) parse cache; a miss comes
  from the parse cache, else from parsing, and is saved in both;
* set arithmetic instead of graphs: heads = ids - every named
  ``down_revision``. Healthy heads are RG101's (``checks.graph.competing_heads``,
  the one definition, asked with either side as the base); its inputs are
  built from the facts: each head's labels by a walk over its ancestors that
  stops at the last declarer, walks sharing what they found label-free, and
  a side's lineages are the union's whenever its graph is part of the
  union's. A union with more heads than branch labels plus one is RG101
  without a walk (heads sharing a label share a lane). The cycle search runs
  only when the answer could be a clean merge; a conflict is proved by heads
  and labels, dangling references or an unreadable file alone.

The decision is exact, not a heuristic: for every input ``decide`` accepts it
returns what the reference returns, and it says ``UNDECIDED`` (the driver then
runs the reference) for everything outside that subset: theirs declaring one branch label in
a file ours has and in one of its own (when RG101 asks which owns it), a symlink
or submodule in a versions folder, recursive or sourceless environments,
the repository root as a versions folder. The lock files' own claims about
heads are never trusted: only the trees are read.
``tests/integration/test_merge_driver_fast.py`` checks ``decide`` against
the reference on random histories; ``tests/property/test_driver_health.py``
that it is clean exactly when ``revgraph check``'s RG101/RG103/RG104/RG105/RG106 find
nothing in the merged graph with either side as base;
``tests/integration/test_driver_speedpaths.py`` the plain tree reading and
the early read.

Imports stay light (no networkx, alembic, rich, typer; ``revgraph.parse`` only
when a file must be parsed; ``revgraph.checks.graph`` only when heads and
labels alone do not prove a conflict): git runs this on every merge of the
lock file.
"""

from __future__ import annotations

import gc
import marshal
import os
import re
import struct
import sys
import tempfile
import threading
import zlib
from bisect import bisect_left, bisect_right
from collections import Counter
from itertools import accumulate, chain, compress, repeat
from operator import add, itemgetter, ne
from pathlib import Path
from typing import TYPE_CHECKING, AbstractSet, Callable, Iterable, Mapping, NamedTuple, Sequence

from revgraph.atomicfile import write_atomic
from revgraph.lockfile import LockEntry
from revgraph.sources import gittune

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.config import Environment
    from revgraph.model import ParseProblem, Revision
    from revgraph.sources.gitref import GitRepo

# What a decision needs from one revision file, as builtins (marshal-able):
# (id, down_revisions, branch_labels, depends_on, message). PROBLEM (an empty
# tuple, falsy) stands for a file that is not a readable revision: either side
# holding one makes the merge a conflict, as in the reference.
Fact = tuple
PROBLEM: Fact = ()

CLEAN = "clean"
CONFLICT = "conflict"
UNDECIDED = "undecided"


class Decision(NamedTuple):
    outcome: str  # CLEAN | CONFLICT | UNDECIDED
    entries: tuple[LockEntry, ...] = ()  # the union's heads, when CLEAN
    reason: str = ""  # why, for tests and debugging
    heads: tuple[str, ...] = ()  # a CONFLICT of RG101's: the union's heads (``_marked_heads``)
    # A CONFLICT of RG101's: (ours', theirs') revisions the other side lacks, id ->
    # (down_revisions, message), so the conflict text can name where each new chain starts.
    new: tuple[Mapping[str, tuple], Mapping[str, tuple]] = ()
    # A CONFLICT of a dangling down_revision: (revision id, the id it names that the union
    # lacks, its message) for each, sorted; and the ids of those the merge drops (a side
    # deleted them since the merge base, the other kept them), so the text can say why.
    dangling: tuple[tuple[str, str, str], ...] = ()
    deleted: frozenset = frozenset()
    # A dangling CONFLICT found in the merged tree of a union that conflicted already:
    # once the reference is mended, heads still compete (`revgraph fix`, not `lock`).
    forks: bool = False


def fact_of(result: "Revision | ParseProblem") -> Fact:
    """The decision's view of a parse result."""
    if not hasattr(result, "down_revisions"):
        return PROBLEM
    return (
        result.id,
        tuple(result.down_revisions),
        tuple(result.branch_labels),
        tuple(result.depends_on),
        result.message,
    )


# ------------------------------------------------------------ the decision
def decide(
    ours: Sequence[tuple[object, Fact]],
    removed: AbstractSet[object],
    added: Sequence[tuple[object, Fact]],
    *,
    allow_heads: int | None = None,
    in_merge_base: "Callable[[Sequence[object]], AbstractSet[object]] | None" = None,
) -> Decision:
    """The reference's decision for ours and theirs = ours - ``removed`` + ``added``.

    ``ours``: (path, fact) of every revision file of ours, in alembic's
    listing order. ``removed``: the paths of ours that theirs deleted or
    changed. ``added``: (path, fact) of theirs' new or changed revision files,
    in listing order. Paths are only compared, never read. ``allow_heads``:
    the environment's ``[tool.revgraph] allow_heads``. ``in_merge_base``:
    which of the given paths the merge base has (see ``decide_lists``).
    """
    return decide_lists(
        [p for p, _ in ours],
        [f for _, f in ours],
        removed,
        [f for _, f in added],
        allow_heads=allow_heads,
        added_paths=[p for p, _ in added],
        in_merge_base=in_merge_base,
    )


_ID, _DOWNS, _LABELS, _DEPENDS = (itemgetter(i) for i in range(4))


def decide_lists(
    ours_paths: Sequence[object],
    ours_facts: Sequence[Fact],
    removed: AbstractSet[object],
    added_facts: Sequence[Fact],
    *,
    allow_heads: int | None = None,
    added_paths: Sequence[object] | None = None,
    in_merge_base: "Callable[[Sequence[object]], AbstractSet[object]] | None" = None,
) -> Decision:
    """``decide`` over parallel lists.

    RG103 and RG106 of the merged tree are conflicts: a revision id declared
    by two files of one side, or by a file of each side at different paths
    (both added since the merge base: ``in_merge_base`` tells which of those
    paths the merge base has, a rename rather than a duplicate; without it a
    duplicate is assumed, without ``added_paths`` the reference decides); a branch label
    declared twice or colliding with a revision id. The same path on both
    sides is one file whatever its content (git merges it, or stops there).

    Ours is read whole (20k revisions: a few passes of builtins over it);
    theirs and the union are ours patched with the few changed files, so a
    conflict costs no per-revision Python at all.
    """
    o_facts, a_facts = ours_facts, added_facts
    if not all(o_facts) or not all(a_facts):
        return Decision(CONFLICT, reason="a revision file cannot be read")
    o_set = set(map(_ID, o_facts))
    if len(o_set) != len(o_facts):
        return Decision(CONFLICT, reason="RG103: ours declares a revision id twice")
    if len(removed) < 16:  # the usual few: found without a pass over ours
        gone = [o_facts[ours_paths.index(p)] for p in removed]
    else:
        gone = [f for p, f in zip(ours_paths, o_facts) if p in removed]
    gone_ids = set(map(_ID, gone))
    a_ids = set(map(_ID, a_facts))
    if len(a_ids) != len(a_facts) or any(i in o_set and i not in gone_ids for i in a_ids):
        return Decision(CONFLICT, reason="RG103: theirs declares a revision id twice")
    both = a_ids & gone_ids
    if both:
        # An id in a file of ours that theirs lacks and in one of theirs that
        # ours lacks: one file renamed by a side, or two files (RG103).
        if added_paths is None:  # one file edited, renamed or a duplicate: the reference tells
            return Decision(UNDECIDED, reason="both sides declare a revision id; theirs' paths unknown")
        gone_paths = list(removed) if len(removed) < 16 else [p for p in ours_paths if p in removed]
        gone_path = {o_facts[ours_paths.index(p)][0]: p for p in gone_paths}
        pairs = [(gone_path[f[0]], p) for p, f in zip(added_paths, a_facts) if f[0] in both and gone_path[f[0]] != p]
        if pairs:
            asked = list(dict.fromkeys(chain.from_iterable(pairs)))
            old_paths = in_merge_base(asked) if in_merge_base is not None else frozenset()
            if any(p not in old_paths and q not in old_paths for p, q in pairs):
                return Decision(CONFLICT, reason="RG103: both sides declare a revision id in different files")

    # How many revisions name each id as down_revision (a revision naming one twice counts twice).
    named_o = Counter(chain.from_iterable(map(_DOWNS, o_facts)))
    named_gone = Counter(chain.from_iterable(map(_DOWNS, gone)))
    named_a = set(chain.from_iterable(map(_DOWNS, a_facts)))
    heads_o = o_set.difference(named_o)

    def named_in_theirs(rid: str) -> bool:
        return named_o.get(rid, 0) > named_gone.get(rid, 0) or rid in named_a

    # Theirs' heads: ours' heads it kept and did not build on, the revisions whose
    # every child it deleted or re-pointed, and its own unnamed ones.
    heads_t = heads_o - gone_ids - named_a
    heads_t.update(rid for rid in named_gone if rid in o_set and rid not in gone_ids and not named_in_theirs(rid))
    heads_t.update(rid for rid in a_ids if not named_in_theirs(rid))

    # The union keeps ours' version of an id both sides hold.
    extra = [f for f in a_facts if f[0] not in o_set]
    extra_ids = set(map(_ID, extra))
    named_extra = set(chain.from_iterable(map(_DOWNS, extra)))
    missing = (named_o.keys() - o_set) | named_extra
    if missing - o_set - extra_ids:
        return Decision(CONFLICT, reason="a down_revision of the union names nothing",
                        dangling=_dangling(chain(o_facts, extra), missing - o_set - extra_ids))  # fmt: skip
    heads_u = (heads_o - named_extra) | {r for r in extra_ids if r not in named_o and r not in named_extra}

    u_ids = _Union(o_set, extra_ids)
    from revgraph.model import branch_label_owners, resolve_name  # loaded already: gitref reads the trees

    declared = [(f[0], f[2]) for f in chain(filter(_LABELS, o_facts), filter(_LABELS, extra))]
    labels, label_problems = branch_label_owners(declared, u_ids)
    if label_problems:
        return Decision(CONFLICT, reason="RG106: a branch label of the union is declared twice or is a revision id")

    depends: dict[str, tuple[str, ...]] = {}
    for f in chain(filter(_DEPENDS, o_facts), filter(_DEPENDS, extra)):
        targets = []
        for name in f[3]:
            target = resolve_name(name, u_ids, labels)
            if target is None:
                return Decision(CONFLICT, reason="a depends_on of the union names nothing")
            targets.append(target)
        depends[f[0]] = tuple(targets)

    if len(heads_u) > len(labels) + 1 and allow_heads is None:
        # RG101 without a walk: heads whose landed labels overlap share a lane,
        # so there are at most one lane per label and the unlabelled one.
        return Decision(CONFLICT, reason=f"the union has {len(heads_u)} heads and {len(labels)} branch labels",
                        heads=tuple(sorted(heads_u)), new=new_by_side(gone, a_facts, a_ids, o_set))  # fmt: skip

    downs_o = dict(zip(map(_ID, o_facts), map(_DOWNS, o_facts)))
    downs = dict(downs_o)
    downs.update(zip(map(_ID, extra), map(_DOWNS, extra)))
    union_lineage = _Lineage(labels, downs)
    if len(heads_u) > 1:
        labels_o = _labels(filter(_LABELS, o_facts), o_set)
        # Ours' revisions keep their parents in the union; unless one names a
        # revision only theirs has, or a label changes hands, ours' lineages
        # are the union's (and its walks are shared).
        ours_as_union = labels_o == labels and not any(rid in named_o for rid in extra_ids)
        ours = _Side(labels_o, o_set, heads_o, (lambda: union_lineage) if ours_as_union else (lambda: _Lineage(labels_o, downs_o)))
        # Theirs' revisions are the union's, with their parents, when the files
        # it lacks (ours' new ones, usually) are ones no revision of theirs names.
        theirs_in_union = not any(rid in a_ids or named_in_theirs(rid) for rid in gone_ids)
        theirs = _theirs_side(o_facts, downs_o, gone_ids, a_facts, a_ids, heads_t, labels, union_lineage, theirs_in_union)
        try:
            competing = _competing(sorted(heads_u), labels, union_lineage, (ours, theirs), allow_heads)
        except _Unsupported as exc:
            return Decision(UNDECIDED, reason=str(exc))
        if competing:
            return Decision(CONFLICT, reason=f"RG101 on the union: {', '.join(competing)} compete",
                            heads=tuple(sorted(heads_u)), new=new_by_side(gone, a_facts, a_ids, o_set))  # fmt: skip

    # Only a clean merge needs the rest: the cycle search and each head's label.
    if _has_cycle(downs, depends):
        return Decision(CONFLICT, reason="the union has a cycle")
    by_id = {f[0]: f for f in chain(o_facts, extra) if f[0] in heads_u}
    entries = []
    for head in sorted(heads_u):
        f = by_id[head]
        # As ``lockfile.entries_for``: its own first label, else its line's first by name.
        label = f[2][0] if f[2] else min(union_lineage(head), default="head")
        entries.append(LockEntry(label, head, f[4] or ""))
    return Decision(CLEAN, tuple(entries), reason="the union is healthy")


def _dangling(facts: Iterable[Fact], missing: AbstractSet[str]) -> tuple[tuple[str, str, str], ...]:
    """(revision id, down_revision it names among ``missing``, message) of ``facts``, sorted:
    asked only on a dangling conflict, so a clean merge never makes this pass."""
    return tuple(sorted((f[0], down, f[4] or "") for f in facts for down in f[1] if down in missing))


def new_by_side(gone: Sequence[Fact], a_facts: Sequence[Fact], a_ids: AbstractSet[str], o_set: AbstractSet[str]):
    """(ours', theirs') revisions the other side lacks, id -> (down_revisions, message).

    Here only the few files that differ between the sides are looked at: ours'
    ids that theirs lacks are among the files theirs removed or changed
    (``gone``). The driver's slow path hands in every revision of both sides.
    """
    ours_only = {f[0]: (f[1], f[4] or "") for f in gone if f[0] not in a_ids}
    theirs_only = {f[0]: (f[1], f[4] or "") for f in a_facts if f[0] not in o_set}
    return ours_only, theirs_only


class _Lineage:
    """``RevisionGraph.lineage_labels`` of the graph ``labels`` and ``downs`` describe, per head, memoised.

    A walk over the head's ancestors (down_revision only) that stops once
    every label's declarer is found; a parent ``downs`` lacks is not in the
    graph (dangling) and is not followed. A walk that found no label leaves
    what it saw as label-free, and later walks stop there: at 20k revisions
    the unlabelled line's ancestry is walked once, not once per head.
    """

    def __init__(self, labels: Mapping[str, str], downs: Mapping[str, tuple[str, ...]]) -> None:
        self._owners: dict[str, list[str]] = {}
        for label, owner in labels.items():
            self._owners.setdefault(owner, []).append(label)
        self._downs = downs
        self._found: dict[str, frozenset[str]] = {}
        self._free: set[str] = set()  # no declarer among these revisions' ancestors (or themselves)

    def __call__(self, head: str) -> frozenset[str]:
        found = self._found.get(head)
        if found is None:
            found = self._found[head] = self._walk(head)
        return found

    def _walk(self, head: str) -> frozenset[str]:
        owners, free = self._owners, self._free
        if not owners or head in free:
            return frozenset()
        get = self._downs.get
        labels: list[str] = []
        left = len(owners)
        seen = {head}
        stack = [head]
        while stack:
            rid = stack.pop()
            if rid in owners:
                labels.extend(owners[rid])
                left -= 1
                if not left:
                    break
            for parent in get(rid, ()):
                if parent not in seen and parent not in free:
                    seen.add(parent)
                    stack.append(parent)
        if not labels:  # the walk went everywhere and met no declarer
            free |= seen
        return frozenset(labels)


class _Side:
    """What RG101 asks of the side taken as base: its labels, its ids, whether it has an unlabelled head.

    ``labels``: the side's label -> declaring id; ``lineage``: a callable
    giving the side's ``_Lineage`` (built only if asked).
    """

    def __init__(self, labels: Mapping[str, str], ids, heads: AbstractSet[str], lineage) -> None:
        self.labels, self.ids, self.heads, self._lineage = labels, ids, heads, lineage

    def has_unlabelled_head(self) -> bool:
        lineage = self._lineage()
        return any(not lineage(head) for head in sorted(self.heads))


class _Ambiguous(_Side):
    def has_unlabelled_head(self) -> bool:
        raise _Unsupported("theirs declares a branch label twice")


class _TheirsIds:
    """Theirs' ids without copying ours': membership only."""

    def __init__(self, ours: Mapping[str, object], gone: AbstractSet[str], added: AbstractSet[str]) -> None:
        self._ours, self._gone, self._added = ours, gone, added

    def __contains__(self, rid: object) -> bool:
        return rid in self._added or (rid in self._ours and rid not in self._gone)


def _theirs_side(o_facts, downs_o, gone_ids, a_facts, a_ids, heads, union_labels, union_lineage, in_union: bool) -> _Side:
    """Theirs as ours patched with its changes; its graph's shape is built only when RG101 asks for it.

    ``in_union``: each revision of theirs is in the union with the same
    parents, and none of theirs names one it lacks: its ancestries are the
    union's, and so are its lineages when its labels are too.
    """
    kept = [f for f in filter(_LABELS, o_facts) if f[0] not in gone_ids]
    new = list(filter(_LABELS, a_facts))
    ids = _TheirsIds(downs_o, gone_ids, a_ids)
    labels = _labels(chain(kept, new), ids)
    if labels != _labels(chain(new, kept), ids):
        # A label declared twice belongs to the first declaration in theirs'
        # listing order, which interleaves ours' files and theirs' new ones:
        # when that order would matter, the reference decides.
        return _Ambiguous(labels, ids, heads, None)
    if in_union and labels == union_labels:
        return _Side(labels, ids, heads, lambda: union_lineage)

    def lineage() -> _Lineage:
        downs = {rid: d for rid, d in downs_o.items() if rid not in gone_ids} if gone_ids else dict(downs_o)
        downs.update(zip(map(_ID, a_facts), map(_DOWNS, a_facts)))
        return _Lineage(labels, downs)

    return _Side(labels, ids, heads, lineage)


def _competing(heads: Sequence[str], labels: Mapping[str, str], lineage, sides: Sequence[_Side], allow_heads: int | None) -> tuple[str, ...]:
    """The union's heads RG101 names when either side is the base (``checks.graph.competing_heads``).

    The driver cannot tell which side has landed (``git merge main`` on a
    feature branch, or the feature merged on main, or a rebase): the merge
    is healthy only if ``revgraph check`` would pass with either as base.
    """
    from revgraph.checks.graph import competing_heads, landed_label_names

    for side in sides:
        allowed = landed_label_names(labels, side.labels, side.ids)
        found = competing_heads(heads, lineage, allowed, side.has_unlabelled_head, allow_heads)
        if found:
            return found
    return ()


class _Union:
    """The union's ids without copying ours' 20k: membership and iteration."""

    def __init__(self, ours: AbstractSet[str], extra: AbstractSet[str]) -> None:
        self._ours, self._extra = ours, extra

    def __contains__(self, rid: object) -> bool:
        return rid in self._ours or rid in self._extra

    def __iter__(self):
        return chain(self._ours, self._extra)


def _labels(labelled: Iterable[Fact], ids) -> dict[str, str]:
    """Branch label -> declaring id, as ``RevisionGraph`` resolves them (first declaration wins)."""
    from revgraph.model import branch_label_owners

    return branch_label_owners([(f[0], f[2]) for f in labelled], ids)[0]


def _has_cycle(downs: Mapping[str, tuple[str, ...]], depends: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether a topological peel (Kahn) leaves anything: ``RevisionGraph.cycles`` is non-empty."""
    kids: dict[str, list[str]] = {}
    pending: dict[str, int] = {}
    for rid, parents in downs.items():
        extra = depends.get(rid)
        if extra:
            parents = parents + extra
        pending[rid] = len(parents)  # repeated parents count twice, and are listed twice below
        for parent in parents:
            if parent in kids:
                kids[parent].append(rid)
            else:
                kids[parent] = [rid]
    ready = [rid for rid, n in pending.items() if not n]
    peeled = 0
    while ready:
        rid = ready.pop()
        peeled += 1
        for kid in kids.get(rid, ()):
            pending[kid] -= 1
            if not pending[kid]:
                ready.append(kid)
    return peeled != len(pending)


# ------------------------------------------------------------ the facts index
_MAGIC = b"RGFI"
_FORMAT = 2
# magic, format, stamp of the parser's source, python major/minor, payload length, crc32
_HEADER = struct.Struct("<4sH20sHHQI")
MAX_FACTS = 500_000  # beyond this a save keeps only what the last run used


def _parser_stamp() -> bytes | None:
    """Identity of ``revgraph/parse.py`` (size, mtime): a changed parser is a new index.

    Read with one ``stat``: importing the parser to ask its version costs more
    than the whole warm decision.
    """
    try:
        info = os.stat(Path(__file__).resolve().parents[1] / "parse.py")
    except OSError:
        return None
    return struct.pack("<QQ4x", info.st_size, info.st_mtime_ns)


class FactIndex:
    """Raw blob id (bytes) -> ``Fact``; ``blob + b"\\0" + name`` for a result that depends on the file's name.

    Like the parse cache (and filled from it): content-addressed, one file
    per parser, written through a temp file and a rename after merging what
    another process wrote meanwhile; a missing, foreign or corrupt file is
    empty, never an error; ``FactIndex(None)`` keeps nothing on disk.
    """

    def __init__(self, directory: Path | None) -> None:
        self.path = Path(directory) / "facts-v1.index" if directory is not None else None
        self._stamp = _parser_stamp() if self.path is not None else None
        self.facts: dict[bytes, Fact] = self._load()
        self.new: dict[bytes, Fact] = {}

    def _load(self) -> dict[bytes, Fact]:
        if self.path is None or self._stamp is None:
            return {}
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
        except OSError:
            return {}
        if len(data) < _HEADER.size:
            return {}
        magic, fmt, stamp, major, minor, length, crc = _HEADER.unpack_from(data)
        payload = memoryview(data)[_HEADER.size :]
        if (magic, fmt, stamp, major, minor) != (_MAGIC, _FORMAT, self._stamp, *sys.version_info[:2]):
            return {}
        if len(payload) != length or zlib.crc32(payload) != crc:
            return {}
        try:
            facts = marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            return {}
        return facts if isinstance(facts, dict) else {}

    @staticmethod
    def key(blob: bytes, path: bytes, path_free: bool) -> bytes:
        # Only the file's name can matter (alembic's legacy rule: the id is a
        # `<hex>.py` name); the folder never does.
        return blob if path_free else blob + b"\0" + path.rpartition(b"/")[2]

    def get(self, blob: bytes, path: bytes) -> Fact | None:
        found = self.facts.get(blob)
        if found is None:
            found = self.facts.get(blob + b"\0" + path.rpartition(b"/")[2])
        return found

    def put(self, key: bytes, fact: Fact) -> None:
        self.facts[key] = fact
        self.new[key] = fact

    def save(self, used: Iterable[bytes] = ()) -> bool:
        """Write the new facts (merged with the file's); True when written."""
        if not self.new or self.path is None or self._stamp is None:
            return False
        merged = self._load()
        merged.update(self.facts)
        if len(merged) > MAX_FACTS:
            keep = set(used) | set(self.new)
            merged = {k: v for k, v in merged.items() if k in keep}
        payload = marshal.dumps(merged)
        header = _HEADER.pack(_MAGIC, _FORMAT, self._stamp, *sys.version_info[:2], len(payload), zlib.crc32(payload))
        written = write_atomic(self.path, header + payload)
        self.new = {}
        return written


# ------------------------------------------------------------- reading git
# alembic's _only_source_rev_file (see listing.py), for names holding a newline.
_REV_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)$")
_REGULAR = (b"100644", b"100755")
_TREE = b"40000"


def _is_revision_name(name: bytes) -> bool:
    """Whether alembic lists a file of this name (non-recursive, source only).

    Byte tests equal the regex on the decoded name: every character they look
    at is ASCII, which UTF-8 and surrogateescape keep as the same byte.
    """
    if b"\n" in name:
        return bool(_REV_FILE.match(name.decode("utf-8", "surrogateescape")))
    return name.endswith(b".py") and not name.startswith((b".#", b"__init__"))


class _Unsupported(Exception):
    """Outside what ``decide_in_repo`` reads exactly: the reference decides."""


def _check_mode(mode: bytes) -> None:
    # A symlink directly in a versions folder may name a revision file (the
    # reference follows it inside the repository); a submodule or an odd mode
    # is read by the reference as it reads it.
    if mode not in _REGULAR and mode != _TREE:
        raise _Unsupported("a symlink, submodule or unusual file mode in a versions folder")


def _tree_entries(raw: bytes, oid_size: int, start: int = 0, end: int | None = None) -> tuple[list, list, list]:
    """Modes, names and raw ids of a tree object's entries (of ``raw[start:end]``, a run of whole entries).

    Entries are ``<mode> <name>\\0<raw id>``. Only the modes git writes are
    matched: an odd one (or a run that does not start and end on entries)
    leaves bytes unmatched, which the length check turns into "unsupported".
    """
    end = len(raw) if end is None else end
    pattern = re.compile(rb"(100644|100755|40000|120000|160000) ([^\0]+)\0([\x00-\xff]{%d})" % oid_size)
    entries = pattern.findall(raw, start, end)
    modes = list(map(_FIRST, entries))
    names = list(map(_SECOND, entries))
    if sum(map(len, modes)) + sum(map(len, names)) + len(entries) * (oid_size + 2) != end - start:
        raise _Unsupported("a tree object of an unknown shape")
    for mode in set(modes):
        _check_mode(mode)
    return modes, names, list(map(_THIRD, entries))


def _listed(modes: list, names: list, oids: list) -> tuple[list[bytes], list[bytes]]:
    """The entries alembic lists as revision files (regular, a revision file name), in its order.

    A tree lists names sorted by bytes: for files, alembic's order whenever
    every name is ASCII.
    """
    # Names hold no NUL: joined with NULs, each name's start and end can be counted.
    joined = b"\0" + b"\0".join(names) + b"\0"
    if not (
        # The common case, checked by builtins alone: regular files with names
        # alembic lists (20k entries: no Python per entry).
        set(modes) <= set(_REGULAR)
        and joined.count(b".py\0") == len(names)
        and b"\0.#" not in joined
        and b"\0__init__" not in joined
        and b"\n" not in joined
    ):
        kept = [i for i, (mode, name) in enumerate(zip(modes, names)) if mode in _REGULAR and _is_revision_name(name)]
        names = [names[i] for i in kept]
        oids = [oids[i] for i in kept]
    if not joined.isascii():
        order = sorted(range(len(names)), key=lambda i: names[i].decode("utf-8", "surrogateescape"))
        names = [names[i] for i in order]
        oids = [oids[i] for i in order]
    return names, oids


def _tree_listing(raw: bytes, oid_size: int) -> tuple[list[bytes], list[bytes]]:
    """A versions folder's tree object -> names and raw blob ids of its revision files, in alembic's order."""
    return _listed(*_tree_entries(raw, oid_size))


def _tree_changes(
    ours_raw: bytes, ours: tuple[list, list, list], listed: tuple[list, list], theirs_raw: bytes, oid_size: int
) -> tuple[set[bytes], list[tuple[bytes, bytes]]]:
    """What theirs' folder tree changed in ours': (names removed or changed, theirs' (name, id) added or changed).

    ``ours``: all entries of ours' tree (``_tree_entries``); ``listed``: its
    revision files (``_listed``). Two sides of a merge often share most of
    their tree's first and last entries, byte for byte: then only the run of
    entries between the shared prefix and suffix is parsed and compared (a
    tree lists each name once, sorted, so no name in that run is shared).
    """
    modes, names, oids = ours
    prefix = _common_length(ours_raw, theirs_raw, backwards=False)
    suffix = _common_length(ours_raw, theirs_raw, backwards=True)
    their_run = None
    if prefix + suffix > len(ours_raw) // 2:
        # Where ours' entries start and end, to cut the run on entries.
        ends = list(accumulate(map(add, map(add, map(len, modes), map(len, names)), repeat(oid_size + 2, len(names)))))
        starts = [0, *ends[:-1]]
        first = bisect_right(ends, prefix)  # ours' entries [0, first) are theirs' too
        last = max(first, bisect_left(starts, len(ours_raw) - suffix))  # and [last, n)
        ours_from = starts[first] if first < len(names) else len(ours_raw)
        ours_to = starts[last] if last < len(names) else len(ours_raw)
        theirs_to = len(theirs_raw) - (len(ours_raw) - ours_to)
        try:
            if theirs_to < ours_from:
                raise _Unsupported("overlapping prefix and suffix")
            their_run = _tree_entries(theirs_raw, oid_size, ours_from, theirs_to)
        except _Unsupported:
            pass  # the shared suffix does not start on one of theirs' entries: compare whole
    if their_run is None:
        their_names, their_oids = _tree_listing(theirs_raw, oid_size)
        our_names, our_oids = listed
    else:
        their_names, their_oids = _listed(*their_run)
        our_names, our_oids = _listed(modes[first:last], names[first:last], oids[first:last])
    # Each side's blob for the other's names, compared pairwise (builtins only).
    theirs_by_name = dict(zip(their_names, their_oids))
    ours_by_name = dict(zip(our_names, our_oids))
    removed = set(compress(our_names, map(ne, our_oids, map(theirs_by_name.get, our_names))))
    changed = compress(zip(their_names, their_oids), map(ne, their_oids, map(ours_by_name.get, their_names)))
    added = sorted(changed, key=lambda item: item[0].decode("utf-8", "surrogateescape"))
    return removed, added


_PLAIN_PATTERNS: dict[int, "re.Pattern[bytes]"] = {}
# A name alembic does not list, as it starts after a regular file's mode.
_NOT_PLAIN = tuple(mode + b" " + start for mode in _REGULAR for start in (b".#", b"__init__"))


def _plain_entries(raw: bytes, oid_size: int) -> list[bytes] | None:
    """A folder tree's entries, whole, when every one is a plain revision file; else None.

    Plain: a regular file (mode 100644 or 100755, always six bytes) whose
    name alembic lists (``.py``, not ``.#`` or ``__init__``) and is printable
    ASCII without a newline, so that git's order is alembic's and a name is
    ``entry[7:-oid_size - 1]``. Every entry of the versions folder of a real
    project is plain. The entries tile ``raw`` exactly or the tree is not
    plain: matches are disjoint, a match at an entry's start is that whole
    entry (a name ends at its first NUL), and a first byte left unmatched
    leaves the lengths short.
    """
    if any(prefix in raw for prefix in _NOT_PLAIN):
        return None  # (or an id holds these bytes: about never)
    pattern = _PLAIN_PATTERNS.get(oid_size)
    if pattern is None:
        # (No look-ahead for the two prefixes above: it doubles the time.)
        pattern = _PLAIN_PATTERNS[oid_size] = re.compile(
            rb"(?s)100(?:644|755) [\x01-\x09\x0b-\x7f]*\.py\0.{%d}" % oid_size
        )
    entries = pattern.findall(raw)
    return entries if sum(map(len, entries)) == len(raw) else None


def _plain_changes(ours_raw: bytes, theirs_raw: bytes, oid_size: int):
    """``_listed`` of ours and ``_tree_changes`` to theirs when both trees are plain (``_plain_entries``); else None.

    Two sides of a merge share most entries byte for byte, in any order of
    runs: the entries only one side holds (a set difference, builtins only)
    are the few to look at by name. An entry only ours holds has a name
    theirs lacks or holds with another id or mode (an identical one would be
    shared), and the same the other way: a name both hold with one id and
    another mode is no change, as in ``_tree_changes``.
    """
    ours = _plain_entries(ours_raw, oid_size)
    if ours is None:
        return None
    theirs = _plain_entries(theirs_raw, oid_size)
    if theirs is None:
        return None
    cut = -oid_size - 1
    names = list(map(itemgetter(slice(7, cut)), ours))
    oids = list(map(itemgetter(slice(-oid_size, None)), ours))
    ours_set = set(ours)
    differ = ours_set.symmetric_difference(theirs)
    only_ours = {entry[7:cut]: entry[-oid_size:] for entry in differ if entry in ours_set}
    only_theirs = {entry[7:cut]: entry[-oid_size:] for entry in differ if entry not in ours_set}
    removed = {name for name, oid in only_ours.items() if only_theirs.get(name) != oid}
    added = sorted(
        ((name, oid) for name, oid in only_theirs.items() if only_ours.get(name) != oid),
        key=lambda item: item[0].decode("utf-8", "surrogateescape"),
    )
    return names, oids, removed, added


def _common_length(a: bytes, b: bytes, *, backwards: bool) -> int:
    """How many leading (or trailing) bytes ``a`` and ``b`` share: a binary search of memcmp's."""
    low, high = 0, min(len(a), len(b))
    while low < high:  # a and b share `low` bytes; not more than `high`
        middle = (low + high + 1) // 2
        if backwards:
            same = a[len(a) - middle : len(a) - low] == b[len(b) - middle : len(b) - low]
        else:
            same = a[low:middle] == b[low:middle]
        if same:
            low = middle
        else:
            high = middle - 1
    return low


_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)


def _folder_of(path: bytes, folders: Mapping[bytes, int]) -> int | None:
    folder, _, name = path.rpartition(b"/")
    index = folders.get(folder)
    if index is None or not _is_revision_name(name):
        return None
    return index


def _listing(out: bytes, folders: Mapping[bytes, int]) -> tuple[list[bytes], list[bytes]]:
    """``git ls-tree -r -z`` output -> paths and raw blob ids of the revision files, in alembic's order."""
    found = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, _kind, blob = meta.split(b" ")
        if path.rpartition(b"/")[0] in folders:
            _check_mode(mode)
        if mode in _REGULAR and _folder_of(path, folders) is not None:
            found.append((path, bytes.fromhex(blob.decode())))
    # git sorts by bytes over the whole path; alembic by str within each folder.
    found.sort(key=lambda item: _order_key(item[0], folders))
    return [path for path, _ in found], [oid for _, oid in found]


def _order_key(path: bytes, folders: Mapping[bytes, int]) -> tuple[int, str]:
    folder, _, name = path.rpartition(b"/")
    return (folders[folder], name.decode("utf-8", "surrogateescape"))


def _changes(out: bytes, folders: Mapping[bytes, int]) -> tuple[set[bytes], list[tuple[bytes, bytes]]]:
    """``git diff-tree -r -z`` output -> (paths theirs deleted or changed, (path, raw blob) it added or changed)."""
    removed: set[bytes] = set()
    added: list[tuple[bytes, bytes]] = []
    fields = out.split(b"\0")
    for i in range(0, len(fields) - 1, 2):
        meta, path = fields[i], fields[i + 1]
        old_mode, new_mode, _old, new_blob, _status = meta[1:].split(b" ")
        if path.rpartition(b"/")[0] in folders:
            for mode in (old_mode, new_mode):
                if mode != b"000000":
                    _check_mode(mode)
        if _folder_of(path, folders) is None:
            continue
        if old_mode != b"000000":
            removed.add(path)
        if new_mode != b"000000":
            added.append((path, bytes.fromhex(new_blob.decode())))
    added.sort(key=lambda item: _order_key(item[0], folders))
    return removed, added


class _Background:
    """``function(*args, **kwargs)`` on a thread; ``result()`` waits and returns (or raises) its outcome."""

    def __init__(self, function, *args, **kwargs) -> None:
        self._outcome: list = []
        self._thread = threading.Thread(target=self._run, args=(function, args, kwargs), daemon=True)
        self._thread.start()

    def _run(self, function, args, kwargs) -> None:
        try:
            self._outcome.append((True, function(*args, **kwargs)))
        except BaseException as exc:  # handed to the caller's thread
            self._outcome.append((False, exc))

    def result(self):
        self._thread.join()
        ok, value = self._outcome[0]
        if not ok:
            raise value
        return value


class EarlyRead:
    """``git`` run as ``argv`` in ``cwd`` with ``environ``, fed ``request``, its output going to a file.

    An unlinked temporary file rather than a pipe: git writes the trees'
    megabytes at its own pace while this process imports, reads its
    configuration or loads the facts index (a pipe would stall git whenever
    the reading thread waits for the interpreter lock). ``output()`` waits
    for git: its output, or None when git failed (or could not start).
    """

    def __init__(self, argv: Sequence[str], cwd: str, environ: Mapping[str, str], request: bytes, memo=None) -> None:
        import subprocess

        self.argv, self.cwd, self.environ, self.input = list(argv), cwd, dict(environ), request
        self.memo = memo  # what a previous run remembered, when this read was started from it
        self._out = None
        self._proc = None
        try:
            self._out = _scratch_file()
            self._proc = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, stdout=self._out, stderr=subprocess.DEVNULL, cwd=cwd, env=self.environ
            )
        except (OSError, ValueError):
            self._close_file()
            return
        try:  # a few hundred bytes: never more than the pipe holds, git's output goes to a file anyway
            self._proc.stdin.write(request)
        except OSError:
            pass  # git exited early: its exit status says so
        finally:
            try:
                self._proc.stdin.close()
            except OSError:
                pass

    def same(self, argv: Sequence[str], cwd: str, environ: Mapping[str, str], request: bytes) -> bool:
        """Whether this is exactly the read ``argv``/``cwd``/``environ``/``request`` describe."""
        return (self.argv, self.cwd, self.environ, self.input) == (list(argv), cwd, dict(environ), request)

    def output(self) -> bytes | None:
        if self._proc is None:
            return None
        code = self._proc.wait()
        self._proc = None
        try:
            if code != 0 or self._out is None:
                return None
            self._out.seek(0)
            return self._out.read()
        finally:
            self._close_file()

    def stop(self) -> None:
        """End git if it still runs (a read nobody will use) and free the file; idempotent."""
        if self._proc is not None:
            if self._proc.poll() is None:
                try:
                    self._proc.kill()
                except OSError:
                    pass
            self._proc.wait()
            self._proc = None
        self._close_file()

    def _close_file(self) -> None:
        if self._out is not None:
            try:
                self._out.close()
            except OSError:
                pass
            self._out = None


def _scratch_file():
    """An anonymous file: in memory where the system offers one, else an unlinked temporary file.

    (``tempfile`` first probes for a writable folder with a random name: a
    few milliseconds of a run that takes a fifth of a second.)
    """
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is not None:
        try:
            return os.fdopen(memfd_create("revgraph-git-output", os.MFD_CLOEXEC), "w+b")
        except OSError:
            pass
    return tempfile.TemporaryFile()


def _tree_batch_call(repo: "GitRepo") -> tuple[list[str], str, dict[str, str]]:
    """The ``git cat-file --batch`` that reads the trees: argv, working folder and environment.

    Tuned for reading trees (``gittune``): the request holds commits and trees only.
    """
    from revgraph.sources.gitref import _git_environ

    argv = [*repo._argv, *gittune.TREE_BATCH_ARGS]
    return argv, repo._cwd, _git_environ(gittune.TREE_READ_ENVIRON)


def _early_environ() -> dict[str, str]:
    """``gitref._git_environ()``, without importing gitref (and the parse cache, and the model).

    A read started with it is used only when it equals what gitref gives
    (``EarlyRead.same``), so a difference would cost time, never a wrong answer.
    """
    return gittune.git_environ()


def _one_folder_request(folder: str, theirs_ref: str) -> bytes:
    requests = ("HEAD^{commit}", f"{theirs_ref}^{{commit}}", f"HEAD:{folder}", f"{theirs_ref}:{folder}")
    return "".join(f"{r}\n" for r in requests).encode("utf-8", "surrogateescape")


def _one_folder(repo: "GitRepo", env: "Environment", theirs_ref: str) -> str | None:
    """The versions folder ``_read_one_folder`` reads for this decision, None when it reads none.

    Raises ``_Unsupported`` for what the fast decision does not read at all.
    """
    if env.recursive or env.sourceless:
        raise _Unsupported("recursive or sourceless version locations")
    names = list(dict.fromkeys(repo.folders(env)))
    if not names or not all(names) or any(n.rsplit("/", 1)[-1].endswith("__pycache__") for n in names):
        raise _Unsupported("a versions folder at the repository root or named __pycache__")
    if len(names) == 1 and "\n" not in names[0] and _HEX_REF.fullmatch(theirs_ref):
        return names[0]
    return None


# ------------------------------------------------- the read, started early
# Which read the last decision made, so that the next run can start git on it
# before it knows its environment (importing and reading the configuration
# take about as long as git takes to read two large trees).
_MEMO_NAME = "driver-v1.memo"
_MEMO_FORMAT = 1


def _memo_path(git_dir: Path) -> Path:
    """Where ``cache_dir_for`` puts the caches, found from the git dir alone (a linked worktree's "commondir")."""
    try:
        common = (git_dir / "commondir").read_text(encoding="utf-8").strip()
    except OSError:
        common = ""
    return (git_dir / common if common else git_dir) / "revgraph" / _MEMO_NAME


def start_early(git_dir: Path | None, cwd: Path, lock_path: str, theirs_ref: str) -> EarlyRead | None:
    """git reading the trees the last run in ``cwd`` for ``lock_path`` read, or None; never raises.

    A guess from a small memo file, checked before use: ``decide_in_repo``
    uses the read only when it is the one it would start itself. It runs
    only ``git cat-file --batch`` on this repository (``git_dir``, as the
    driver found it), from its working tree.
    """
    if git_dir is None or not _HEX_REF.fullmatch(theirs_ref):
        return None
    try:
        with open(_memo_path(git_dir), "rb") as handle:
            memo = marshal.loads(handle.read())
        fmt, memo_cwd, memo_lock, memo_git_dir, root, folder = memo
        if fmt != _MEMO_FORMAT or memo_cwd != str(cwd) or memo_lock != lock_path:
            return None
        if not (isinstance(memo_git_dir, str) and isinstance(folder, str) and isinstance(root, (str, type(None)))):
            return None
        if Path(memo_git_dir).resolve() != Path(git_dir).resolve():
            return None
    except (OSError, EOFError, ValueError, TypeError, RuntimeError):
        return None
    argv = ["git", f"--git-dir={memo_git_dir}", *([f"--work-tree={root}"] if root is not None else [])]
    argv += gittune.TREE_BATCH_ARGS
    environ = {**_early_environ(), **gittune.TREE_READ_ENVIRON}
    read = EarlyRead(argv, root or memo_git_dir, environ, _one_folder_request(folder, theirs_ref), memo=memo)
    return read if read._proc is not None else None


def remember_early(repo: "GitRepo", env: "Environment", theirs_ref: str, cwd: Path, lock_path: str, early: EarlyRead | None) -> None:
    """Keep, for the next run, which read this decision made (when it differs from the memo); never raises."""
    try:
        folder = _one_folder(repo, env, theirs_ref)
        if folder is None:
            return
        root = str(repo.root) if repo.root is not None else None
        memo = (_MEMO_FORMAT, str(cwd), lock_path, str(repo.git_dir), root, folder)
        if early is not None and early.memo == memo:
            return
        write_atomic(_memo_path(Path(repo.git_dir)), marshal.dumps(memo))
    except Exception:  # a cache of a guess: never the driver's failure
        pass


def decide_in_repo(
    repo: "GitRepo",
    env: "Environment",
    theirs: str,
    *,
    cache_dir: Path | None,
    early: "EarlyRead | None" = None,
    base: str | None = None,
) -> Decision:
    """The decision for merging ``theirs`` (a commit-ish) into HEAD, for ``env``'s revisions.

    ``early``: the trees' read, started before the environment was known
    (``start_early``); used only when it is exactly the read this decision
    would start, else stopped. ``base``: what git merges against, when not the
    merge base of HEAD and ``theirs`` (a rebase's pick: the picked commit's parent).
    """
    # About 200k small tuples and strings and no reference cycle worth
    # collecting (a cold parse of 20k files measured the same peak memory
    # either way): the collector would only walk them again and again (a
    # tenth of a warm run, a quarter of a cold one).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _decide_in_repo(repo, env, theirs, cache_dir, early, base)
    except _Unsupported as exc:
        return Decision(UNDECIDED, reason=str(exc))
    finally:
        if collecting:
            gc.enable()


def _decide_in_repo(
    repo: "GitRepo",
    env: "Environment",
    theirs_ref: str,
    cache_dir: Path | None,
    early: "EarlyRead | None" = None,
    base: str | None = None,
) -> Decision:
    folder = _one_folder(repo, env, theirs_ref)
    if folder is not None:
        # `paths` are names inside the folder here, and full paths below: `prefix` tells.
        paths, oids, removed, added, index, prefix = _read_one_folder(repo, folder, theirs_ref, cache_dir, early)
    else:
        names = list(dict.fromkeys(repo.folders(env)))
        folders = {n.encode("utf-8", "surrogateescape"): i for i, n in enumerate(names)}
        paths, oids, removed, added, index, prefix = _read_folders(repo, names, folders, theirs_ref, cache_dir)
    added_paths = [path for path, _ in added]
    added_oids = [oid for _, oid in added]

    ours_facts = _known(paths, oids, index)
    added_facts = _known(added_paths, added_oids, index)
    if None in ours_facts or None in added_facts:
        pairs = list(zip(paths + added_paths, oids + added_oids))
        missing = [(prefix + path, oid) for (path, oid), f in zip(pairs, chain(ours_facts, added_facts)) if f is None]
        by_path = _fill(repo, index, missing, cache_dir)
        filled = {(path[len(prefix) :], oid): fact for (path, oid), fact in by_path.items()}
        ours_facts = [f if f is not None else filled[pair] for pair, f in zip(pairs, ours_facts)]
        added_facts = [f if f is not None else filled[pair] for pair, f in zip(pairs[len(paths) :], added_facts)]
        index.save(used=oids + added_oids)

    def decided(paths, oids, ours_facts, removed, added_paths, added_facts) -> Decision:
        return decide_lists(
            paths,
            ours_facts,
            removed,
            added_facts,
            allow_heads=env.allow_heads,
            added_paths=added_paths,
            in_merge_base=lambda asked: _in_merge_base(repo, theirs_ref, prefix, asked, base),
        )

    decision = decided(paths, oids, ours_facts, removed, added_paths, added_facts)
    marked_sides = (ours_facts, oids), (added_facts, added_oids)  # of the union that decided
    if decision.outcome in (CLEAN, CONFLICT) and not decision.dangling:
        # A file one side deleted since the merge base and the other kept as it was there
        # is not in the merged tree: neither is its revision (``driver.merged_sides``).
        # The sides are asked again as the merged tree holds them: theirs'
        # deletions, and its files ours lacks (its new ones, mostly; a file ours
        # changed is among `removed`). A conflict stays one, told as a dangling one
        # when it is that too: `revgraph fix` refuses a dangling reference.
        theirs_has = set(added_paths)
        deleted = [p for p in removed if p not in theirs_has]
        at = {p: i for i, p in enumerate(paths)} if len(deleted) >= 16 else None
        theirs_lacks = [(p, oids[at[p] if at is not None else paths.index(p)]) for p in deleted]
        ours_lacks = [(p, o) for p, o in zip(added_paths, added_oids) if p not in removed]
        # A conflict's text is all that is at stake: asked only while that is cheap (a
        # side's hundreds of new files would cost a listing of the merge base's folder).
        cheap = len(theirs_lacks) + len(ours_lacks) <= _ASKED_ONE_BY_ONE
        if (theirs_lacks or ours_lacks) and (decision.outcome == CLEAN or cheap):
            gone_ours, gone_theirs = deleted_by_the_other_side(
                repo, theirs_ref,
                [(prefix + p, o.hex().encode()) for p, o in ours_lacks],
                [(prefix + p, o.hex().encode()) for p, o in theirs_lacks],
                base,
            )  # fmt: skip
            dropped = []  # (facts, which of them stay): only a dangling conflict reads them
            if gone_ours:  # theirs deleted them: out of ours, and no longer a change of theirs
                names = {p[len(prefix) :] for p in gone_ours}
                kept = [p not in names for p in paths]
                dropped.append((ours_facts, kept))
                paths, oids, ours_facts = (list(compress(x, kept)) for x in (paths, oids, ours_facts))
                removed = removed - names
            if gone_theirs:  # ours deleted them: out of theirs' changes
                kept = [prefix + p not in gone_theirs for p in added_paths]
                dropped.append((added_facts, kept))
                added_paths, added_oids, added_facts = (list(compress(x, kept)) for x in (added_paths, added_oids, added_facts))
            if gone_ours or gone_theirs:
                merged = decided(paths, oids, ours_facts, removed, added_paths, added_facts)
                if merged.dangling:  # a parent the merge drops, most likely: say which
                    ids = {f[0] for facts, kept in dropped for f, k in zip(facts, kept) if not k}
                    merged = merged._replace(deleted=frozenset(d for _, d, _ in merged.dangling if d in ids))
                if decision.outcome == CLEAN or merged.dangling:
                    decision = merged._replace(forks=decision.outcome == CONFLICT)
                    marked_sides = (ours_facts, oids), (added_facts, added_oids)
    if decision.heads and _marked_heads(repo, decision.heads, *marked_sides):
        return Decision(UNDECIDED, reason="a head's file may carry an ignore comment: the reference decides")
    return decision


def _marked_heads(repo: "GitRepo", heads: Sequence[str], *sides: tuple[Sequence[Fact], Sequence[str]]) -> bool:
    """Whether a file declaring one of ``heads`` may carry ``# revgraph: ignore[...]``:
    ``check`` lets such a comment silence RG101 (``checks.registry``), and the facts
    have no room for it. Only the heads' few blobs are read; the reference parses them.
    """
    wanted = set(heads)
    oids = [oid.hex() for facts, side_oids in sides for fact, oid in zip(facts, side_oids) if fact and fact[0] in wanted]
    return any(blob.data is not None and b"revgraph" in blob.data and b"ignore" in blob.data
               for blob in repo.blobs(list(dict.fromkeys(oids))))  # fmt: skip


def _merge_base(repo: "GitRepo", theirs_ref: str, base: str | None) -> str:
    """The commit git merges ``theirs_ref`` into HEAD against: ``base`` when the caller
    knows it (a rebase's pick is applied against its own parent), else their merge
    base; "" when there is none."""
    if base is not None:
        return base
    found = repo.git("merge-base", "HEAD", theirs_ref, ok=(0, 1)).stdout
    return (found.decode() if isinstance(found, bytes) else found).strip()


def _in_merge_base(
    repo: "GitRepo", theirs_ref: str, prefix: bytes, paths: Sequence[bytes], base: str | None = None
) -> set[bytes]:
    """Which of ``paths`` (below ``prefix``) the merge base (``_merge_base``) has.

    Asked only when both sides hold one revision id at different paths (a
    rename, or RG103). No merge base, or any failure: none of them (two files
    then, the safe reading: a conflict).
    """
    try:
        held = _merge_base_blobs(repo, theirs_ref, [prefix + p for p in paths], base)
    except Exception:
        return set()
    return {p for p in paths if prefix + p in held}


# ``<commit>:<path>`` makes git scan the path's folder tree entry by entry: ~0.1 ms a
# path in a folder of 20k files. Past this many paths, one listing of their folders
# (~20 ms at 20k) is cheaper.
_ASKED_ONE_BY_ONE = 64


def _listed_blobs(repo: "GitRepo", commit: str, paths: Sequence[bytes]) -> dict[bytes, bytes]:
    """Path -> blob id (hex) in ``commit`` for those of ``paths`` it holds as blobs: one
    ``git ls-tree`` of the folders holding them. (Not ``GitRepo.blob_ids``: that one
    follows folder symlinks and submodules, which ``<commit>:<path>`` does not.)"""
    folders = dict.fromkeys(p.rsplit(b"/", 1)[0] + b"/" for p in paths)  # each path has a "/"
    pathspecs = [f.decode("utf-8", "surrogateescape") for f in folders]
    out = repo.git(*gittune.TREE_READ_CONFIG, "ls-tree", "-z", "--full-tree", commit, "--", *pathspecs).stdout
    out = out if isinstance(out, bytes) else out.encode("utf-8", "surrogateescape")
    wanted = set(paths)
    blobs = {}
    for record in out.split(b"\0"):
        info, _, path = record.partition(b"\t")
        fields = info.split(b" ")
        if path in wanted and len(fields) == 3 and fields[1] == b"blob":
            blobs[path] = fields[2]
    return blobs


def _merge_base_blobs(
    repo: "GitRepo", theirs_ref: str, paths: Sequence[bytes], base: str | None = None
) -> dict[bytes, bytes]:
    """Path -> blob id (hex, as bytes) in the merge base (``_merge_base``), for those of
    ``paths`` (from the repository root) it holds. No merge base: {}. git failing
    raises (GitError, ValueError): {} would say the merge deletes nothing, and the
    driver could merge cleanly what the merge leaves dangling."""
    asked = [p for p in dict.fromkeys(paths) if b"\n" not in p]  # one request a line
    if not asked:
        return {}
    base = _merge_base(repo, theirs_ref, base)
    if not base:
        return {}
    if len(asked) > _ASKED_ONE_BY_ONE and all(b"/" in p for p in asked):
        return _listed_blobs(repo, base, asked)
    request = b"".join(base.encode() + b":" + p + b"\n" for p in asked)
    out = repo.git(*gittune.TREE_READ_CONFIG, "cat-file", "--batch-check", input=request).stdout
    lines = (out if isinstance(out, bytes) else out.encode()).splitlines()
    if len(lines) != len(asked):
        raise ValueError("git cat-file --batch-check answered too few requests")
    blobs = {}
    for path, line in zip(asked, lines):
        fields = line.split(b" ")
        if len(fields) == 3 and fields[1] == b"blob":
            blobs[path] = fields[0]
    return blobs


def deleted_by_the_other_side(
    repo: "GitRepo",
    theirs_ref: str,
    ours_lacks: Sequence[tuple[bytes, bytes]],
    theirs_lacks: Sequence[tuple[bytes, bytes]],
    base: str | None = None,
) -> tuple[set[bytes], set[bytes]]:
    """(ours' files, theirs' files) git's merge deletes: a side deleted them since the merge
    base and the other kept them as they were there.

    ``theirs_lacks``: (path from the repository root, blob id in hex) of ours'
    files that theirs does not hold; ``ours_lacks`` the other way round. The
    merged tree has none of these: a revision one side removed (a ``git
    revert`` of the commit that added it, say) is gone after the merge,
    though the other side still carries it. A file the other side changed
    meanwhile is kept (git stops on it: modify/delete). One ``git merge-base``
    and one ``git cat-file --batch-check``, asked only about these files.
    """
    held = _merge_base_blobs(repo, theirs_ref, [p for p, _ in chain(ours_lacks, theirs_lacks)], base)
    if not held:
        return set(), set()
    gone_ours = {p for p, oid in theirs_lacks if held.get(p) == oid}
    gone_theirs = {p for p, oid in ours_lacks if held.get(p) == oid}
    return gone_ours, gone_theirs


# A commit as git names it during a merge (GITHEAD_<sha>) or a rebase (an abbreviated sha).
_HEX_REF = re.compile(r"[0-9a-fA-F]{4,64}")


def _read_one_folder(
    repo: "GitRepo", folder: str, theirs_ref: str, cache_dir: Path | None, early: "EarlyRead | None" = None
):
    """One versions folder: both sides' commits and folder trees from one ``git cat-file --batch``.

    Git reads the second tree mostly from its delta-base cache, so this costs
    about what reading one tree costs; the difference is taken here: as sets
    of whole entries when both trees hold only plain revision files
    (``_plain_changes``), else by comparing each name's blob on both sides.
    git writes to a file while the facts index loads (or, with ``early``,
    while the driver imported and read its configuration). Returns ours'
    (names, blob ids), the names theirs removed or changed, theirs' new
    (name, blob id) pairs, the index, and the folder (the prefix that makes
    a name a path).
    """
    request = _one_folder_request(folder, theirs_ref)
    argv, cwd, environ = _tree_batch_call(repo)
    batch = early if early is not None and early.same(argv, cwd, environ, request) else None
    if early is not None and batch is None:
        early.stop()  # not the read this decision makes
    if batch is None:
        batch = EarlyRead(argv, cwd, environ, request)
    index = FactIndex(cache_dir)  # while git reads
    out = batch.output()
    if out is None:  # git failed (or could not start): again as a plain call, which says why
        out = repo.git("cat-file", "--batch", input=request).stdout
    ours_commit, theirs_commit, ours_tree, theirs_tree = _batch_answers(out, 4)
    if ours_commit is None or theirs_commit is None or ours_commit[0] != b"commit" or theirs_commit[0] != b"commit":
        raise _Unsupported("HEAD or the incoming commit is not a commit")  # the reference says why
    oid_size = len(ours_commit[2]) // 2
    for side, answer in ((ours_commit[2], ours_tree), (theirs_commit[2], theirs_tree)):
        if (answer is None or answer[0] != b"tree") and _hidden_folder(repo, side.decode(), folder):
            # A symlink at the folder or on the way to it (git keeps it as a blob
            # naming its target), or a submodule: the reference follows it.
            raise _Unsupported("a versions folder behind a symlink or inside a submodule")
    # No such folder, or a file in its place: the reference lists nothing below it either.
    ours_raw = ours_tree[1] if ours_tree and ours_tree[0] == b"tree" else b""
    theirs_raw = theirs_tree[1] if theirs_tree and theirs_tree[0] == b"tree" else b""
    plain = _plain_changes(ours_raw, theirs_raw, oid_size)
    if plain is not None:
        names, oids, removed, added = plain
        return names, oids, removed, added, index, folder.encode("utf-8", "surrogateescape") + b"/"
    entries = _tree_entries(ours_raw, oid_size)
    names, oids = _listed(*entries)
    removed, added = _tree_changes(ours_raw, entries, (names, oids), theirs_raw, oid_size)
    return names, oids, removed, added, index, folder.encode("utf-8", "surrogateescape") + b"/"


def _hidden_folder(repo: "GitRepo", treeish: str, folder: str) -> bool:
    """Whether ``folder``, which ``treeish`` does not hold as a tree, is one all the same:
    inside a submodule, or where a symlink on the way leads (a link that leads nowhere
    hides nothing; one that leaves the repository or loops is the reference's to report)."""
    from revgraph.errors import RevgraphError

    gitlinks, symlinks = repo._on_the_way(treeish, [folder])
    if gitlinks:
        return True
    if not symlinks:
        return False
    try:
        [real] = repo.real_folders(treeish, [folder])
    except RevgraphError:
        return True
    return repo.git("cat-file", "-t", f"{treeish}:{real}", ok=range(256)).stdout.strip() == b"tree"


def _batch_answers(out: bytes, count: int) -> list[tuple[bytes, bytes, bytes] | None]:
    """``git cat-file --batch`` output -> (type, content, object id) per request, None when missing."""
    answers: list[tuple[bytes, bytes, bytes] | None] = []
    pos = 0
    for _ in range(count):
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) == 3 and header[2].isdigit():
            size = int(header[2])
            answers.append((header[1], out[pos : pos + size], header[0]))
            pos += size + 1
        else:  # "<request> missing" or "<request> ambiguous"
            answers.append(None)
    return answers


def _read_folders(repo: "GitRepo", names: list[str], folders: Mapping[bytes, int], theirs_ref: str, cache_dir: Path | None):
    """Any number of versions folders: ``git ls-tree`` of ours and ``git diff-tree`` to theirs, at once.

    Returns what ``_read_one_folder`` returns.
    """
    ours = repo.resolve("HEAD")
    theirs = repo.resolve(theirs_ref)
    diff = _Background(repo.git, "diff-tree", "-r", "-z", "--no-renames", ours, theirs, "--", *names)
    listing = _Background(repo.git, "ls-tree", "-r", "-z", "--full-tree", ours, "--", *names)
    index = FactIndex(cache_dir)
    paths, oids = _listing(listing.result().stdout, folders)
    removed, added = _changes(diff.result().stdout, folders)
    ours_paths = set(paths)
    if not removed <= ours_paths or any(p in ours_paths and p not in removed for p, _ in added):
        raise _Unsupported("git's listing and diff disagree")
    # A folder behind a symlink (or in a submodule) lists nothing: only a side on which a
    # folder holds no revision file can hide one, so the usual read asks nothing more.
    held_ours = {path.rpartition(b"/")[0] for path in paths}
    held_theirs = {path.rpartition(b"/")[0] for path in chain((p for p in paths if p not in removed), (p for p, _ in added))}
    for side, held in ((ours, held_ours), (theirs, held_theirs)):
        empty = [name for name, encoded in zip(names, folders) if encoded not in held]
        if any(_hidden_folder(repo, side, name) for name in empty):
            raise _Unsupported("a versions folder behind a symlink or inside a submodule")
    return paths, oids, removed, added, index, b""


def _known(paths: Sequence[bytes], oids: Sequence[bytes], index: FactIndex) -> list[Fact | None]:
    """The index's fact for each file, None where it has none."""
    found = list(map(index.facts.get, oids))
    if None in found:  # a result that depends on its path is stored under blob + path
        found = [f if f is not None else index.get(oid, path) for path, oid, f in zip(paths, oids, found)]
    return found


def _fill(repo: "GitRepo", index: FactIndex, missing: Sequence[tuple[bytes, bytes]], cache_dir: Path | None) -> dict:
    """Facts of files the index lacks: from the parse cache, else read from git and parsed."""
    from revgraph.sources.cache import ParseCache
    from revgraph.sources.gitref import too_large

    filled: dict[tuple[bytes, bytes], Fact] = {}
    cache = ParseCache(cache_dir)
    to_read: dict[str, list[tuple[bytes, bytes]]] = {}
    for path, blob in missing:
        text_path = path.decode("utf-8", "surrogateescape")
        result = cache.get(blob.hex(), text_path)
        if result is None:
            to_read.setdefault(blob.hex(), []).append((path, blob))
            continue
        filled[(path, blob)] = _remember(index, blob, path, result, cache)
    requests = list(to_read)
    for start in range(0, len(requests), FILL_CHUNK):
        # In chunks: a cold 20k read never holds every file's bytes and parse
        # result at once (peak memory 152 MB instead of 180 MB, for ~5% more time).
        to_parse = []
        places = []
        for fetched in repo.blobs(requests[start : start + FILL_CHUNK]):
            for path, blob in to_read[fetched.request]:
                text_path = path.decode("utf-8", "surrogateescape")
                if fetched.status == "ok" and fetched.data is not None and fetched.oid is not None:
                    to_parse.append((fetched.data, text_path, fetched.oid))
                    places.append((path, blob))
                elif fetched.status == "too-large":
                    problem = too_large(text_path, fetched.size, fetched.oid)
                    filled[(path, blob)] = _remember(index, blob, path, problem, cache)
                else:  # unreadable now (a partial clone?): a conflict, not remembered
                    filled[(path, blob)] = PROBLEM
        for place, result in zip(places, cache.parse_many(to_parse)):
            filled[place] = _remember(index, place[1], place[0], result, cache)
    if requests:
        cache.save()
    return filled


FILL_CHUNK = 4000  # blobs read and parsed at once when neither the index nor the parse cache has them


def _remember(index: FactIndex, blob: bytes, path: bytes, result, cache) -> Fact:
    fact = fact_of(result)
    # Keyed as the parse cache keys it: by blob alone unless the result depends
    # on the file's name (no `revision =`: alembic's legacy rule; any problem).
    path_free = bool(fact) and blob.hex() in cache
    index.put(FactIndex.key(blob, path, path_free), fact)
    return fact
