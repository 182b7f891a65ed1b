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
  like alembic's command-line resolution) a unique id prefix of 4+ chars.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx


@dataclass(frozen=True)
class Span:
    """A byte range ``[start, end)`` in a file's source, and its 1-based line."""

    start: int
    end: int
    line: int


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


@dataclass(frozen=True)
class Dangling:
    """``down_revision`` or ``depends_on`` of ``revision`` names nothing."""

    revision: str
    target: str
    kind: str  # "down" | "depends"


@dataclass(frozen=True)
class LabelProblem:
    label: str
    revisions: tuple[str, ...]
    reason: str  # "declared twice" | "collides with a revision id"


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    if isinstance(items, tuple) and len(items) < 2:
        return items  # the common case: no work, no allocation
    return tuple(dict.fromkeys(items))


class RevisionGraph:
    """An immutable revision graph built from revisions.

    Never raises for a broken history: duplicates, dangling references, label
    problems and cycles are recorded in ``duplicates``, ``dangling``,
    ``label_problems`` and ``cycles``.
    """

    def __init__(self, revisions: Iterable[Revision]) -> None:
        by_id: dict[str, Revision] = {}
        seen: dict[str, list[Revision]] = {}
        for rev in revisions:
            seen.setdefault(rev.id, []).append(rev)
            by_id[rev.id] = rev  # last one wins, as in alembic
        self.revisions: Mapping[str, Revision] = by_id
        self.duplicates: Mapping[str, tuple[Revision, ...]] = {
            rid: tuple(revs) for rid, revs in seen.items() if len(revs) > 1
        }

        # Branch labels: a label maps to the revision that declares it.
        labels: dict[str, str] = {}
        label_problems: list[LabelProblem] = []
        for rev in by_id.values():
            for label in rev.branch_labels:
                if label in by_id and by_id[label].id != rev.id:
                    label_problems.append(
                        LabelProblem(label, (rev.id, label), "collides with a revision id")
                    )
                elif label in labels and labels[label] != rev.id:
                    label_problems.append(
                        LabelProblem(label, (labels[label], rev.id), "declared twice")
                    )
                else:
                    labels[label] = rev.id
        self.labels: Mapping[str, str] = labels
        self.label_problems: tuple[LabelProblem, ...] = tuple(label_problems)

        # Edges. children_down: parent -> children through down_revision.
        dangling: list[Dangling] = []
        children_down: dict[str, list[str]] = {rid: [] for rid in by_id}
        children_dep: dict[str, list[str]] = {rid: [] for rid in by_id}
        resolved_deps: dict[str, tuple[str, ...]] = {}
        parents_down: dict[str, tuple[str, ...]] = {}
        for rev in by_id.values():
            downs = _dedupe(tuple(rev.down_revisions))
            present = downs
            for parent in downs:
                if parent in by_id:
                    children_down[parent].append(rev.id)
                else:
                    dangling.append(Dangling(rev.id, parent, "down"))
                    present = tuple(p for p in downs if p in by_id)
            parents_down[rev.id] = present
            if not rev.depends_on:
                resolved_deps[rev.id] = ()
                continue
            deps: list[str] = []
            for dep in rev.depends_on:
                target = self._resolve_in(dep, by_id, labels)
                if target is None:
                    dangling.append(Dangling(rev.id, dep, "depends"))
                else:
                    deps.append(target)
                    children_dep[target].append(rev.id)
            resolved_deps[rev.id] = _dedupe(deps)
        self.dangling: tuple[Dangling, ...] = tuple(dangling)
        # Parents are asked for constantly (walks, cycle search): compute once.
        self._parents_down = parents_down
        self._parents_all: dict[str, tuple[str, ...]] = {
            rid: (_dedupe(downs + resolved_deps[rid]) if resolved_deps[rid] else downs)
            for rid, downs in self._parents_down.items()
        }
        self._labels_by_rev: dict[str, tuple[str, ...]] | None = None
        self._children_down = children_down
        self._children_dep = children_dep
        self.resolved_depends_on: Mapping[str, tuple[str, ...]] = resolved_deps

        self.heads: tuple[str, ...] = tuple(
            sorted(rid for rid, kids in children_down.items() if not kids)
        )
        self.bases: tuple[str, ...] = tuple(
            sorted(rid for rid, rev in by_id.items() if not rev.down_revisions)
        )
        self.branch_points: tuple[str, ...] = tuple(
            sorted(rid for rid, kids in children_down.items() if len(kids) > 1)
        )
        self.merge_points: tuple[str, ...] = tuple(
            sorted(rid for rid, rev in by_id.items() if len(rev.down_revisions) > 1 and len(set(rev.down_revisions)) > 1)
        )
        self.cycles: tuple[tuple[str, ...], ...] = self._find_cycles()

    # ------------------------------------------------------------------ lookup
    @staticmethod
    def _resolve_in(
        name: str, by_id: Mapping[str, Revision], labels: Mapping[str, str]
    ) -> str | None:
        if name in by_id:
            return name
        if name in labels:
            return labels[name]
        if len(name) > 3:
            matches = [rid for rid in by_id if rid.startswith(name)]
            if len(matches) == 1:
                return matches[0]
        return None

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
        return self._walk([rid], lambda r: self.parents(r, include_depends=include_depends)) - {rid}

    def descendants(self, rid: str, *, include_depends: bool = False) -> set[str]:
        return self._walk([rid], lambda r: self.children(r, include_depends=include_depends)) - {
            rid
        }

    def closure(self, rids: Iterable[str]) -> set[str]:
        """``rids`` and all their ancestors (down_revision and depends_on)."""
        start = [r for r in rids if r in self.revisions]
        return self._walk(start, lambda r: self.parents(r, include_depends=True))

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

    def labels_of(self, rid: str) -> tuple[str, ...]:
        """Branch labels whose line contains ``rid``.

        A label applies to the revision declaring it, to its ancestors and to
        its descendants, as alembic's ``filter_for_lineage`` treats them.
        """
        if self._labels_by_rev is None:
            by_rev: dict[str, set[str]] = {}
            for label, owner in self.labels.items():
                line = {owner} | self.ancestors(owner) | self.descendants(owner)
                for member in line:
                    by_rev.setdefault(member, set()).add(label)
            self._labels_by_rev = {r: tuple(sorted(ls)) for r, ls in by_rev.items()}
        return self._labels_by_rev.get(rid, ())

    def _find_cycles(self) -> tuple[tuple[str, ...], ...]:
        """Strongly connected components of size > 1, and self-loops.

        Iterative Tarjan over down_revision and depends_on edges: a 10,000
        long cycle must not hit the recursion limit.
        """
        # Fast path: a topological peel (Kahn) that consumes every revision
        # proves there is no cycle; Tarjan runs only on what is left.
        pending = {rid: len(ps) for rid, ps in self._parents_all.items()}
        kids: dict[str, list[str]] = {rid: [] for rid in pending}
        for rid, ps in self._parents_all.items():
            for p in ps:
                kids[p].append(rid)
        ready = [rid for rid, n in pending.items() if n == 0]
        while ready:
            rid = ready.pop()
            for kid in kids[rid]:
                pending[kid] -= 1
                if pending[kid] == 0:
                    ready.append(kid)
        leftover = [rid for rid, n in pending.items() if n > 0]
        if not leftover:
            return ()

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
