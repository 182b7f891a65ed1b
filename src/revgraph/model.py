"""The domain model: revisions and the revision graph, with alembic's semantics.

Pure: no files, no git. The graph algorithms run on plain dicts (so that a
cache hit or the merge driver never pays for importing networkx); the networkx
``DiGraph`` is built on demand by :meth:`RevisionGraph.to_networkx` for
rendering and for callers that want networkx's algorithms.

Semantics follow ``alembic.script.revision.RevisionMap``:

* heads consider ``down_revision`` only (a ``depends_on`` edge does not make
  its target a non-head);
* bases are revisions whose ``down_revision`` is ``None`` / empty;
* when two files declare the same id, the one read last wins (alembic's map
  overwrites), and the duplicate is recorded as a problem;
* ``depends_on`` may name a revision id, a branch label, or (revgraph only,
  like alembic's command-line resolution) a unique id prefix of 4+ chars:
  drawn as an edge, and listed in ``depends_by_prefix`` because alembic's own
  map cannot load it (RG104 says so).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from types import MappingProxyType
from typing import TYPE_CHECKING, Container, Iterable, Iterator, Mapping

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx


@dataclass(frozen=True)
class Span:
    """A byte range ``[start, end)`` in a file's source, and its 1-based line."""

    start: int
    end: int
    line: int


def resolve_name(name: str, ids: Iterable[str], labels: Mapping[str, str]) -> str | None:
    """What a ``depends_on`` entry names: an id, a branch label, or a unique id prefix of 4+ chars.

    ``ids`` is anything with ``in`` and iteration over ids (a graph's
    revisions, or the merge driver's union of two sides' ids).
    """
    if name in ids:  # type: ignore[operator]
        return name
    if name in labels:
        return labels[name]
    if len(name) > 3:
        matches = [rid for rid in ids if rid.startswith(name)]
        if len(matches) == 1:
            return matches[0]
    return None


def _is_compact(raw: tuple) -> bool:
    return len(raw) == 2 and isinstance(raw[1], bytes)


class PackedSpans(Mapping):
    """``Revision.spans`` kept packed, built into Spans on first use.

    A 20k-revision read makes seven spans per file; most are never asked for
    (only edits and reported positions need them). Two packed forms:
    ``(key, start, end, line)`` tuples, as the reader makes them, and
    ``(keys, numbers)`` (``numbers``: start, end, line of each key as
    little-endian uint32), as the parse cache stores them: three objects
    instead of ~25 per file, which is most of the cost of loading the cache.
    """

    __slots__ = ("_raw", "_spans")

    def __init__(self, raw: tuple) -> None:
        self._raw = raw
        self._spans: dict[str, Span] | None = None

    @property
    def raw(self) -> tuple:
        return self._raw

    @property
    def compact(self) -> tuple:
        """The ``(keys, numbers)`` form (the same object when already compact)."""
        raw = self._raw
        if _is_compact(raw):
            return raw
        numbers = [n for item in raw for n in item[1:]]
        return (tuple(item[0] for item in raw), struct.pack(f"<{len(numbers)}I", *numbers))

    def _built(self) -> dict[str, Span]:
        if self._spans is None:
            raw = self._raw
            if _is_compact(raw):
                keys, packed = raw
                numbers = struct.unpack(f"<{len(packed) // 4}I", packed)
                self._spans = {
                    key: Span(numbers[3 * i], numbers[3 * i + 1], numbers[3 * i + 2]) for i, key in enumerate(keys)
                }
            else:
                self._spans = {key: Span(start, end, line) for key, start, end, line in raw}
        return self._spans

    def __getitem__(self, key: str) -> Span:
        return self._built()[key]

    def __contains__(self, key: object) -> bool:
        if self._spans is not None:
            return key in self._spans
        raw = self._raw
        if _is_compact(raw):
            return key in raw[0]
        for item in raw:  # a loop, not any(genexpr): asked once per parsed file
            if item[0] == key:
                return True
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(self._built())

    def __len__(self) -> int:
        raw = self._raw
        return len(raw[0]) if _is_compact(raw) else len(raw)  # keys are unique: each is written once

    def __repr__(self) -> str:
        return repr(self._built())

    def __reduce__(self) -> tuple:
        return (dict, (self._built(),))  # pickles as a plain dict


@dataclass(frozen=True)
class Revision:
    """One revision file, read statically.

    ``spans`` keys (each present when found in the file):
    ``revision``, ``down_revision``, ``branch_labels``, ``depends_on`` -- the
    span of the assigned *value* literal; ``revises_line`` -- the value part of
    the docstring's ``Revises:`` line (after ``Revises:`` and spaces, up to
    the line end, excluding the newline); ``revision_id_line`` -- likewise for
    ``Revision ID:``; ``docstring`` -- the whole module docstring literal.
    """

    id: str
    down_revisions: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    path: str = ""
    blob_id: str | None = None
    message: str | None = None
    create_date: str | None = None
    doc_revision_id: str | None = None
    doc_revises: str | None = None
    spans: Mapping[str, Span] = field(default_factory=dict, compare=False, hash=False)
    ignores: frozenset[str] = frozenset()  # codes from "# revgraph: ignore[RG301]"; "*" = all
    # (code, line) of the first comment naming each of ``ignores``, by code: where RG404 points.
    ignore_lines: tuple[tuple[str, int], ...] = field(default=(), compare=False, hash=False)
    # What upgrade() touches, read statically from op.* calls: "table:users",
    # "column:users.email", "index:ix_users_email", ... (RG301).
    touches: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_base(self) -> bool:
        return not self.down_revisions

    @property
    def is_merge(self) -> bool:
        return len(self.down_revisions) > 1

    def line_of(self, key: str = "revision") -> int:
        span = self.spans.get(key) or self.spans.get("revision")
        return span.line if span else 1


@dataclass(frozen=True)
class ParseProblem:
    """A file in a versions folder that could not be read statically (RG107)."""

    path: str
    line: int
    reason: str
    blob_id: str | None = None

    def describe(self) -> str:
        """RG107's words, ``path:line: cannot be read statically: reason``: every
        output that names such a file (``check``, ``diff``) says it the same way."""
        return f"{self.path}:{self.line}: cannot be read statically: {self.reason}"


@dataclass(frozen=True)
class Dangling:
    """``down_revision`` or ``depends_on`` of ``revision`` names nothing."""

    revision: str
    target: str
    kind: str  # "down" | "depends" | "prefix" (see RevisionGraph.depends_by_prefix)


@dataclass(frozen=True)
class LabelProblem:
    label: str
    revisions: tuple[str, ...]
    reason: str  # "declared twice" | "collides with a revision id"


def branch_label_owners(
    declared: Iterable[tuple[str, Iterable[str]]], ids: Container[str]
) -> tuple[dict[str, str], list[LabelProblem]]:
    """RG106's rule, on plain data: ``declared`` is (revision id, its branch labels) in
    file order; ``ids`` every revision id. Returns label -> declaring id (the first
    declaration wins; a label that is another revision's id names nothing) and the
    problems. ``RevisionGraph`` and the merge driver (``gitops.union``) both use it.
    """
    labels: dict[str, str] = {}
    problems: list[LabelProblem] = []
    for rid, declared_labels in declared:
        for label in declared_labels:
            if label in ids and label != rid:
                problems.append(LabelProblem(label, (rid, label), "collides with a revision id"))
            elif labels.setdefault(label, rid) != rid:
                problems.append(LabelProblem(label, (labels[label], rid), "declared twice"))
    return labels, problems


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    # The common cases, one parent or a merge of two: no work, no allocation.
    if isinstance(items, tuple) and (
        len(items) < 2 or (len(items) == 2 and items[0] != items[1])
    ):
        return items
    return tuple(dict.fromkeys(items))


# Label lineages walk from each label's owner until they have visited this
# many revisions per revision of the graph, then sweep in topological order.
_LABEL_WALK_BUDGET = 1.0

# Linear prefix scans are cheaper than sorting all ids until this many lookups.
_PREFIX_SCANS = 4


class RevisionGraph:
    """An immutable revision graph built from revisions.

    Never raises for a broken history: duplicates, dangling references, label
    problems and cycles are recorded in ``duplicates``, ``dangling``,
    ``label_problems`` and ``cycles``.

    Construction reads each revision once and finds heads, bases, labels
    and problems other than cycles; the rest (cycles, branch points,
    children, a topological order, label lineages) is computed on first use
    and kept: the graph never changes, so none of it can go stale, and a
    graph built for its ids or heads only never pays for it.
    """

    def __init__(self, revisions: Iterable[Revision]) -> None:
        # At 20,000 revisions, touching each Revision object is what costs
        # (they lie all over memory): one loop reads the fields every
        # revision needs, then the work goes to the few "odd" revisions
        # (bases, merges, labels, depends_on, dangling parents) and to C-level
        # set operations. Four graphs are built per `check`.
        revs = revisions if isinstance(revisions, (tuple, list)) else list(revisions)
        by_id: dict[str, Revision] = {}
        parents_down: dict[str, tuple[str, ...]] = {}
        odd: list[Revision] = []
        for rev in revs:
            rid = rev.id
            by_id[rid] = rev  # last one wins, as in alembic; the id keeps its first place
            downs = parents_down[rid] = rev.down_revisions
            if len(downs) != 1 or rev.depends_on or rev.branch_labels:
                odd.append(rev)
        self.revisions: Mapping[str, Revision] = by_id
        self.duplicates: Mapping[str, tuple[Revision, ...]] = {}
        if len(by_id) != len(revs):
            seen: dict[str, list[Revision]] = {}
            for rev in revs:
                seen.setdefault(rev.id, []).append(rev)
            self.duplicates = {rid: tuple(rs) for rid, rs in seen.items() if len(rs) > 1}
            odd = [  # the winners only
                rev for rev in by_id.values()
                if len(rev.down_revisions) != 1 or rev.depends_on or rev.branch_labels
            ]
        # Every name down_revision uses; a revision no one names is a head.
        named = set(chain.from_iterable(parents_down.values()))
        heads = by_id.keys() - named
        if len(named) + len(heads) != len(by_id) or set(map(type, parents_down.values())) - {
            tuple
        }:  # a down_revision names nothing, or is not a tuple: those are odd too
            odd = [
                rev
                for rev, downs in zip(by_id.values(), parents_down.values())
                if len(downs) != 1 or rev.depends_on or rev.branch_labels
                or type(downs) is not tuple or downs[0] not in by_id
            ]

        # Branch labels: a label maps to the revision that declares it.
        labels, label_problems = branch_label_owners(
            [(rev.id, rev.branch_labels) for rev in odd if rev.branch_labels], by_id
        )
        self.labels: Mapping[str, str] = labels
        self.label_problems: tuple[LabelProblem, ...] = tuple(label_problems)

        # Edges. A usual revision's down_revisions tuple is its parents as is
        # (no copy); the odd ones take the careful path, in file order so
        # that ``dangling`` keeps its order.
        dangling: list[Dangling] = []
        by_prefix: list[Dangling] = []
        bases: list[str] = []
        merge_points: list[str] = []
        children_dep: dict[str, list[str]] = {}
        resolved_deps: dict[str, tuple[str, ...]] = {}  # only where depends_on resolves
        with_deps: dict[str, tuple[str, ...]] = {}  # parents incl. depends_on, where they differ
        resolve = self._resolver(by_id, labels)
        for rev in odd:
            rid = rev.id
            raw = rev.down_revisions
            downs = _dedupe(tuple(raw))
            present = downs
            for parent in downs:
                if parent not in by_id:
                    dangling.append(Dangling(rid, parent, "down"))
                    present = tuple(p for p in downs if p in by_id)
            parents_down[rid] = present
            if not raw:
                bases.append(rid)
            elif len(raw) > 1 and len(set(raw)) > 1:
                merge_points.append(rid)
            if not rev.depends_on:
                continue
            deps: list[str] = []
            for dep in rev.depends_on:
                target = resolve(dep)
                if target is None:
                    dangling.append(Dangling(rid, dep, "depends"))
                else:
                    if target != dep and dep not in labels:
                        by_prefix.append(Dangling(rid, dep, "prefix"))
                    deps.append(target)
                    children_dep.setdefault(target, []).append(rid)
            resolved = _dedupe(deps)
            if resolved:
                resolved_deps[rid] = resolved
                with_deps[rid] = _dedupe(present + resolved)
        self.dangling: tuple[Dangling, ...] = tuple(dangling)
        # depends_on entries that name a revision by an id prefix (kind "prefix"):
        # drawn as edges, but alembic's map takes full ids and labels only and
        # raises KeyError on these, so RG104 reports each.
        self.depends_by_prefix: tuple[Dangling, ...] = tuple(by_prefix)
        # Parents are asked for constantly (walks, cycle search): compute once.
        self._parents_down = parents_down
        self._parents_all: dict[str, tuple[str, ...]] = (
            {**parents_down, **with_deps} if with_deps else parents_down
        )
        self._with_deps = with_deps
        self._odd_ids = [rev.id for rev in odd]
        self._children_dep = children_dep
        self._resolved_deps = resolved_deps
        self.heads: tuple[str, ...] = tuple(sorted(heads))
        self.bases: tuple[str, ...] = tuple(sorted(bases))
        self.merge_points: tuple[str, ...] = tuple(sorted(merge_points))

    # ------------------------------------------------------------ derived
    @property
    def parent_map(self) -> Mapping[str, tuple[str, ...]]:
        """``parents(rid)`` of every revision at once (down_revision only), read-only."""
        return MappingProxyType(self._parents_down)

    @cached_property
    def irregular(self) -> frozenset[str]:
        """Revisions that are not simply "one parent, present, nothing else".

        Bases, merges, revisions with branch labels or depends_on, a dangling
        or repeated parent, or a down_revisions that is not a tuple. Every
        other revision's ``parents()`` is its ``down_revisions`` object
        itself: fast paths may compare those and look closer at these few.
        """
        return frozenset(self._odd_ids)

    @cached_property
    def resolved_depends_on(self) -> Mapping[str, tuple[str, ...]]:
        """Each revision's depends_on as revision ids (unresolvable names left out)."""
        return {**dict.fromkeys(self.revisions, ()), **self._resolved_deps}

    @cached_property
    def branch_points(self) -> tuple[str, ...]:
        """Revisions that several revisions name in ``down_revision``."""
        from collections import Counter

        counts = Counter(chain.from_iterable(self._parents_down.values()))
        return tuple(sorted(rid for rid, n in counts.items() if n > 1))

    @cached_property
    def cycles(self) -> tuple[tuple[str, ...], ...]:
        """Strongly connected components (down_revision and depends_on) of size > 1, and self-loops."""
        return self._find_cycles()

    @cached_property
    def _children_down(self) -> dict[str, list[str]]:
        """parent -> children through down_revision, in file order; only parents that have some."""
        kids: dict[str, list[str]] = {}
        for rid, parents in self._parents_down.items():
            for parent in parents:
                if parent in kids:
                    kids[parent].append(rid)
                else:
                    kids[parent] = [rid]
        return kids

    @cached_property
    def _peeled(self) -> list[str]:
        """Kahn's peel over down_revision and depends_on edges: parents first.

        Holds every revision when the graph has no cycle; otherwise what is
        left out is on a cycle or descends from one.
        """
        parents_all = self._parents_all
        kids: Mapping[str, list[str]] = self._children_down
        if self._with_deps:
            # depends_on edges that are not also down_revision edges (a
            # revision's parents are counted once in its pending count).
            kids = dict(kids)
            for rid in self._with_deps:
                downs = self._parents_down[rid]
                for target in self._resolved_deps[rid]:
                    if target not in downs:
                        kids[target] = [*kids.get(target, ()), rid]
        # Only odd revisions can have no parent or several: every other one
        # is ready as soon as its one parent is placed, and needs no count.
        order: list[str] = []
        pending: dict[str, int] = {}
        for rid in self._odd_ids:
            count = len(parents_all[rid])
            if count == 0:
                order.append(rid)
            elif count > 1:
                pending[rid] = count
        get = kids.get
        append = order.append
        for rid in order:  # grows while we walk it: each ready child is appended
            for kid in get(rid, ()):
                if kid in pending:
                    left = pending[kid] - 1
                    if left:
                        pending[kid] = left
                        continue
                append(kid)
        return order

    def topological_order(self) -> tuple[str, ...] | None:
        """Every revision, each after its parents (down_revision and depends_on).

        ``None`` when the graph has a cycle. Computed once per graph.
        """
        order = self._peeled
        return tuple(order) if len(order) == len(self.revisions) else None

    # ------------------------------------------------------------------ lookup
    _resolve_in = staticmethod(resolve_name)

    @staticmethod
    def _resolver(by_id: Mapping[str, Revision], labels: Mapping[str, str]):
        """``_resolve_in`` for many names: past a few prefix lookups, bisect sorted ids.

        A history full of dangling depends_on would otherwise scan every id
        once per name.
        """
        from bisect import bisect_left

        ids: list[str] = []
        scans = 0

        def resolve(name: str) -> str | None:
            nonlocal ids, scans
            if name in by_id:
                return name
            if name in labels:
                return labels[name]
            if len(name) <= 3:
                return None
            if scans < _PREFIX_SCANS:
                scans += 1
                return RevisionGraph._resolve_in(name, by_id, {})
            if not ids:
                ids = sorted(by_id)
            # Ids starting with ``name`` sort together, from bisect_left on.
            at = bisect_left(ids, name)
            if at == len(ids) or not ids[at].startswith(name):
                return None
            following = ids[at + 1] if at + 1 < len(ids) else ""
            return None if following.startswith(name) else ids[at]

        return resolve

    def resolve(self, name: str) -> str | None:
        """A revision id for an id, a branch label or a unique id prefix."""
        return self._resolve_in(name, self.revisions, self.labels)

    def __contains__(self, rid: object) -> bool:
        return rid in self.revisions

    def __len__(self) -> int:
        return len(self.revisions)

    def __iter__(self) -> Iterator[Revision]:
        return iter(self.revisions.values())

    def __getitem__(self, rid: str) -> Revision:
        return self.revisions[rid]

    # --------------------------------------------------------------- structure
    def parents(self, rid: str, *, include_depends: bool = False) -> tuple[str, ...]:
        if rid not in self.revisions:
            raise KeyError(rid)
        return self._parents_all[rid] if include_depends else self._parents_down[rid]

    def children(self, rid: str, *, include_depends: bool = False) -> tuple[str, ...]:
        kids = tuple(self._children_down.get(rid, ()))
        if include_depends:
            kids = _dedupe(kids + tuple(self._children_dep.get(rid, ())))
        return kids

    def ancestors(self, rid: str, *, include_depends: bool = False) -> set[str]:
        """Every revision reachable downward from ``rid`` (excluding it)."""
        if rid not in self.revisions:
            raise KeyError(rid)
        step = self._parents_all if include_depends else self._parents_down
        return self._reach(rid, step.__getitem__)

    def descendants(self, rid: str, *, include_depends: bool = False) -> set[str]:
        if not include_depends:
            kids = self._children_down
            return self._reach(rid, lambda r: kids.get(r, ()))
        return self._reach(rid, lambda r: self.children(r, include_depends=True))

    @staticmethod
    def _reach(rid: str, step) -> set[str]:
        """What ``step`` reaches from ``rid``, without ``rid`` (even on a cycle)."""
        seen = {rid}
        stack = [rid]
        while stack:
            for nxt in step(stack.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        seen.discard(rid)
        return seen

    def closure(self, rids: Iterable[str]) -> set[str]:
        """``rids`` and all their ancestors (down_revision and depends_on)."""
        start = [r for r in rids if r in self.revisions]
        return self._walk(start, self._parents_all.__getitem__)

    @staticmethod
    def _walk(start: Iterable[str], step) -> set[str]:
        seen: set[str] = set()
        stack = list(start)
        while stack:
            rid = stack.pop()
            if rid in seen:
                continue
            seen.add(rid)
            stack.extend(step(rid))
        return seen

    # ------------------------------------------------------------------ labels
    def labels_of(self, rid: str) -> tuple[str, ...]:
        """Branch labels whose line contains ``rid``.

        A label applies to the revision declaring it, to its ancestors and to
        its descendants, as alembic's ``filter_for_lineage`` treats them.
        """
        mask = self._label_masks_down.get(rid, 0) | self._label_masks_up.get(rid, 0)
        return tuple(sorted(self._labels_in(mask))) if mask else ()

    def lineage_labels(self, rid: str) -> frozenset[str]:
        """Branch labels declared by ``rid`` or one of its ancestors (down_revision only)."""
        if rid not in self.revisions:
            raise KeyError(rid)
        return self._labels_in(self._label_masks_down.get(rid, 0))

    # Labels as bits of an int (bit i = the i-th label of ``self.labels``).
    # Few labels, each owning a line: a walk from each owner is cheapest
    # (no topological order needed). Many labels on one line would make
    # those walks cover the graph again and again: past a budget of one
    # visit per revision, a sweep in topological order ORs each revision's
    # bits into its neighbours instead, one pass whatever the label count.
    def _labels_in(self, mask: int) -> frozenset[str]:
        cache = self._label_sets
        found = cache.get(mask)
        if found is None:
            names = list(self.labels)
            found = cache[mask] = frozenset(
                names[bit] for bit in range(len(names)) if mask >> bit & 1
            )
        return found

    @cached_property
    def _label_sets(self) -> dict[int, frozenset[str]]:
        return {0: frozenset()}

    @cached_property
    def _label_masks_down(self) -> dict[str, int]:
        """rid -> bits of the labels declared by it or its ancestors; absent: none."""
        if not self.labels:
            return {}
        kids = self._children_down
        return self._spread_labels(lambda rid: kids.get(rid, ()), downward=True)

    @cached_property
    def _label_masks_up(self) -> dict[str, int]:
        """rid -> bits of the labels declared by it or its descendants; absent: none."""
        if not self.labels:
            return {}
        return self._spread_labels(self._parents_down.__getitem__, downward=False)

    def _spread_labels(self, step, *, downward: bool) -> dict[str, int]:
        owners: dict[str, int] = {}
        for bit, owner in enumerate(self.labels.values()):
            owners[owner] = owners.get(owner, 0) | (1 << bit)
        masks = dict(owners)
        budget = _LABEL_WALK_BUDGET * len(self.revisions)
        for owner, bits in owners.items():
            if budget < 0:
                order = self.topological_order()
                if order is not None:
                    return self._sweep_labels(owners, order, step, downward)
            seen = {owner}
            stack = [owner]
            while stack:
                for nxt in step(stack.pop()):
                    if nxt not in seen:
                        seen.add(nxt)
                        stack.append(nxt)
                        masks[nxt] = masks.get(nxt, 0) | bits
            budget -= len(seen)
        return masks

    @staticmethod
    def _sweep_labels(owners: dict[str, int], order, step, downward: bool) -> dict[str, int]:
        masks = dict(owners)
        get = masks.get
        for rid in order if downward else reversed(order):
            bits = get(rid)
            if bits:
                for nxt in step(rid):
                    masks[nxt] = get(nxt, 0) | bits
        return masks

    def _find_cycles(self) -> tuple[tuple[str, ...], ...]:
        """Strongly connected components of size > 1, and self-loops.

        Iterative Tarjan over down_revision and depends_on edges: a 10,000
        long cycle must not hit the recursion limit.
        """
        # Fast path: a topological peel (Kahn) that consumes every revision
        # proves there is no cycle; Tarjan runs only on what is left.
        peeled = self._peeled
        if len(peeled) == len(self.revisions):
            return ()
        done = set(peeled)
        leftover = [rid for rid in self._parents_all if rid not in done]

        index: dict[str, int] = {}
        low: dict[str, int] = {}
        on_stack: set[str] = set()
        stack: list[str] = []
        counter = 0
        result: list[tuple[str, ...]] = []

        succ = self._parents_all.__getitem__

        for root in leftover:
            if root in index:
                continue
            work: list[tuple[str, Iterator[str]]] = [(root, iter(succ(root)))]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            while work:
                node, it = work[-1]
                advanced = False
                for nxt in it:
                    if nxt not in index:
                        index[nxt] = low[nxt] = counter
                        counter += 1
                        stack.append(nxt)
                        on_stack.add(nxt)
                        work.append((nxt, iter(succ(nxt))))
                        advanced = True
                        break
                    if nxt in on_stack:
                        low[node] = min(low[node], index[nxt])
                if advanced:
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in succ(node):
                        result.append(tuple(sorted(component)))
        return tuple(sorted(result))

    # ------------------------------------------------------------- conversion
    def to_networkx(self) -> "nx.DiGraph":
        """A networkx DiGraph, edge parent -> child, ``kind`` = down|depends."""
        import networkx as nx

        g = nx.DiGraph()
        for rev in self.revisions.values():
            g.add_node(rev.id, revision=rev)
        for rev in self.revisions.values():
            for parent in self.parents(rev.id):
                g.add_edge(parent, rev.id, kind="down")
            for dep in self.resolved_depends_on.get(rev.id, ()):
                if not g.has_edge(dep, rev.id):
                    g.add_edge(dep, rev.id, kind="depends")
        return g


@dataclass(frozen=True)
class Snapshot:
    """The revisions of one environment as found in one place.

    ``source`` says where: ``"worktree"``, ``"index"`` or the ref as the user
    gave it; ``commit`` is the resolved commit sha for refs (``None`` for the
    working tree). ``paths`` of revisions and problems are POSIX paths relative
    to the repository root (or to the project root outside git).
    """

    environment: str
    source: str
    revisions: tuple[Revision, ...] = ()
    problems: tuple[ParseProblem, ...] = ()
    commit: str | None = None

    def graph(self) -> RevisionGraph:
        return RevisionGraph(self.revisions)
