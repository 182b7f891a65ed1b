"""The input of every graph picture: a marked revision graph and the part of it to show.

``build_view`` marks each revision (head, base, new, landed, merge, conflict,
edited, repointed); ``focus`` picks what to draw and folds the rest into
placeholder nodes ("… 412 revisions …"), so that every format (tree, Mermaid,
DOT, SVG, HTML, JSON) draws the same selection; focus ``all`` folds nothing.
Pure: data in, data out.

Edges run parent -> child as in ``RevisionGraph.to_networkx``; every picture
puts the newest revisions at the top, like ``git log --graph``.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from revgraph.errors import UsageError
from revgraph.model import Revision, RevisionGraph

MARKS = ("head", "base", "new", "landed", "merge", "conflict", "edited", "repointed", "orphan")
# Marks a reviewer must see: focus "new" starts from revisions that carry one.
NOTABLE = frozenset({"new", "conflict", "edited", "repointed", "orphan"})
EDGE_KINDS = ("down", "depends", "proposed", "collapsed")
FOCUS_MODES = ("new", "compact", "all")
GRAPH_FORMATS = ("tree", "mermaid", "dot", "svg", "png", "html", "json")

PLACEHOLDER_MARK = "collapsed"
MIN_COLLAPSE_NEW = 3  # focus "new": runs shorter than this stay visible
LONG_RUN_COMPACT = 8  # focus "compact": only runs longer than this collapse ...
LARGE_GRAPH = 200  # ... and only in graphs larger than this

MARK_MEANINGS = {
    "head": "no revision builds on it",
    "base": "no down_revision",
    "new": "not on base",
    "landed": "already on base",
    "merge": "merge point",
    "conflict": "part of a finding",
    "edited": "landed revision, edited",
    "repointed": "landed revision, re-pointed",
    "orphan": "its down_revision names a revision that is not here (RG104)",
}
EDGE_MEANINGS = {
    "down": "solid: down_revision",
    "depends": "dashed: depends_on",
    "proposed": "red dashed: proposed by the fix",
    "collapsed": "dotted: through collapsed revisions",
}


# --------------------------------------------------------------------- input
@dataclass(frozen=True)
class GraphView:
    """A revision graph with marks per revision id and the fix's proposed edges."""

    graph: RevisionGraph
    marks: Mapping[str, frozenset[str]]
    proposed_edges: tuple[tuple[str, str], ...] = ()  # (parent, child)
    title: str = ""
    # The other files of an id declared more than once (RG103), each with its
    # marks: the graph keeps one file per id, as alembic does, but a picture of
    # the collision must show both.
    copies: tuple[tuple[Revision, frozenset[str]], ...] = ()

    def marks_of(self, rid: str) -> frozenset[str]:
        return self.marks.get(rid, frozenset())


def build_view(
    graph: RevisionGraph,
    *,
    new: Iterable[str] = (),
    landed: Iterable[str] = (),
    conflict: Iterable[str] = (),
    edited: Iterable[str] = (),
    repointed: Iterable[str] = (),
    proposed: Iterable[tuple[str, str]] = (),
    title: str = "",
    landed_files: Iterable[tuple[str, str]] | None = None,
) -> GraphView:
    """Mark ``graph``; head, base and merge marks come from the graph itself.

    Ids that ``graph`` does not hold are ignored: a finding may name a revision
    from the other side of a merge that this snapshot does not have. An id
    declared by several files is drawn once per file; with ``landed_files``
    (``(id, path)`` of base's files) each of those files is new or landed by
    its own path, not by the id they share.
    """
    given = {
        "new": set(new),
        "landed": set(landed),
        "conflict": set(conflict),
        "edited": set(edited),
        "repointed": set(repointed),
    }
    structural = {
        "head": set(graph.heads),
        "base": set(graph.bases),
        "merge": set(graph.merge_points),
        # Drawn apart from its line (no edge to a parent that is not there):
        # without a mark it reads as a second history.
        "orphan": {d.revision for d in graph.dangling if d.kind == "down"},
    }
    marks: dict[str, frozenset[str]] = {}
    for rid in sorted(graph.revisions):
        marks[rid] = frozenset(
            name for name, members in (*structural.items(), *given.items()) if rid in members
        )
    landed_at = set(landed_files) if landed_files is not None else None
    copies: list[tuple[Revision, frozenset[str]]] = []
    for rid in sorted(graph.duplicates):
        kept = graph[rid]
        if landed_at is not None:
            marks[rid] = _by_file(marks[rid], (rid, kept.path) in landed_at)
        for rev in graph.duplicates[rid]:
            if rev is kept:
                continue
            own = {m for m in marks[rid] if m in ("head", "new", "landed", "conflict")}  # children name the id
            if not rev.down_revisions:
                own.add("base")
            elif len(set(rev.down_revisions)) > 1:
                own.add("merge")
            copy_marks = frozenset(own)
            if landed_at is not None:
                copy_marks = _by_file(copy_marks, (rid, rev.path) in landed_at)
            copies.append((rev, copy_marks))
    edges = sorted({(p, c) for p, c in proposed if p in graph and c in graph and p != c})
    return GraphView(graph=graph, marks=marks, proposed_edges=tuple(edges), title=title, copies=tuple(copies))


def _by_file(marks: frozenset[str], landed: bool) -> frozenset[str]:
    """``marks`` with new/landed set by whether this file (not its id) is on base."""
    return (marks - {"new", "landed"}) | {"landed" if landed else "new"}


def copy_node_id(rev: Revision) -> str:
    """The node id of another file of an id (``GraphView.copies``): unique, shown as its id."""
    return f"{rev.id} @ {rev.path}"


# -------------------------------------------------------------------- output
@dataclass(frozen=True)
class ViewNode:
    """A revision to draw, or a placeholder standing for ``hidden`` revisions."""

    id: str  # unique in its view: the revision id (a second file of an id: ``copy_node_id``)
    marks: frozenset[str] = frozenset()
    message: str = ""
    path: str = ""
    branch_labels: tuple[str, ...] = ()
    create_date: str | None = None
    hidden: int = 0  # placeholders only: how many revisions it stands for
    first: str = ""  # placeholders only: oldest and newest hidden revision
    last: str = ""
    revision: str = ""  # the revision id, when ``id`` is not (a second file of an id)

    @property
    def is_placeholder(self) -> bool:
        return self.hidden > 0

    @property
    def title(self) -> str:
        """What the node is called in every picture."""
        return placeholder_label(self.hidden) if self.is_placeholder else self.revision or self.id

    @property
    def summary(self) -> str:
        """The message's first line (placeholders: the hidden range)."""
        if self.is_placeholder:
            return f"{self.first} … {self.last}"
        return first_line(self.message)

    @property
    def mark_list(self) -> tuple[str, ...]:
        """Marks in the fixed ``MARKS`` order (placeholders: ``collapsed``)."""
        if self.is_placeholder:
            return (PLACEHOLDER_MARK,)
        return tuple(m for m in MARKS if m in self.marks)

    @property
    def tags(self) -> str:
        """``[head] [new]`` -- the marks as text."""
        return " ".join(f"[{m}]" for m in self.mark_list if m != PLACEHOLDER_MARK)


@dataclass(frozen=True)
class ViewEdge:
    parent: str
    child: str
    kind: str  # one of EDGE_KINDS
    # depends edges: the depends_on ids it stands for, sorted. They differ from
    # ``parent`` when it is a placeholder: text naming the target names these.
    targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class FocusedView:
    """What a picture draws: nodes parents-first, edges, and a title.

    ``nodes`` are in a topological order (parents before children, ties by
    id); ``edges`` are sorted. Both are deterministic for the same input.
    """

    nodes: tuple[ViewNode, ...]
    edges: tuple[ViewEdge, ...]
    title: str = ""
    mode: str = "all"
    total: int = 0  # revisions in the whole graph
    _index: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {n.id: i for i, n in enumerate(self.nodes)})

    def node(self, node_id: str) -> ViewNode:
        return self.nodes[self._index[node_id]]

    def position(self, node_id: str) -> int:
        """Index of ``node_id`` in ``nodes`` (its place in the topological order)."""
        return self._index[node_id]

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._index

    @property
    def revision_count(self) -> int:
        """Revisions drawn as their own node."""
        return sum(1 for n in self.nodes if not n.is_placeholder)

    @property
    def marks_present(self) -> tuple[str, ...]:
        found = {m for n in self.nodes for m in n.mark_list}
        return tuple(m for m in (*MARKS, PLACEHOLDER_MARK) if m in found)

    @property
    def edge_kinds_present(self) -> tuple[str, ...]:
        found = {e.kind for e in self.edges}
        return tuple(k for k in EDGE_KINDS if k in found)


def placeholder_label(count: int) -> str:
    return f"… {count:,} revision{'' if count == 1 else 's'} …"


def first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """``text`` with control characters (which no picture format can carry) as U+FFFD."""
    return _CONTROL.sub("\ufffd", text)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


# --------------------------------------------------------------------- focus
def focus(view: GraphView, mode: str = "new", context: int = 2) -> FocusedView:
    """Select what to draw and fold the rest into placeholders.

    ``new``: the new, conflicting, edited and re-pointed revisions (or the heads
    when there are none), ``context`` down_revision generations below them,
    every head, both ends of each proposed edge, and the nearest revision
    declaring a branch label below each of them and each head (which labelled
    line it is on); every other group of at least ``MIN_COLLAPSE_NEW``
    revisions becomes one placeholder.
    ``compact``: everything, except that in graphs over ``LARGE_GRAPH``
    revisions, linear runs of more than ``LONG_RUN_COMPACT`` unmarked
    revisions become placeholders.
    ``all``: every revision, whatever the size: the user asked for all of it,
    and the JSON is node-link data that scripts load as the whole graph.
    """
    if mode not in FOCUS_MODES:
        raise UsageError(f"unknown focus {mode!r}; choose one of: {', '.join(FOCUS_MODES)}")
    if context < 0:
        raise UsageError(f"--context must be 0 or more, not {context}")
    graph = view.graph
    order = topological_order(graph.revisions, lambda r: graph.parents(r, include_depends=True))
    if mode == "new":
        kept = _review_selection(view, context)
        groups = _hidden_groups(graph, order, kept)
        groups = [g for g in groups if len(g) >= MIN_COLLAPSE_NEW]
    elif mode == "compact" and len(graph) > LARGE_GRAPH:
        groups = [run for run in _linear_runs(view, order) if len(run) > LONG_RUN_COMPACT]
    else:
        groups = []
    return _assemble(view, mode, groups)


def default_focus(view: GraphView) -> str:
    """The focus when none is asked for: ``new`` when there is something new to review,
    else ``compact`` (a history of thousands stays readable; ``all`` is asked for)."""
    return "new" if any("new" in marks for marks in view.marks.values()) else "compact"


def _review_selection(view: GraphView, context: int) -> set[str]:
    graph = view.graph
    anchors = {rid for rid, marks in view.marks.items() if marks & NOTABLE and rid in graph}
    # A second file of an id is drawn with its parents, which start a context of their own.
    anchors.update(p for rev, marks in view.copies if marks & NOTABLE for p in rev.down_revisions if p in graph)
    if not anchors:
        anchors = set(graph.heads)
    kept = set(anchors) | set(graph.heads)
    kept.update(rid for edge in view.proposed_edges for rid in edge)
    seen = set(anchors)
    frontier = set(anchors)
    for _ in range(context):
        frontier = {p for rid in frontier for p in graph.parents(rid)} - seen
        seen |= frontier
    return kept | seen | _label_declarers(graph, set(anchors) | set(graph.heads))


def _label_declarers(graph: RevisionGraph, starts: Iterable[str]) -> set[str]:
    """The nearest revision declaring a branch label below each of ``starts``.

    On a history of labelled lines (``expand`` and ``contract``, say) the label
    is written once, on the line's first revision; folded into a placeholder,
    the picture no longer says which line a new revision continues. Each path
    down from a start (down_revision only) ends at its first declarer, so
    several labels stacked on one line keep only the nearest; a path with no
    label below it is not walked.
    """
    if not graph.labels:
        return set()
    owners = set(graph.labels.values())
    found: set[str] = set()
    seen: set[str] = set()
    stack = [rid for rid in starts if rid in graph]
    while stack:
        rid = stack.pop()
        if rid in seen:
            continue
        seen.add(rid)
        if rid in owners:
            found.add(rid)
            continue
        stack.extend(p for p in graph.parents(rid) if p not in seen and graph.lineage_labels(p))
    return found


def _hidden_groups(graph: RevisionGraph, order: Sequence[str], kept: set[str]) -> list[list[str]]:
    """Connected groups of revisions outside ``kept`` that can fold into one node each.

    Two hidden revisions share a group only when the same kept revisions lie
    below them: that key only grows along an edge, so no path can leave a
    group and come back, and the folded picture stays acyclic.
    """
    bit = {rid: 1 << i for i, rid in enumerate(sorted(kept))}
    below: dict[str, int] = {}
    for rid in order:
        key = bit.get(rid, 0)
        for parent in graph.parents(rid, include_depends=True):
            key |= below.get(parent, 0)  # absent only across a cycle's back edge
        below[rid] = key

    owner: dict[str, str] = {rid: rid for rid in order if rid not in kept}

    def find(rid: str) -> str:
        while owner[rid] != rid:
            owner[rid] = owner[owner[rid]]
            rid = owner[rid]
        return rid

    for rid in owner:
        for parent in graph.parents(rid, include_depends=True):
            if parent in owner and below[parent] == below[rid]:
                a, b = find(parent), find(rid)
                if a != b:
                    owner[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = {}
    for rid in order:  # topological order inside each group
        if rid in owner:
            groups.setdefault(find(rid), []).append(rid)
    return list(groups.values())


def _linear_runs(view: GraphView, order: Sequence[str]) -> list[list[str]]:
    """Maximal chains of unmarked revisions with one parent, one child and no depends_on."""
    graph = view.graph
    proposed = {rid for edge in view.proposed_edges for rid in edge}
    plain = {
        rid
        for rid in order
        if len(graph.parents(rid, include_depends=True)) == 1
        and len(graph.children(rid, include_depends=True)) == 1
        and not graph.resolved_depends_on.get(rid)
        and not graph[rid].branch_labels
        and not view.marks_of(rid) - {"landed"}
        and rid not in proposed
    }
    runs: list[list[str]] = []
    for rid in order:
        if rid not in plain or graph.parents(rid)[0] in plain:
            continue
        run = [rid]
        members = {rid}
        while True:
            (child,) = graph.children(run[-1], include_depends=True)
            if child not in plain or child in members:
                break
            run.append(child)
            members.add(child)
        runs.append(run)
    return runs


def _assemble(view: GraphView, mode: str, groups: list[list[str]]) -> FocusedView:
    graph = view.graph
    owner: dict[str, str] = {rid: rid for rid in graph.revisions}
    placeholders: dict[str, ViewNode] = {}
    for group in groups:
        pid = f"collapsed:{group[0]}"
        placeholders[pid] = ViewNode(id=pid, hidden=len(group), first=group[0], last=group[-1])
        for rid in group:
            owner[rid] = pid

    copies = [(rev, marks, copy_node_id(rev)) for rev, marks in view.copies]
    targets: dict[tuple[str, str], set[str]] = {}
    edges = _folded_edges(graph, owner, placeholders, [(rev, nid) for rev, _, nid in copies], targets)
    for parent, child in view.proposed_edges:
        key = (owner[parent], owner[child])
        if key[0] != key[1] and key not in edges:
            edges[key] = "proposed"

    nodes = dict(placeholders)
    for rid, own in owner.items():
        if own == rid:
            rev = graph[rid]
            nodes[rid] = ViewNode(
                id=rid,
                marks=view.marks_of(rid),
                message=rev.message or "",
                path=rev.path,
                branch_labels=tuple(rev.branch_labels),
                create_date=rev.create_date,
            )
    for rev, marks, nid in copies:  # a second file of an id
        nodes[nid] = ViewNode(
            id=nid, marks=marks, message=rev.message or "", path=rev.path,
            branch_labels=tuple(rev.branch_labels), create_date=rev.create_date, revision=rev.id,
        )  # fmt: skip
    structural = {k: v for k, v in edges.items() if v != "proposed"}
    parents_of: dict[str, list[str]] = {nid: [] for nid in nodes}
    for parent, child in structural:
        parents_of[child].append(parent)
    order = topological_order(nodes, lambda nid: parents_of[nid])
    return FocusedView(
        nodes=tuple(nodes[nid] for nid in order),
        edges=tuple(
            ViewEdge(p, c, k, tuple(sorted(targets.get((p, c), ()))) if k == "depends" else ())
            for (p, c), k in sorted(edges.items())
        ),
        title=view.title,
        mode=mode,
        total=len(graph) + len(view.copies),  # files: a second file of an id is drawn too
    )


_PRIORITY = {"down": 0, "collapsed": 1, "depends": 2}


def _folded_edges(
    graph: RevisionGraph, owner: Mapping[str, str], placeholders: Mapping[str, ViewNode],
    copies: Sequence[tuple[Revision, str]] = (),
    targets: dict[tuple[str, str], set[str]] | None = None,
) -> dict[tuple[str, str], str]:
    """Graph edges between drawn nodes; one edge per pair, down_revision first.

    ``copies``: the other files of an id declared twice, with their node ids,
    each drawn on its own parents (children that name the id go to the graph's file).
    ``targets``, when given, collects the depends_on ids behind each pair, since
    a placeholder's node id names none of them.
    """
    edges: dict[tuple[str, str], str] = {}

    def add(parent: str, child: str, kind: str) -> None:
        key = (owner[parent], child)
        if key[0] == key[1]:
            return
        if kind == "depends" and targets is not None:
            targets.setdefault(key, set()).add(parent)
        if kind == "down" and (key[0] in placeholders or key[1] in placeholders):
            kind = "collapsed"
        if key not in edges or _PRIORITY[kind] < _PRIORITY[edges[key]]:
            edges[key] = kind

    for rid in graph.revisions:
        for parent in graph.parents(rid):
            add(parent, owner[rid], "down")
        for dep in graph.resolved_depends_on.get(rid, ()):
            add(dep, owner[rid], "depends")
    for rev, node in copies:
        for parent in rev.down_revisions:
            if parent in owner:
                add(parent, node, "down")
        for dep in rev.depends_on:
            if dep in owner:
                add(dep, node, "depends")
    return edges


def topological_order(nodes: Iterable[str], parents_of) -> list[str]:
    """Parents before children, ties by id; a cycle is broken at its smallest id."""
    nodes = list(nodes)
    present = set(nodes)
    waiting: dict[str, int] = {}
    children: dict[str, list[str]] = {n: [] for n in nodes}
    for node in nodes:
        parents = [p for p in dict.fromkeys(parents_of(node)) if p in present and p != node]
        waiting[node] = len(parents)
        for parent in parents:
            children[parent].append(node)
    ready = [n for n in nodes if waiting[n] == 0]
    heapq.heapify(ready)
    done: set[str] = set()
    order: list[str] = []
    while len(order) < len(nodes):
        if not ready:  # only a cycle is left blocking: start it at its smallest id
            heapq.heappush(ready, min(n for n in nodes if n not in done))
        node = heapq.heappop(ready)
        if node in done:
            continue
        done.add(node)
        order.append(node)
        for child in children[node]:
            waiting[child] -= 1
            if waiting[child] == 0 and child not in done:
                heapq.heappush(ready, child)
    return order


# --------------------------------------------------------------------- style
@dataclass(frozen=True)
class NodeStyle:
    name: str  # a CSS / Mermaid class name
    fill: str
    stroke: str
    width: int
    dashed: bool = False
    meaning: str = ""


NODE_STYLES = {
    "newhead": NodeStyle("newhead", "#ffebe9", "#cf222e", 3, meaning="new head"),
    "conflict": NodeStyle("conflict", "#fff1e5", "#bc4c00", 3, False, "conflict (in a finding)"),
    "new": NodeStyle("new", "#dafbe1", "#1a7f37", 1, meaning="new (not on base)"),
    "edited": NodeStyle("edited", "#fbefff", "#8250df", 2, True, "landed, edited or re-pointed"),
    "head": NodeStyle("head", "#f6f8fa", "#24292f", 2, meaning="head"),
    "landed": NodeStyle("landed", "#f6f8fa", "#8c959f", 1, meaning="landed (on base)"),
    "plain": NodeStyle("plain", "#ffffff", "#57606a", 1, meaning="revision"),
    "placeholder": NodeStyle("placeholder", "#ffffff", "#8c959f", 1, True, "collapsed revisions"),
}


@dataclass(frozen=True)
class EdgeStyle:
    color: str
    width: int
    dash: str  # SVG stroke-dasharray, "" for solid


EDGE_STYLES = {
    "down": EdgeStyle("#57606a", 1, ""),
    "depends": EdgeStyle("#57606a", 1, "6 4"),
    "proposed": EdgeStyle("#cf222e", 2, "6 3"),
    "collapsed": EdgeStyle("#8c959f", 1, "2 3"),
}


def node_style(node: ViewNode) -> NodeStyle:
    """One style per node, the most urgent mark winning: new heads are red."""
    marks = node.marks
    if node.is_placeholder:
        name = "placeholder"
    elif {"new", "head"} <= marks:
        name = "newhead"
    elif "conflict" in marks:
        name = "conflict"
    elif "new" in marks:
        name = "new"
    elif marks & {"edited", "repointed"}:
        name = "edited"
    elif "head" in marks:
        name = "head"
    elif "landed" in marks:
        name = "landed"
    else:
        name = "plain"
    return NODE_STYLES[name]


def styles_present(view: FocusedView) -> tuple[NodeStyle, ...]:
    names = {node_style(n).name for n in view.nodes}
    return tuple(s for s in NODE_STYLES.values() if s.name in names)


def legend_lines(view: FocusedView) -> list[str]:
    """The legend as short lines: marks used, then edge kinds used."""
    lines = mark_legend(view)
    lines.extend(EDGE_MEANINGS[k] for k in view.edge_kinds_present)
    return lines


def mark_legend(view: FocusedView) -> list[str]:
    """``[new] not on base`` for each mark used, and the placeholder when present."""
    lines = [f"[{m}] {MARK_MEANINGS[m]}" for m in view.marks_present if m in MARK_MEANINGS]
    if PLACEHOLDER_MARK in view.marks_present:
        lines.append("… N revisions … collapsed revisions")
    return lines


def legend_view(views: Iterable[FocusedView]) -> FocusedView:
    """Every node and edge of ``views`` in one view, for a legend shared by all of them.

    Only what the legend helpers read (styles, marks, edge kinds) is meaningful:
    two environments may hold the same revision id, so this is no graph to draw.
    """
    views = list(views)
    return FocusedView(
        nodes=tuple(n for v in views for n in v.nodes),
        edges=tuple(e for v in views for e in v.edges),
    )


# ------------------------------------------------------------------ dispatch
def render_graphs(views: Sequence[tuple[str, FocusedView]], fmt: str) -> str | bytes:
    """One document of ``fmt`` for several environments' views, ``(name, view)`` each.

    A single environment is drawn exactly as ``render_graph`` draws it: the
    output of one environment is what users and their scripts already read.
    Several are drawn into one document (one JSON object, one SVG root, one
    HTML page, one Mermaid flowchart, one DOT digraph), because concatenated
    documents parse nowhere.
    """
    if fmt not in GRAPH_FORMATS:
        raise UsageError(f"unknown graph format {fmt!r}; choose one of: {', '.join(GRAPH_FORMATS)}")
    if len(views) == 1:
        return render_graph(views[0][1], fmt)
    if fmt == "tree":  # text for a person: one picture after another reads fine
        from revgraph.render.tree import render_tree

        return "\n".join(render_tree(view) for _, view in views)
    return _draw(fmt, views, several=True)


def render_graph(view: FocusedView, fmt: str) -> str | bytes:
    """Render ``view`` as ``fmt`` (one of ``GRAPH_FORMATS``); png returns bytes."""
    if fmt not in GRAPH_FORMATS:
        raise UsageError(f"unknown graph format {fmt!r}; choose one of: {', '.join(GRAPH_FORMATS)}")
    return _draw(fmt, view, several=False)


# Format -> (module under revgraph.render, its function); ``several`` calls the
# function's ``_environments`` twin. png is Graphviz's drawing of the dot source.
_DRAWERS = {
    "tree": ("tree", "render_tree"),
    "mermaid": ("mermaid", "render_mermaid"),
    "dot": ("dot", "render_dot"),
    "png": ("dot", "render_dot"),
    "svg": ("svg", "render_svg"),
    "html": ("html", "render_html"),
    "json": ("graphjson", "render_graph_json"),
}


def _draw(fmt: str, what, *, several: bool) -> str | bytes:
    """Draw ``what`` in ``fmt``, importing the format's module only now (as every renderer is)."""
    import importlib

    module, function = _DRAWERS[fmt]
    draw = getattr(importlib.import_module(f"revgraph.render.{module}"), function + ("_environments" if several else ""))
    out = draw(what)
    if fmt == "png":
        from revgraph.render.png import render_png

        return render_png(out)
    return out
