"""Mermaid flowchart source: renders in GitHub PR comments and job summaries.

Node ids are ``n0``, ``n1``, ... (a revision id may hold any character);
labels are quoted and every character Mermaid or HTML could read as syntax is
written as a Mermaid entity (``#34;``), so a message cannot break the chart
or inject markup. The source is returned without the ```` ```mermaid ```` fence.

Several environments make one flowchart with a ``subgraph`` each: a Mermaid
block holds one diagram, and two ``flowchart`` lines in one block do not
parse. Their node ids carry the environment's number (``e1n0``), since each
environment numbers its nodes from ``n0``; the legend is shared.
"""

from __future__ import annotations

from typing import Sequence

from revgraph.render.graphview import (
    EDGE_STYLES,
    FocusedView,
    GraphView,
    ViewNode,
    focus,
    legend_lines,
    legend_view,
    node_style,
    printable,
    styles_present,
    truncate,
)

MESSAGE_LIMIT = 48
# Mermaid reads these inside a quoted label (quotes, markup, entities, comments).
# "%%{...}%%" is a directive wherever it stands in the source, quoted labels and
# comments included: one in a message would restyle or hide the review picture.
_ENTITIES = {c: f"#{ord(c)};" for c in '"<>&#`%{}'}
_ARROWS = {"down": "-->", "depends": "-.->", "collapsed": "-.->", "proposed": "-. proposed .->"}


# Mermaid's ``maxEdges`` default (GitHub's renderer keeps it): a chart with more
# links is refused whole ("Edge limit exceeded").
MAX_EDGES = 500


# Mermaid's ``maxTextSize`` default (GitHub's renderer keeps it too): a longer source
# is replaced whole by "Maximum text size in diagram exceeded". JavaScript counts
# UTF-16 code units, so a name outside the BMP counts twice.
MAX_TEXT_SIZE = 50_000


def refusal(source: str) -> str | None:
    """Why Mermaid (with its defaults, as GitHub runs it) would draw an error box
    instead of ``source``, or None when it draws it."""
    links = edge_count(source)
    if links > MAX_EDGES:
        return f"it has {links} links, more than Mermaid draws by default ({MAX_EDGES})"
    size = len(source.encode("utf-16-le")) // 2
    if size > MAX_TEXT_SIZE:
        return f"it is {size:,} characters long, more than Mermaid reads by default ({MAX_TEXT_SIZE:,})"
    return None


def edge_count(source: str) -> int:
    """The links of a Mermaid source as ``render_mermaid`` writes them."""
    arrows = tuple(f" {arrow} " for arrow in _ARROWS.values())
    return sum(1 for line in source.splitlines() if any(arrow in line for arrow in arrows))


def mermaid_for_review(view: GraphView, *, context: int = 2) -> str:
    """The ``--focus new`` picture the markdown and github outputs embed."""
    return render_mermaid(focus(view, "new", context))


def render_mermaid(view: FocusedView | GraphView) -> str:
    """Mermaid source for ``view``; a bare ``GraphView`` is focused on what is new."""
    if isinstance(view, GraphView):
        view = focus(view, "new")
    ids = {node.id: f"n{i}" for i, node in enumerate(view.nodes)}
    lines = ["flowchart BT"]
    if view.title:
        lines.insert(0, f"%% {escape_label(view.title)}")  # names a ref and an environment
    if not view.nodes:
        lines.append('    empty["no revisions"]')
        return "\n".join(lines) + "\n"
    for node in view.nodes:
        lines.append(f'    {ids[node.id]}["{_label(node)}"]')
    for edge in view.edges:
        lines.append(f"    {ids[edge.parent]} {_ARROWS[edge.kind]} {ids[edge.child]}")
    lines.extend(_link_styles(view))
    lines.extend(_legend(view))
    lines.extend(_classes(view, ids))
    return "\n".join(lines) + "\n"


def render_mermaid_environments(views: Sequence[tuple[str, FocusedView]]) -> str:
    """One flowchart for several environments (``(name, view)`` each): a subgraph per environment."""
    lines = ["flowchart BT"]
    ids: dict[str, str] = {}  # this environment's revision id -> Mermaid id
    members: dict[str, list[str]] = {}  # style name -> Mermaid ids, every environment
    link_styles: list[str] = []
    links = 0  # linkStyle counts every link of the chart, in the order they are written
    for number, (name, view) in enumerate(views):
        prefix = f"e{number}"
        ids = {node.id: f"{prefix}n{i}" for i, node in enumerate(view.nodes)}
        lines.append(f'    subgraph env{number} ["{escape_label(view.title or name)}"]')
        if not view.nodes:
            lines.append(f'        {prefix}empty["no revisions"]')
        for node in view.nodes:
            lines.append(f'        {ids[node.id]}["{_label(node)}"]')
            members.setdefault(node_style(node).name, []).append(ids[node.id])
        for edge in view.edges:
            lines.append(f"        {ids[edge.parent]} {_ARROWS[edge.kind]} {ids[edge.child]}")
        lines.append("    end")
        link_styles.extend(_link_styles(view, offset=links))
        links += len(view.edges)
    lines.extend(link_styles)
    shared = legend_view(view for _, view in views)
    if shared.nodes:
        lines.extend(_legend(shared))
        lines.extend(_class_lines(shared, members))
    return "\n".join(lines) + "\n"


def escape_label(text: str) -> str:
    """Text safe inside a quoted Mermaid label: entities for syntax, one line."""
    return "".join(_ENTITIES.get(c, c) for c in _one_line(text))


def _one_line(text: str) -> str:
    return " ".join(printable(text).split())


def _label(node: ViewNode) -> str:
    if node.is_placeholder:  # with the folded range, as the tree and dot name it
        return f"{escape_label(node.title)}<br/>{escape_label(node.summary)}"
    head = node.title + (f" ({', '.join(node.branch_labels)})" if node.branch_labels else "")
    parts = [f"<b>{escape_label(head)}</b>"]
    if node.summary:
        parts.append(escape_label(truncate(node.summary, MESSAGE_LIMIT)))
    if node.tags:
        parts.append(escape_label(node.tags))
    return "<br/>".join(parts)


def _link_styles(view: FocusedView, offset: int = 0) -> list[str]:
    lines = []
    for index, edge in enumerate(view.edges, start=offset):
        if edge.kind in ("proposed", "collapsed"):
            style = EDGE_STYLES[edge.kind]
            lines.append(
                f"    linkStyle {index} stroke:{style.color},stroke-width:{style.width}px,"
                f"stroke-dasharray:{style.dash}"
            )
    return lines


def _legend(view: FocusedView) -> list[str]:
    text = "<br/>".join(escape_label(line) for line in legend_lines(view))
    return ["    subgraph legend [Legend]", f'        legendtext["{text}"]', "    end"]


def _classes(view: FocusedView, ids: dict[str, str]) -> list[str]:
    members: dict[str, list[str]] = {}
    for node in view.nodes:
        members.setdefault(node_style(node).name, []).append(ids[node.id])
    return _class_lines(view, members)


def _class_lines(view: FocusedView, members: dict[str, list[str]]) -> list[str]:
    """``classDef`` for each style ``view`` uses, and the Mermaid ids (``members``) wearing it."""
    lines = []
    for style in styles_present(view):
        dash = ",stroke-dasharray:5 3" if style.dashed else ""
        lines.append(
            f"    classDef {style.name} fill:{style.fill},stroke:{style.stroke},"
            f"stroke-width:{style.width}px,color:#1f2328{dash}"
        )
        lines.append(f"    class {','.join(members[style.name])} {style.name}")
    lines.append("    classDef legendbox fill:#ffffff,stroke:#d0d7de,color:#57606a")
    lines.append("    class legendtext legendbox")
    return lines
